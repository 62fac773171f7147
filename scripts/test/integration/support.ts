/**
 * Shared helpers of the cross-part integration tests (scripts/test/integration):
 * temp dirs from fs.mkdtemp (parallel runs never share one), small scenarios,
 * registering a fleet in a real ledger, and the end-to-end checks every test
 * makes on the result: each reading a device produced is in the ledger exactly
 * once, byte for byte, in an unbroken chain, and the integrity checker
 * (ledger/store/fsck.ts) accepts the closed ledger directory.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import net from 'node:net'
import { pino } from 'pino'
import { createFleet, parseScenario, type Fleet, type Scenario } from '../../../device-sim/index.ts'
import { createBroker, hashServicePassword, type Broker } from '../../../broker/index.ts'
import { openLedger, readVerifierKey, type Ledger } from '../../../ledger/store/index.ts'
import { createIngest, type Ingest, type IngestOptions } from '../../../ledger/ingest/index.ts'
import { openLedgerDirReader } from '../../../ledger/store/index.ts'
import { checkLedger, type FsckReport } from '../../../ledger/store/index.ts'
import {
  decodeReading,
  equalBytes,
  fromBase64,
  GENESIS_PREV_HASH,
  readingHash,
  toHex,
} from '../../../ledger/protocol/index.ts'

/** A fixed simulated start in the past: device times are never ahead of the ledger clock. */
export const START = Date.parse('2026-11-20T06:00:00Z')

export async function tempDir(t: { teardown(fn: () => unknown): void }, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `coldproof-it-${prefix}-`))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Resolves true when `p` settles within `ms`, false otherwise (a liveness check: a hang fails instead of stalling the run). */
export function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<boolean>((r) => {
    timer = setTimeout(() => r(false), ms)
  })
  return Promise.race([
    p.then(
      () => true,
      () => true,
    ),
    timeout,
  ]).finally(() => clearTimeout(timer))
}

export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(20)
  }
}

export async function freePort(): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))
  const port = (s.address() as net.AddressInfo).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

/** One 2–8 °C shipment with `devices` loggers sampling every 5 simulated minutes for `durationMin` (durationMin/5 + 1 readings each). */
export function smallScenario(
  name: string,
  devices: string[],
  durationMin: number,
  extra: Record<string, unknown> = {},
): Scenario {
  return parseScenario({
    name,
    seed: 11,
    startAt: new Date(START).toISOString(),
    shipments: [
      {
        shipmentId: `shp-${name}`,
        product: 'test vaccine (2-8 °C)',
        storageClass: '2-8',
        ...extra,
        devices: devices.map((deviceId) => ({ deviceId })),
        legs: [
          { durationMin, model: 'reefer', setpointC: 5, doorOpeningsPerDay: 12, ambient: { meanC: 20, amplitudeC: 4 } },
        ],
      },
    ],
  })
}

/** Registers every device of the fleet in the ledger (as the start-up code's provisioning does). */
export async function registerFleet(ledger: Ledger, fleet: Fleet): Promise<void> {
  for (const rec of fleet.provisioningRecords()) await ledger.registerDevice({ ...rec, by: 'integration-test' })
}

export interface ChainCheck {
  /** Reading entries of the device in the log. */
  entries: number
  /** Distinct seqs among them. */
  distinct: number
  /** Entry payloads equal, byte for byte, the payloads the device produced for seq 1..n. */
  exact: boolean
  /** seq 1..n, each prevHash the hash of the one before (genesis for seq 1). */
  linked: boolean
}

/**
 * Compares what the ledger stored for a device with what the device produced
 * (`produced[i]` is the payload of seq i+1), scanning the whole log so that a
 * reading stored twice would be counted twice.
 */
export async function checkDeviceInLedger(
  ledger: Ledger,
  deviceId: string,
  produced: Uint8Array[],
): Promise<ChainCheck> {
  const all = (await ledger.entriesByType('reading')).filter((e) => e.entry.body.deviceId === deviceId)
  const bySeq = new Map<number, Uint8Array>()
  for (const e of all) bySeq.set(e.entry.body.seq, fromBase64(e.entry.body.payload))
  let exact = bySeq.size === produced.length
  let linked = true
  let prev = GENESIS_PREV_HASH
  for (let seq = 1; seq <= bySeq.size; seq++) {
    const p = bySeq.get(seq)
    if (!p) {
      linked = false
      exact = false
      break
    }
    const f = decodeReading(p).fields
    if (f.deviceId !== deviceId || f.seq !== seq || !equalBytes(f.prevHash, prev)) linked = false
    if (!produced[seq - 1] || !equalBytes(produced[seq - 1], p)) exact = false
    prev = readingHash(p)
  }
  return { entries: all.length, distinct: bySeq.size, exact, linked }
}

/** Runs the whole-ledger integrity checker on a closed ledger directory. */
export async function fsck(dir: string): Promise<FsckReport> {
  const reader = await openLedgerDirReader(dir)
  try {
    return await checkLedger(reader, { ledgerPublicKey: await readVerifierKey(dir) })
  } finally {
    await reader.close()
  }
}

export const describeFailure = (r: FsckReport) => (r.failure ? `: ${r.failure.code} ${r.failure.message}` : '')

