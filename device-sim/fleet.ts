/**
 * The fleet runner: every device of a scenario in one process, driven by ONE
 * timer. Each device's next sample time sits in a min-heap; the timer fires
 * for the earliest, the runner takes every sample that is due (yielding to
 * the event loop between batches), and re-arms the timer. 10,000 devices cost
 * one timer and one heap entry each, not 10,000 timers.
 *
 * Simulated time runs `acceleration` times faster than the wall clock:
 * simNow = simOrigin + (now − realOrigin) × acceleration. Samples are taken
 * at their scheduled simulated times, never at "whatever time it is now", so
 * the readings depend only on the scenario and the seed, not on timing.
 */
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  createDevice,
  defaultLogger,
  DEFAULT_RECEIPT_TIMEOUT_MS,
  type Device,
  type DeviceStatus,
  type Logger,
  type ProvisioningRecord,
  type SampleStep,
} from './device.ts'
import { SimError } from './errors.ts'
import { MinHeap } from './heap.ts'
import type { DeviceLink } from './link.ts'
import { createMqttLink, DEFAULT_AUDIENCE } from './mqtt-link.ts'
import { createRng, deriveSeed } from './rng.ts'
import { shipmentDurationMin, type DeviceSpec, type Scenario, type Shipment } from './scenario/index.ts'
import { createShipmentSim } from './shipment-sim.ts'
import { writeFileAtomicSync } from '../ledger/protocol/atomic-file.ts'
import type { Identity } from './identity.ts'
import type { IClientOptions } from 'mqtt'

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export interface FleetMqttOptions {
  url: string
  audience?: string
  /** A fixed password per device instead of the signed auth token (the NATS cluster mode, docs/SCALING.md). */
  password?: (deviceId: string) => string
  /** Connections opened per batch (default 100): thousands of TLS/TCP handshakes at once overwhelm a broker. */
  connectBatchSize?: number
  /** Pause between batches, ms of wall-clock time (default 50). */
  connectBatchDelayMs?: number
  /** Before opening the next batch, wait up to this long (ms, default 10000) for the current one to connect. */
  connectBatchTimeoutMs?: number
  mqttOptions?: Partial<IClientOptions>
  /** First reconnect delay after a failed connect, ms (default: mqttOptions.reconnectPeriod, else 1000); doubles per failure. */
  reconnectMinMs?: number
  /** Longest reconnect delay, ms (default 300000). */
  reconnectMaxMs?: number
}

export interface FleetOptions {
  scenario: Scenario
  /** Folder holding one sub-folder per device (key, chain state, buffer) and run.json; omit for memory only. */
  dataDir?: string
  /** Overrides the scenario's seed. */
  seed?: number
  /** Overrides the scenario's acceleration; Infinity samples as fast as the CPU allows. */
  acceleration?: number
  /** Simulated start of every shipment, ms UTC. Default: the scenario's startAt, else the start saved in dataDir/run.json, else now minus the longest shipment (so simulated time never runs ahead of the wall clock). */
  startMs?: number
  /** Publish over MQTT. Without it (and without `link`), readings stay in the buffers. */
  mqtt?: FleetMqttOptions
  /** Custom link per device (tests: in-memory sinks). Takes precedence over `mqtt`. */
  link?: (deviceId: string, identity: Identity) => DeviceLink
  /** Identities for memory-only devices (default: random keys). */
  identity?: (deviceId: string) => Identity
  /** Wall clock, ms (default Date.now). */
  now?: () => number
  timers?: Timers
  /**
   * Re-send a reading unreceipted this long (wall-clock ms) after it was sent
   * (default 30000; doubling per re-send of the same reading, up to 16×). The
   * scheduler timer also wakes every receiptTimeoutMs/4 to check, so the
   * fleet still runs on one timer.
   */
  receiptTimeoutMs?: number
  /** Samples taken per event-loop turn before yielding (default 500). */
  batchSize?: number
  log?: Logger
  /** Called after every sample with the payload. */
  onReading?: (deviceId: string, payload: Uint8Array) => void
  /** Test hook: each step of each sample (device.ts, SampleStep); crash tests stop the process here. */
  onSampleStep?: (deviceId: string, step: SampleStep, seq: number, payload: Uint8Array) => void
  /** On a first run without startMs: start this long before now (default: the longest shipment). */
  startLeadMs?: number
  /**
   * Never let simulated time pass the wall clock: the fleet catches up at its
   * acceleration, then samples in real time (the live demo), so no reading
   * carries a device time in the future.
   */
  wallClockCeiling?: boolean
}

