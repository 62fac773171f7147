/**
 * The system under test, wired as `coldproof start` wires it: the embedded
 * broker, the ledger and its ingest in one process, optionally the dashboard
 * with its live stream. Differences from `start`, for measuring: no demo, no
 * per-device rate limit (a benchmark device publishes far faster than 50/s),
 * room for the 10,000-device stage, checkpoints by count only, and a live
 * stream that keeps a slow watcher (64 MiB unsent instead of 128 KiB): the
 * watcher shares the CPU with the publishers and would otherwise be dropped
 * as a non-reader, which measures the machine's load, not the stream.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { pino } from 'pino'
import type { FastifyInstance } from 'fastify'
import { toHex } from '../../ledger/protocol/index.ts'
import { openLedger, type Ledger } from '../../ledger/store/index.ts'
import { createIngest, type Ingest } from '../../ledger/ingest/index.ts'
import { createBroker, hashServicePassword, type Broker } from '../../broker/index.ts'
import { buildDashboard } from '../../dashboard/server/app.ts'
import { brokerSnapshot } from '../system.ts'
import { openUserStore } from '../../dashboard/server/users.ts'
import { BUILTIN_PROFILES, profileHash } from '../../dashboard/compliance/index.ts'
import { benchKey, benchSeed } from './signed-chain.ts'
import type { BenchDevice } from './publishers.ts'

export interface BenchServer {
  url: string
  ledger: Ledger
  ingest: Ingest
  broker: Broker
  /** With the dashboard: its base URL and an operator's session cookie. */
  http?: { base: string; cookie: string }
  close(): Promise<void>
}

/** A stage's devices: ids and seeds follow from the prefix alone, so another process can name the same fleet. */
export function benchDevices(prefix: string, count: number): BenchDevice[] {
  return Array.from({ length: count }, (_, i) => ({ deviceId: `${prefix}-${i}`, seed: benchSeed(prefix, i) }))
}

/** The devices of a stage, registered in the ledger; with `shipmentSize`, grouped into open shipments. */
export async function provisionDevices(
  ledger: Ledger,
  prefix: string,
  count: number,
  shipmentSize = 0,
  startAt = Date.now() - 60 * 86_400_000,
): Promise<BenchDevice[]> {
  const devices = benchDevices(prefix, count)
  await Promise.all(
    devices.map((d) =>
      ledger.registerDevice({ deviceId: d.deviceId, publicKey: toHex(benchKey(d.seed).publicKey), by: 'bench' }),
    ),
  )
  if (shipmentSize > 0) {
    const profile = BUILTIN_PROFILES['refrigerated-2-8']
    const writes = []
    for (let i = 0; i < count; i += shipmentSize) {
      writes.push(
        ledger.createShipment({
          shipmentId: `${prefix}-ship-${i / shipmentSize}`,
          product: 'Bench vaccine',
          route: { from: 'A', to: 'B' },
          devices: devices.slice(i, i + shipmentSize).map((d) => d.deviceId),
          profile,
          profileHash: profileHash(profile),
          startAt,
          by: 'bench',
        }),
      )
    }
    await Promise.all(writes)
  }
  return devices
}

/** `verifyThreads`: the ingest's signature-check threads (its default when omitted; 0 = on the main thread). */
export async function startBenchServer({
  dashboard = false,
  maxConnections = 11_000,
  dir,
  verifyThreads,
}: {
  dashboard?: boolean
  maxConnections?: number
  dir?: string
  verifyThreads?: number
} = {}): Promise<BenchServer> {
  const ownDir = dir ?? (await mkdtemp(join(tmpdir(), 'coldproof-bench-server-')))
  const stack: (() => Promise<unknown>)[] = []
  const close = async () => {
    while (stack.length) await stack.pop()!()
  }
  if (!dir) stack.push(() => rm(ownDir, { recursive: true, force: true }))
  try {
    const ledger = await openLedger({
      dir: join(ownDir, 'ledger'),
      checkpointIntervalMs: 0,
      checkpointEvery: 1_000_000,
    })
    stack.push(() => ledger.close())
    const password = randomBytes(18).toString('base64url')
    const broker = createBroker({
      registry: { lookupDevice: async (id) => ledger.lookupDevice(id) },
      serviceAccounts: { ingest: { passwordHash: await hashServicePassword(password), role: 'ingest' } },
      port: 0,
      rateLimit: false,
      maxConnections,
      logger: pino({ level: 'silent' }),
      // Every publisher process connects from 127.0.0.1, up to 100 devices at a time each: the per-address cap on
      // sockets that have not sent CONNECT yet (a guard against one host holding sockets open) would refuse them.
      maxIdleSockets: 2000,
      maxIdleSocketsPerAddress: 2000,
    })
    const { url } = await broker.listen()
    stack.push(() => broker.close())
    const ingest = createIngest({
      ledger,
      url,
      username: 'ingest',
      password,
      ...(verifyThreads !== undefined ? { verifyThreads } : {}),
    })
    await ingest.start()
    stack.push(() => ingest.close())
    let http: BenchServer['http']
    if (dashboard) {
      const login = { username: 'bench-operator', password: randomBytes(12).toString('base64url') }
      const users = await openUserStore({ file: join(ownDir, 'users.json'), seed: [{ ...login, role: 'operator' }] })
      const app: FastifyInstance = await buildDashboard({
        ledger,
        users,
        cookieSecret: randomBytes(32).toString('base64url'),
        logger: false,
        integrityCheckOnStart: false,
        stream: { maxBufferedBytes: 64 * 1024 * 1024 },
        brokerMetrics: () => brokerSnapshot(broker),
        ingestMetrics: () => {
          const st = ingest.stats()
          return { received: st.received, pending: st.pending }
        },
      })
      const base = await app.listen({ host: '127.0.0.1', port: 0 })
      stack.push(() => app.close())
      const res = await app.inject({ method: 'POST', url: '/api/login', payload: login })
      const c = res.cookies.find((x) => x.name === 'coldproof_session')
      if (res.statusCode !== 200 || !c) throw new Error(`bench login failed: ${res.statusCode} ${res.body}`)
      http = { base, cookie: `coldproof_session=${c.value}` }
    }
    return { url, ledger, ingest, broker, http, close }
  } catch (e) {
    await close()
    throw e
  }
}