/** Collects, per device, every payload the fleet produced (FleetOptions.onReading), in seq order. */
export function producedCollector(): {
  onReading: (deviceId: string, payload: Uint8Array) => void
  of: (deviceId: string) => Uint8Array[]
  total: () => number
} {
  const produced = new Map<string, Uint8Array[]>()
  return {
    onReading(deviceId, payload) {
      const list = produced.get(deviceId) ?? []
      // Sanity: the fleet hands readings over in seq order.
      if (decodeReading(payload).fields.seq !== list.length + 1)
        throw new Error(`${deviceId}: produced seq ${decodeReading(payload).fields.seq} after ${list.length}`)
      list.push(payload)
      produced.set(deviceId, list)
    },
    of: (deviceId) => produced.get(deviceId) ?? [],
    total: () => [...produced.values()].reduce((n, l) => n + l.length, 0),
  }
}

export const INGEST_USER = 'coldproof-ingest'
export const INGEST_PASSWORD = 'integration-test ingest password'
/** An 'observer' service account: may subscribe to every device topic, publish nothing. */
export const OBSERVER_USER = 'coldproof-observer'
export const OBSERVER_PASSWORD = 'integration-test observer password'
/** Cheaper than the default scrypt cost: tests log in a handful of times. */
const TEST_SCRYPT = { N: 2 ** 12, r: 8, p: 1 }
let ingestHash: Promise<string> | undefined
let observerHash: Promise<string> | undefined

/**
 * The real embedded broker wired as scripts/system.ts wires it: the ledger is
 * the device registry, the ingest is a service account. Unstarted.
 */
export async function embeddedBroker(ledger: Ledger, port = 0): Promise<Broker> {
  ingestHash ??= hashServicePassword(INGEST_PASSWORD, TEST_SCRYPT)
  observerHash ??= hashServicePassword(OBSERVER_PASSWORD, TEST_SCRYPT)
  return createBroker({
    registry: { lookupDevice: async (id) => ledger.lookupDevice(id) },
    serviceAccounts: {
      [INGEST_USER]: { passwordHash: await ingestHash, role: 'ingest' },
      [OBSERVER_USER]: { passwordHash: await observerHash, role: 'observer' },
    },
    host: '127.0.0.1',
    port,
    logger: pino({ level: 'silent' }),
  })
}

/** The ingest logged in to the broker at `url`, reconnecting quickly (tests restart what it talks to), started. */
export async function startIngest(ledger: Ledger, url: string): Promise<Ingest> {
  const ingest = createIngest({
    ledger,
    url,
    username: INGEST_USER,
    password: INGEST_PASSWORD,
    mqttOptions: { reconnectPeriod: 200 },
  })
  await ingest.start()
  return ingest
}

/** Readings each device of a bufferedFleet takes: one per 5 simulated minutes over 600 minutes, the first at the start. */
export const BUFFERED_READINGS = 600 / 5 + 1

/**
 * A fleet of `ids` with persisted buffers in `<dir>/devices` (what a device has not had
 * receipted survives restarts), streaming 5 simulated minutes per 50 ms (about 6 s)
 * to the broker at `url`, each produced reading collected. Unregistered, unstarted.
 */
export function bufferedFleet(
  dir: string,
  name: string,
  ids: string[],
  url: string,
): { fleet: Fleet; produced: ReturnType<typeof producedCollector> } {
  const produced = producedCollector()
  const fleet = createFleet({
    scenario: smallScenario(name, ids, 600),
    dataDir: join(dir, 'devices'),
    startMs: START,
    acceleration: 6000,
    mqtt: { url, mqttOptions: { reconnectPeriod: 200 } },
    log: () => {},
    onReading: produced.onReading,
  })
  return { fleet, produced }
}

export interface LedgerStack {
  ledger: Ledger
  broker: Broker
  ingest: Ingest
  /** The broker's URL. */
  url: string
  ledgerDir: string
  /** Stops the ingest, the broker and the ledger in order, leaving the ledger directory closed for fsck. */
  shutdown(): Promise<void>
}

/** A real ledger in `<dir>/ledger`, the embedded broker on a free port and the ingest logged in to it, each torn down once. */
export async function ledgerStack(
  t: { teardown(fn: () => unknown): void },
  dir: string,
  ingestOptions: Partial<IngestOptions> = {},
): Promise<LedgerStack> {
  const ledgerDir = join(dir, 'ledger')
  const ledger = await openLedger({ dir: ledgerDir })
  const open = { ledger: true, broker: true, ingest: true }
  t.teardown(async () => {
    if (open.ledger) await ledger.close()
  })
  const broker = await embeddedBroker(ledger)
  const { url } = await broker.listen()
  t.teardown(async () => {
    if (open.broker) await broker.close()
  })
  const ingest = createIngest({ ...ingestOptions, ledger, url, username: INGEST_USER, password: INGEST_PASSWORD })
  t.teardown(async () => {
    if (open.ingest) await ingest.close()
  })
  await ingest.start()
  return {
    ledger,
    broker,
    ingest,
    url,
    ledgerDir,
    async shutdown() {
      if (open.ingest) {
        open.ingest = false
        await ingest.close()
      }
      if (open.broker) {
        open.broker = false
        await broker.close()
      }
      if (open.ledger) {
        open.ledger = false
        await ledger.close()
      }
    },
  }
}

export { toHex }
