/**
 * One simulated logger: samples its shipment's temperature on a schedule,
 * signs each reading, chains it to the previous one, keeps it until the
 * ledger receipts it, and publishes it when its link is up.
 *
 * Order of a sample (ARCHITECTURE.md decision 5): sign → append to the persisted
 * buffer → record the drop of the oldest reading if the buffer overflowed →
 * persist the chain state → publish. A crash after the buffer append loses
 * nothing (the state is reconciled from the buffer on restart, and an
 * overfull buffer is trimmed on load); a crash before it loses a reading that
 * never left the device, and its seq is signed again on restart. So every
 * seq the device signed is in its buffer, receipted, or dropped for room with
 * BUFFER_OVERFLOW on a later durable reading (test/crash-points.test.ts).
 *
 * createDevice wires the parts: device-sampler (schedule, sign, buffer, chain; with
 * device-schedule and device-reading), device-transmit (send, re-send when a
 * receipt is overdue), device-link-handlers (receipts, resend requests).
 */
import { pino, destination, type Logger as PinoLogger } from 'pino'
import { join } from 'node:path'
import { toHex } from '../ledger/protocol/index.ts'
import { fileChainState, memoryChainState, type ChainStateStore } from './chain-state.ts'
import { linkHandlers } from './device-link-handlers.ts'
import { DeviceSampler } from './device-sampler.ts'
import { Transmitter } from './device-transmit.ts'
import { loadOrCreateIdentity, memoryIdentity, type Identity } from './identity.ts'
import type { DeviceLink } from './link.ts'
import type { DeviceSpec, Shipment } from './scenario/index.ts'
import type { ShipmentSim } from './shipment-sim.ts'
import { SimError } from './errors.ts'
import { ReadingBuffer, fileBufferPersistence, memoryBufferPersistence } from './store-and-forward.ts'

export { LOW_BATTERY_PCT, SENSOR_FAULT_CENTI_C } from './device-reading.ts'
export { RECEIPT_TIMEOUT_MAX_FACTOR } from './device-transmit.ts'

const MINUTE = 60_000
const DAY = 86_400_000

export type LogLevel = 'info' | 'warn'
export type Logger = (level: LogLevel, message: string, details?: Record<string, unknown>) => void
let fallback: PinoLogger | undefined
/** Warnings as pino JSON lines on stderr (made on first use: a device given a logger never opens it). */
export const defaultLogger: Logger = (level, message, details) => {
  if (level !== 'warn') return
  ;(fallback ??= pino({ name: 'coldproof-device', level: 'warn' }, destination({ dest: 2, sync: false }))).warn(
    details ?? {},
    message,
  )
}

export interface ProvisioningRecord {
  deviceId: string
  /** hex, 32 bytes */
  publicKey: string
  model: string
  /** Matches ledger/tlog/entry-types.ts CalibrationInfo (GDP 9.3: calibrated at least yearly). */
  calibration: { certificate: string; calibratedAt: number; dueAt: number }
}

export interface DeviceStatus {
  deviceId: string
  shipmentId: string
  /** Last sequence number used (0 before the first reading). */
  seq: number
  buffered: number
  receiptedSeq: number
  dropped: number
  batteryPct: number
  /** Simulated true time of the last sample, ms UTC (0 if none). */
  lastSampleMs: number
  connected: boolean
  finished: boolean
  /** Why sampling stopped: the shipment ended or the battery ran out. */
  finishReason?: 'delivered' | 'battery'
}

export interface DeviceOptions {
  spec: DeviceSpec
  shipment: Shipment
  /** The shipment's physical simulation, shared by its devices. */
  sim: ShipmentSim
  seed: number
  /** Folder for this device's key, chain state and buffer; omit for memory only. */
  dataDir?: string
  /** Identity for memory-only devices (default: a random key). */
  identity?: Identity
  /** The device's link, or a factory given the loaded identity (an MQTT link signs its login with the key). */
  link?: DeviceLink | ((identity: Identity) => DeviceLink)
  log?: Logger
  /** Wall clock, ms (default Date.now): receipt timeouts run on real time, not simulated time. */
  now?: () => number
  /** Re-send a reading still unreceipted this long (wall-clock ms) after it was last sent (default 30000). */
  receiptTimeoutMs?: number
  /** Test hook: called after each step of a sample (crash tests stop the process here). */
  onStep?: (step: SampleStep, seq: number, payload: Uint8Array) => void
}

/** The steps of a sample, in order; 'appended' and 'drop-recorded' come from the buffer. */
export type SampleStep = 'signed' | 'appended' | 'drop-recorded' | 'chain-saved'

/** Default receipt timeout: a reading unreceipted for 30 s of wall-clock time is sent again. */
export const DEFAULT_RECEIPT_TIMEOUT_MS = 30_000

