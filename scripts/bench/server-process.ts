/**
 * The system under test in a process of its own (forked by
 * server-process-client.ts), for the figures that belong to the server
 * process alone: its RSS is not mixed with what the benchmark's own process
 * kept from earlier stages. Commands arrive over IPC; every reply carries `ok`
 * or the error.
 *
 *   (on start)                        starts the bench server with the dashboard; replies {url}
 *   provision {prefix, count, shipmentSize}
 *                                     registers the devices (benchDevices) in open shipments
 *   sample                            samples this process's RSS every 500 ms from now on
 *   count                             replies {count}: readings committed so far
 *   until {target, stage}             replies {end} (wall ms) once the count reaches `target`
 *   samples                           stops sampling; replies {rss: bytes[]}
 *   close                             closes the server and exits
 */
import { commitTracker } from './commit-tracker.ts'
import { provisionDevices, startBenchServer } from './server.ts'

type Command =
  | { id: number; cmd: 'provision'; prefix: string; count: number; shipmentSize: number }
  | { id: number; cmd: 'sample' }
  | { id: number; cmd: 'count' }
  | { id: number; cmd: 'until'; target: number; stage: string }
  | { id: number; cmd: 'samples' }
  | { id: number; cmd: 'close' }

const reply = (msg: Record<string, unknown>) => process.send!(msg)

try {
  const server = await startBenchServer({ dashboard: true })
  const tracker = commitTracker(server.ingest)
  const rss: number[] = []
  let sampler: NodeJS.Timeout | undefined
  const sample = () => rss.push(process.memoryUsage().rss)
  process.on('message', async (m: Command) => {
    try {
      switch (m.cmd) {
        case 'provision':
          await provisionDevices(server.ledger, m.prefix, m.count, m.shipmentSize)
          return reply({ id: m.id, ok: true })
        case 'sample':
          sample()
          sampler ??= setInterval(sample, 500)
          return reply({ id: m.id, ok: true })
        case 'count':
          return reply({ id: m.id, ok: true, count: tracker.count() })
        case 'until':
          return reply({ id: m.id, ok: true, end: await tracker.until(m.target, m.stage) })
        case 'samples':
          clearInterval(sampler)
          sample()
          return reply({ id: m.id, ok: true, rss })
        case 'close':
          await server.close()
          reply({ id: m.id, ok: true })
          return process.exit(0)
      }
    } catch (e) {
      reply({ id: m.id, ok: false, error: (e as Error).message })
    }
  })
  reply({ ok: true, url: server.url })
} catch (e) {
  reply({ ok: false, error: (e as Error).message })
  process.exit(1)
}