export interface Fleet {
  readonly devices: readonly Device[]
  readonly startMs: number
  readonly seed: number
  provisioningRecords(): ProvisioningRecord[]
  /** Opens links (in batches) and starts the scheduler. */
  start(): Promise<void>
  /** Takes every sample due at or before `simMs`, synchronously; returns how many. For tests and Infinity acceleration. */
  runUntil(simMs: number): number
  /** Current simulated time. */
  simNow(): number
  status(): DeviceStatus[]
  /** Resolves when every device has taken its last sample. */
  readonly finished: Promise<void>
  stop(): Promise<void>
}

const RUN_FILE = 'run.json'

function chooseStart(opts: FleetOptions, now: number): number {
  if (opts.startMs !== undefined) return opts.startMs
  if (opts.scenario.startAt !== undefined) return opts.scenario.startAt
  if (opts.dataDir) {
    try {
      const run = JSON.parse(readFileSync(join(opts.dataDir, RUN_FILE), 'utf8')) as {
        scenario?: string
        startMs?: number
      }
      if (run.scenario === opts.scenario.name && Number.isSafeInteger(run.startMs)) return run.startMs as number
    } catch {
      /* first run */
    }
  }
  const lead = opts.startLeadMs ?? Math.max(...opts.scenario.shipments.map(shipmentDurationMin)) * 60_000
  return Math.floor((now - lead) / 60_000) * 60_000
}