export interface Device {
  readonly deviceId: string
  readonly shipmentId: string
  readonly publicKey: Uint8Array
  /** Simulated true time of the next sample, or undefined when finished. */
  readonly nextSampleMs: number | undefined
  provisioningRecord(): ProvisioningRecord
  /** Takes the sample due at nextSampleMs; returns its payload (undefined if finished). */
  sample(): Uint8Array | undefined
  /** Opens the link (if any) and sends what is buffered once it is up. */
  connect(): void
  /**
   * While connected, re-sends the newest buffered reading if its receipt is
   * overdue (see DeviceOptions.receiptTimeoutMs); returns how many it sent
   * (0 or 1). O(1), so a fleet can call it for every device on one timer.
   */
  retransmitOverdue(): number
  status(): DeviceStatus
  /** The unreceipted readings held, oldest first (a copy). */
  buffered(): Uint8Array[]
  close(): Promise<void>
}

export function createDevice(opts: DeviceOptions): Device {
  const { spec, shipment, sim } = opts
  const log = opts.log ?? defaultLogger
  const dir = opts.dataDir === undefined ? undefined : join(opts.dataDir, spec.deviceId)
  const identity = dir ? loadOrCreateIdentity(dir, spec.deviceId) : (opts.identity ?? memoryIdentity(spec.deviceId))
  const link = typeof opts.link === 'function' ? opts.link(identity) : opts.link
  // A full disk never stops the device: writes are retried, the state lives on in memory meanwhile.
  const writeLog = (level: 'warn' | 'info', message: string) => log(level, `${spec.deviceId}: ${message}`)
  const chain: ChainStateStore = dir ? fileChainState(dir, writeLog) : memoryChainState()
  const buffer = new ReadingBuffer(
    spec.bufferCapacity,
    dir ? fileBufferPersistence(dir, writeLog) : memoryBufferPersistence(),
  )
  if (opts.onStep) {
    const onStep = opts.onStep
    buffer.onStep = (step, seq) => onStep(step, seq, sampler.current)
  }
  const receiptTimeoutMs = opts.receiptTimeoutMs ?? DEFAULT_RECEIPT_TIMEOUT_MS
  if (!(receiptTimeoutMs > 0))
    throw new SimError('ERR_SIM_OPTIONS', `receiptTimeoutMs must be a positive number of ms, got ${receiptTimeoutMs}`)
  const overflow = { pending: false }
  const sampler = new DeviceSampler(
    opts,
    identity,
    chain,
    buffer,
    Math.round(shipment.samplingIntervalMin * MINUTE),
    overflow,
  )
  let radioUp = sampler.radioUpAtLastSample()
  let wantConnected = false
  let closed = false
  const transmitter = new Transmitter(
    spec.deviceId,
    link,
    buffer,
    opts.now ?? Date.now,
    receiptTimeoutMs,
    () => radioUp && !closed,
    log,
  )
  const handlers = linkHandlers({
    deviceId: spec.deviceId,
    log,
    buffer,
    transmitter,
    lastSeq: () => sampler.state.seq,
    overflow,
  })
  const setRadio = (up: boolean) => {
    if (up === radioUp) return
    radioUp = up
    if (!link || !wantConnected) return
    if (up) link.open(handlers)
    else void link.close()
  }

  return {
    deviceId: spec.deviceId,
    shipmentId: shipment.shipmentId,
    publicKey: identity.publicKey,
    get nextSampleMs() {
      return sampler.next
    },
    provisioningRecord() {
      const calibratedAt = spec.calibration?.calibratedAt ?? sim.startMs - 30 * DAY
      return {
        deviceId: spec.deviceId,
        publicKey: toHex(identity.publicKey),
        model: spec.model,
        calibration: spec.calibration ?? {
          certificate: `SIM-CAL-${spec.deviceId}`,
          calibratedAt,
          dueAt: calibratedAt + 365 * DAY,
        },
      }
    },
    sample: () => (closed ? undefined : sampler.sample(setRadio, (e) => transmitter.send(e))),
    connect() {
      wantConnected = true
      if (link && radioUp) link.open(handlers)
    },
    retransmitOverdue: () => transmitter.retransmitOverdue(),
    status() {
      const { state, finishReason } = sampler
      return {
        deviceId: spec.deviceId,
        shipmentId: shipment.shipmentId,
        seq: state.seq,
        buffered: buffer.size,
        receiptedSeq: buffer.receiptedSeq,
        dropped: buffer.droppedTotal,
        batteryPct: Math.round(sampler.batteryPct * 10) / 10,
        lastSampleMs: state.sampledAtMs,
        connected: !!link?.connected && radioUp,
        finished: sampler.next === undefined,
        ...(finishReason ? { finishReason } : {}),
      }
    },
    buffered: () => buffer.all().map((e) => e.payload),
    async close() {
      closed = true
      if (link) await link.close()
    },
  }
}
