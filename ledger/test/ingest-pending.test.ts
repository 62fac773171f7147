/**
 * The ingest's `pending` figure (coldproof_ingest_pending) is the work it has
 * received and not yet made durable: with the ledger's writes held back it
 * counts every message that arrived, and it returns to 0 once they commit.
 * Each quarantined message is reported once its record is durable (the
 * start-up code logs it).
 */
import t from 'tap'
import { openLedger, type Ledger } from '../store/ledger.ts'
import { createIngest, type MessageQuarantined } from '../ingest/ingest.ts'
import { DeviceLoop, simDevice, startBroker, tempDir, waitFor, T0 } from './support.ts'

const NOW = T0 + 3_600_000

t.test('pending counts messages received and not yet durable; 0 once committed', async (t) => {
  const broker = await startBroker()
  const { dir, remove } = await tempDir()
  const ledger = await openLedger({ dir, clock: () => NOW, checkpointIntervalMs: 0 })
  const d = simDevice('probe-p', 7)
  await ledger.registerDevice({ deviceId: d.id, publicKey: d.publicKey, by: 'qa' })
  // The ledger with its reading writes held at a gate: what the ingest receives stays pending.
  let open!: () => void
  const gate = new Promise<void>((r) => {
    open = r
  })
  let held = 0
  const paused = new Proxy(ledger, {
    get(target, prop) {
      if (prop === 'appendReading')
        return async (...args: Parameters<Ledger['appendReading']>) => {
          held++
          await gate
          return target.appendReading(...args)
        }
      const v = Reflect.get(target, prop, target) as unknown
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
  const ingest = createIngest({ ledger: paused, url: broker.url, clientId: 'ingest-pending' })
  const events: MessageQuarantined[] = []
  ingest.on('quarantined', (q: MessageQuarantined) => void events.push(q))
  await ingest.start()
  const dev = new DeviceLoop(d)
  await dev.connect(broker.url)
  t.teardown(async () => {
    open()
    await ingest.close().catch(() => {})
    await dev.close().catch(() => {})
    await ledger.close().catch(() => {})
    await broker.close()
    await remove()
  })

  t.equal(ingest.stats().pending, 0, 'nothing pending at rest')
  for (let i = 0; i < 10; i++) dev.send(400 + i, T0 + i * 60_000)
  // A loaded machine may see copies too (the device re-sends unreceipted readings, the broker redelivers
  // unacknowledged ones): copies are duplicates of pending messages, not pending work of their own.
  await waitFor(() => ingest.stats().pending === 10, 'ten messages pending', 60_000).catch((e: Error) => {
    throw new Error(`${e.message}; stats ${JSON.stringify(ingest.stats())}, gated writes ${held}`)
  })
  t.ok(ingest.stats().received >= 10, 'all ten received')
  t.equal(ingest.stats().received, 10 + ingest.stats().duplicates, 'everything else received was a copy')
  // Judging awaits each signature check (on a worker thread), so the first write reaches the gate a little later.
  await waitFor(() => held >= 1, 'the first write waiting at the gate', 60_000)
  t.equal(ingest.stats().readings, 0, 'nothing committed')

  open()
  await waitFor(() => ingest.stats().readings === 10 && ingest.stats().pending === 0, 'all ten committed', 60_000)
  t.equal(ingest.stats().pending, 0, 'pending back to 0')

  // Five garbage messages: five durable quarantine records, each reported once.
  for (let i = 0; i < 5; i++) dev.client.publish(d.topic, Buffer.from(`garbage ${i}`), { qos: 1 })
  await waitFor(() => ingest.stats().quarantined === 5 && ingest.stats().pending === 0, 'five quarantined', 60_000)
  t.equal(events.length, 5, 'one event per quarantined message')
  t.match(
    events[0],
    { reason: 'ERR_READING_UNKNOWN_VERSION', deviceId: d.id, topic: d.topic, length: 9 },
    'with reason, device, topic and length',
  )
  t.ok(
    (await ledger.quarantined({ limit: 10 })).some((r) => r.id === events[0].id),
    'its record is in the quarantine',
  )
})