export function createFleet(opts: FleetOptions): Fleet {
  const now = opts.now ?? Date.now
  const timers: Timers = opts.timers ?? {
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  }
  const log = opts.log ?? defaultLogger
  const seed = opts.seed ?? opts.scenario.seed
  const acceleration = opts.acceleration ?? opts.scenario.acceleration
  if (!(acceleration > 0))
    throw new SimError('ERR_SIM_OPTIONS', `acceleration must be a positive number or Infinity, got ${acceleration}`)
  const batchSize = opts.batchSize ?? 500
  const receiptTimeoutMs = opts.receiptTimeoutMs ?? DEFAULT_RECEIPT_TIMEOUT_MS
  if (!(receiptTimeoutMs > 0))
    throw new SimError('ERR_SIM_OPTIONS', `receiptTimeoutMs must be a positive number of ms, got ${receiptTimeoutMs}`)
  const hasLinks = !!(opts.link || opts.mqtt)
  /** How often the scheduler tick looks for overdue receipts (wall-clock ms). */
  const receiptCheckMs = Math.max(1, Math.floor(receiptTimeoutMs / 4))
  let nextReceiptCheck = 0
  const startMs = chooseStart(opts, now())
  if (opts.dataDir) {
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 })
    try {
      writeFileAtomicSync(
        join(opts.dataDir, RUN_FILE),
        JSON.stringify({ scenario: opts.scenario.name, startMs, seed }) + '\n',
      )
    } catch (e) {
      // Only lets a restart resume the same schedule; a full disk must not stop the fleet.
      log('warn', `${RUN_FILE}: write failed (${(e as Error).message}); a restart will choose its start time again`)
    }
  }

  const devices: Device[] = []
  const makeLink = (spec: DeviceSpec, identity: Identity): DeviceLink | undefined => {
    if (opts.link) return opts.link(spec.deviceId, identity)
    if (opts.mqtt) {
      return createMqttLink({
        url: opts.mqtt.url,
        identity,
        audience: opts.mqtt.audience ?? DEFAULT_AUDIENCE,
        mqttOptions: opts.mqtt.mqttOptions,
        ...(opts.mqtt.password ? { password: opts.mqtt.password(spec.deviceId) } : {}),
        ...(opts.mqtt.reconnectMinMs !== undefined ? { reconnectMinMs: opts.mqtt.reconnectMinMs } : {}),
        ...(opts.mqtt.reconnectMaxMs !== undefined ? { reconnectMaxMs: opts.mqtt.reconnectMaxMs } : {}),
        onError: (err) => log('warn', `${spec.deviceId}: MQTT: ${err.message}`),
      })
    }
    return undefined
  }
  for (const shipment of opts.scenario.shipments as Shipment[]) {
    const sim = createShipmentSim(shipment, startMs, createRng(deriveSeed(seed, `shipment:${shipment.shipmentId}`)))
    for (const spec of shipment.devices) {
      const device = createDevice({
        spec,
        shipment,
        sim,
        seed,
        log,
        now,
        receiptTimeoutMs,
        ...(opts.onSampleStep
          ? {
              onStep: (step: SampleStep, seq: number, payload: Uint8Array) =>
                opts.onSampleStep!(spec.deviceId, step, seq, payload),
            }
          : {}),
        ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
        ...(opts.identity ? { identity: opts.identity(spec.deviceId) } : {}),
        ...(opts.link || opts.mqtt ? { link: (identity: Identity) => makeLink(spec, identity) as DeviceLink } : {}),
      })
      devices.push(device)
    }
  }

  const heap = new MinHeap<Device>()
  for (const d of devices) if (d.nextSampleMs !== undefined) heap.push(d.nextSampleMs, d)
  const simOrigin = heap.peekTime() ?? startMs
  let realOrigin = 0
  let running = false
  let timer: unknown
  let resolveFinished!: () => void
  const finished = new Promise<void>((r) => {
    resolveFinished = r
  })
  const checkFinished = () => {
    if (heap.size === 0) resolveFinished()
  }
  checkFinished()

  const takeDue = (simMs: number, limit: number): number => {
    let n = 0
    while (n < limit && heap.size > 0 && (heap.peekTime() as number) <= simMs) {
      const { item: d } = heap.pop() as { at: number; item: Device }
      const payload = d.sample()
      if (payload) {
        n++
        opts.onReading?.(d.deviceId, payload)
      }
      if (d.nextSampleMs !== undefined) heap.push(d.nextSampleMs, d)
    }
    checkFinished()
    return n
  }

  const rawSimNow = () =>
    running && Number.isFinite(acceleration)
      ? simOrigin + (now() - realOrigin) * acceleration
      : running
        ? Infinity
        : simOrigin
  const simNow = () => (opts.wallClockCeiling && running ? Math.min(rawSimNow(), now()) : rawSimNow())

  const arm = () => {
    timer = undefined
    if (!running) return
    // The same timer also wakes for receipt timeouts, even after the last sample:
    // a lost last reading is exactly the one nothing else would re-send.
    let waitMs = hasLinks ? Math.max(0, nextReceiptCheck - now()) : Infinity
    if (heap.size > 0) {
      const due = heap.peekTime() as number
      let sampleWait = Number.isFinite(acceleration) ? Math.max(0, Math.ceil((due - rawSimNow()) / acceleration)) : 0
      // Under the wall-clock ceiling a sample also waits for real time to reach it.
      if (opts.wallClockCeiling) sampleWait = Math.max(sampleWait, Math.ceil(due - now()))
      waitMs = Math.min(waitMs, sampleWait)
    }
    if (waitMs === Infinity) return
    // Node caps timers at 2^31-1 ms; a longer wait simply re-arms.
    timer = timers.setTimeout(tick, Math.min(waitMs, 0x7fffffff))
  }
  const tick = () => {
    timer = undefined
    if (!running) return
    takeDue(simNow(), batchSize)
    if (hasLinks && now() >= nextReceiptCheck) {
      // O(1) per device unless one of its receipts is overdue.
      for (const d of devices) d.retransmitOverdue()
      nextReceiptCheck = now() + receiptCheckMs
    }
    arm()
  }

  return {
    devices,
    startMs,
    seed,
    provisioningRecords: () => devices.map((d) => d.provisioningRecord()),
    async start() {
      if (running) return
      if (opts.link || opts.mqtt) {
        const size = opts.mqtt?.connectBatchSize ?? 100
        const delay = opts.mqtt?.connectBatchDelayMs ?? 50
        const batchTimeout = opts.mqtt?.connectBatchTimeoutMs ?? 10_000
        for (let i = 0; i < devices.length; i += size) {
          const batch = devices.slice(i, i + size)
          for (const d of batch) d.connect()
          if (!opts.mqtt) continue
          // Back-pressure: a broker flooded with handshakes resets them and every
          // client then retries at once; waiting for each batch avoids the storm.
          const until = Date.now() + batchTimeout
          while (Date.now() < until && !batch.every((d) => d.status().connected || d.status().finished))
            await new Promise((r) => setTimeout(r, 10))
          if (i + size < devices.length) await new Promise((r) => setTimeout(r, delay))
        }
      }
      running = true
      realOrigin = now()
      nextReceiptCheck = now() + receiptCheckMs
      arm()
    },
    runUntil(simMs) {
      let total = 0
      for (;;) {
        const n = takeDue(simMs, Number.MAX_SAFE_INTEGER)
        total += n
        if (n === 0) return total
      }
    },
    simNow,
    status: () => devices.map((d) => d.status()),
    finished,
    async stop() {
      running = false
      if (timer !== undefined) timers.clearTimeout(timer)
      timer = undefined
      await Promise.all(devices.map((d) => d.close()))
    },
  }
}
