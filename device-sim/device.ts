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
 */
import { pino, destination, type Logger as PinoLogger } from 'pino'
import { join } from 'node:path'
import {
  EVENT, MAX_TEMP_CENTI_C, MIN_TEMP_CENTI_C, STATUS, decodeReceipt, decodeResend, encodeRecord, readingHash, toHex,
  type ReadingFields,
} from '../ledger/protocol/index.ts'
import { fileChainState, memoryChainState, type ChainState, type ChainStateStore } from './chain-state.ts'
import { deviceTimeAt } from './device-clock.ts'
import { loadOrCreateIdentity, memoryIdentity, type Identity } from './identity.ts'
import type { DeviceLink } from './link.ts'
import { createRng, deriveSeed } from './rng.ts'
import type { DeviceSpec, Shipment, Window } from './scenario.ts'
import type { ShipmentSim } from './shipment-sim.ts'
import { signRecord } from './signer.ts'
import { SimError } from './errors.ts'
import { ReadingBuffer, fileBufferPersistence, memoryBufferPersistence, type BufferedReading } from './store-and-forward.ts'

const MINUTE = 60_000
const DAY = 86_400_000
/** Below this battery level the logger flags LOW_BATTERY. */
export const LOW_BATTERY_PCT = 20
/** What the probe reports when it has failed (open circuit reads as the sensor maximum). */
export const SENSOR_FAULT_CENTI_C = MAX_TEMP_CENTI_C

export type LogLevel = 'info' | 'warn'
export type Logger = (level: LogLevel, message: string, details?: Record<string, unknown>) => void
let fallback: PinoLogger | undefined
/** Warnings as pino JSON lines on stderr (made on first use: a device given a logger never opens it). */
export const defaultLogger: Logger = (level, message, details) => {
  if (level !== 'warn') return
  ;(fallback ??= pino({ name: 'coldproof-device', level: 'warn' }, destination({ dest: 2, sync: false }))).warn(details ?? {}, message)
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
/** Each re-send of the same reading doubles its timeout, up to this many times the base (30 s → 8 min). */
export const RECEIPT_TIMEOUT_MAX_FACTOR = 16

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

const inWindow = (ws: readonly Window[], min: number) => ws.some((w) => min >= w.fromMin && min < w.toMin)

export function createDevice(opts: DeviceOptions): Device {
  const { spec, shipment, sim, seed } = opts
  const log = opts.log ?? defaultLogger
  const dir = opts.dataDir === undefined ? undefined : join(opts.dataDir, spec.deviceId)
  const identity = dir ? loadOrCreateIdentity(dir, spec.deviceId) : (opts.identity ?? memoryIdentity(spec.deviceId))
  const link = typeof opts.link === 'function' ? opts.link(identity) : opts.link
  // A full disk never stops the device: writes are retried, the state lives on in memory meanwhile.
  const writeLog = (level: 'warn' | 'info', message: string) => log(level, `${spec.deviceId}: ${message}`)
  const chain: ChainStateStore = dir ? fileChainState(dir, writeLog) : memoryChainState()
  const buffer = new ReadingBuffer(spec.bufferCapacity, dir ? fileBufferPersistence(dir, writeLog) : memoryBufferPersistence())
  let current: Uint8Array = new Uint8Array(0)
  if (opts.onStep) { const onStep = opts.onStep; buffer.onStep = (step, seq) => onStep(step, seq, current) }
  const intervalMs = Math.round(shipment.samplingIntervalMin * MINUTE)
  const now = opts.now ?? Date.now
  const receiptTimeoutMs = opts.receiptTimeoutMs ?? DEFAULT_RECEIPT_TIMEOUT_MS
  if (!(receiptTimeoutMs > 0)) throw new SimError('ERR_SIM_OPTIONS', `receiptTimeoutMs must be a positive number of ms, got ${receiptTimeoutMs}`)
  /** Earliest wall-clock time any buffered reading's receipt becomes overdue (a lower bound). */
  let nextRetransmitAt = Infinity

  let state: ChainState = chain.load()
  const last = buffer.last()
  if (last && last.seq > state.seq) {
    // Crash between buffer append and state write: the buffer is the truth. Seq 1 is
    // sampled at the start, so with no state saved yet the schedule counts from there.
    const base = state.seq === 0 ? sim.startMs - intervalMs : state.sampledAtMs
    state = { seq: last.seq, head: last.hash, sampledAtMs: base + (last.seq - state.seq) * intervalMs }
    chain.save(state)
  }

  // Resume the schedule after the last sample (a restart continues, never repeats).
  let next: number | undefined = sim.startMs
  if (state.sampledAtMs >= sim.startMs) next = sim.startMs + (Math.floor((state.sampledAtMs - sim.startMs) / intervalMs) + 1) * intervalMs
  let finishReason: DeviceStatus['finishReason']
  let batteryPct = spec.batteryPct
  let overflowPending = false
  let lastDoorOpenings = 0
  // A restart inside a connectivity loss stays offline until a sample outside it:
  // the radio is as the last sample left it, not up for a moment.
  let radioUp = !(state.sampledAtMs >= sim.startMs && inWindow(spec.faults.connectivityLoss, (state.sampledAtMs - sim.startMs) / MINUTE))
  let wantConnected = false
  let closed = false

  const battery = (t: number) => Math.max(0, spec.batteryPct - (spec.faults.batteryDrainPctPerDay * (t - sim.startMs)) / DAY)
  if (next > sim.endMs) { next = undefined; finishReason = 'delivered' }

  const overdueAt = (e: BufferedReading) =>
    (e.sentAtMs ?? -Infinity) + receiptTimeoutMs * Math.min(RECEIPT_TIMEOUT_MAX_FACTOR, 2 ** (e.retransmits ?? 0))
  const send = (e: BufferedReading) => {
    if (!(link && link.connected && radioUp && !closed)) return
    link.publish(e.payload, () => { e.delivered = true })
    e.sentAtMs = now()
    nextRetransmitAt = Math.min(nextRetransmitAt, overdueAt(e))
  }

  const handlers = {
    onConnect() {
      // [decision 5] on (re)connect, everything unreceipted goes out, in order.
      for (const e of buffer.all()) send(e)
    },
    onReceipt(bytes: Uint8Array) {
      let r
      try { r = decodeReceipt(bytes) } catch (e) { log('warn', `${spec.deviceId}: ignoring malformed receipt: ${(e as Error).message}`); return }
      if (r.seq > state.seq) {
        log('warn', `${spec.deviceId}: receipt for seq ${r.seq} but this device has only used up to ${state.seq}; keeping the buffer`, { seq: r.seq })
        return
      }
      const out = buffer.receipt(r.seq, r.hash)
      if (out.kind === 'rewound') {
        // The ledger was restored from an older backup: re-send what it no longer holds.
        log('warn', `${spec.deviceId}: receipt went back to seq ${r.seq}; re-sending ${out.count} reading(s) the ledger had receipted before`, { seq: r.seq, count: out.count })
        for (const e of buffer.all()) send(e)
      }
      if (out.kind === 'hash-mismatch') {
        log('warn', `${spec.deviceId}: receipt for seq ${out.seq} names hash ${out.got} but the reading sent had hash ${out.expected}; the ledger may hold a different reading, keeping the buffer`, out)
      }
    },
    onResend(bytes: Uint8Array) {
      let r
      try { r = decodeResend(bytes) } catch (e) { log('warn', `${spec.deviceId}: ignoring malformed resend request: ${(e as Error).message}`); return }
      const held = buffer.range(r.from, r.to)
      if (held.length < r.to - r.from + 1) {
        log('info', `${spec.deviceId}: resend ${r.from}..${r.to}: only ${held.length} reading(s) still held (the rest were receipted or dropped)`, { ...r, held: held.length })
      }
      for (const e of held) send(e)
      // The ledger lacks seqs this device dropped (above its last receipt, at or
      // below the buffer floor): a loss now certain, whether or not the broker had
      // acknowledged them (a ledger whose disk was full takes readings the broker
      // acknowledged and stores none). The next reading announces it, so the
      // ledger declares the gap after its overflow grace, not its resend deadline.
      const lostFrom = Math.max(r.from, buffer.receiptedSeq + 1)
      const lostTo = Math.min(r.to, buffer.floor)
      const heldInLost = held.filter((e) => e.seq >= lostFrom && e.seq <= lostTo).length
      if (lostFrom <= lostTo && heldInLost < lostTo - lostFrom + 1) {
        if (!overflowPending) log('info', `${spec.deviceId}: resend ${r.from}..${r.to} asks for seq ${lostFrom}..${lostTo}, which this device dropped; its next reading reports BUFFER_OVERFLOW`, { from: lostFrom, to: lostTo })
        overflowPending = true
      }
    },
  }

  const setRadio = (up: boolean) => {
    if (up === radioUp) return
    radioUp = up
    if (!link || !wantConnected) return
    if (up) link.open(handlers)
    else void link.close()
  }

  const device: Device = {
    deviceId: spec.deviceId,
    shipmentId: shipment.shipmentId,
    publicKey: identity.publicKey,
    get nextSampleMs() { return next },
    provisioningRecord() {
      const calibratedAt = spec.calibration?.calibratedAt ?? sim.startMs - 30 * DAY
      return {
        deviceId: spec.deviceId,
        publicKey: toHex(identity.publicKey),
        model: spec.model,
        calibration: spec.calibration ?? { certificate: `SIM-CAL-${spec.deviceId}`, calibratedAt, dueAt: calibratedAt + 365 * DAY },
      }
    },
    sample() {
      if (next === undefined || closed) return undefined
      const t = next
      const min = (t - sim.startMs) / MINUTE
      batteryPct = battery(t)
      if (batteryPct <= 0) { next = undefined; finishReason = 'battery'; return undefined }
      setRadio(!inWindow(spec.faults.connectivityLoss, min))

      const snap = sim.advanceTo(t)
      const k = Math.round((t - sim.startMs) / intervalMs)
      // Noise from a per-sample stream: a restarted device draws exactly what it would have.
      const noise = createRng(deriveSeed(seed, `${spec.deviceId}#${k}`)).gaussian() * spec.noiseC
      const trueC = (spec.probe === 'air' ? snap.airC : snap.productC) + spec.offsetC + noise
      let status = 0
      let tempCentiC = Math.min(MAX_TEMP_CENTI_C, Math.max(MIN_TEMP_CENTI_C, Math.round(trueC * 100)))
      if (inWindow(spec.faults.sensorFault, min)) { status |= STATUS.SENSOR_FAULT; tempCentiC = SENSOR_FAULT_CENTI_C }
      if (batteryPct < LOW_BATTERY_PCT) status |= STATUS.LOW_BATTERY
      // Full: the oldest reading goes. The flag announces a certain loss, so it is
      // set only when that reading never provably left the device: the broker
      // has not acknowledged it since start-up. A reading handed to a link that
      // then went down (no PUBACK) counts as not delivered. One the broker took
      // is most likely in the ledger; if not, the ledger sees the gap itself
      // (docs/PROTOCOL.md, "Overflow").
      if (buffer.size >= buffer.capacity && !buffer.all()[0].delivered) overflowPending = true
      if (overflowPending) status |= STATUS.BUFFER_OVERFLOW
      const fields: ReadingFields = {
        deviceId: spec.deviceId,
        seq: state.seq + 1,
        deviceTimeMs: deviceTimeAt(t, { originMs: sim.startMs, driftPpm: spec.faults.clockDriftPpm, jumps: spec.faults.clockJump }),
        tempCentiC,
        prevHash: state.head,
        batteryPct: Math.ceil(batteryPct),
      }
      if (snap.doorOpenings > lastDoorOpenings) fields.events = EVENT.DOOR_OPEN
      lastDoorOpenings = snap.doorOpenings
      if (status !== 0) fields.status = status

      const payload = signRecord(encodeRecord(fields), identity.secretKey)
      current = payload
      opts.onStep?.('signed', fields.seq, payload)
      const hash = readingHash(payload)
      const entry: BufferedReading = { seq: fields.seq, payload, hash }
      buffer.add(entry)
      overflowPending = false
      state = { seq: fields.seq, head: hash, sampledAtMs: t }
      chain.save(state)
      opts.onStep?.('chain-saved', fields.seq, payload)
      send(entry)

      next = t + intervalMs
      if (next > sim.endMs) { next = undefined; finishReason = 'delivered' }
      return payload
    },
    connect() {
      wantConnected = true
      if (link && radioUp) link.open(handlers)
    },
    retransmitOverdue() {
      // A lost reading with nothing after it opens no gap at the ledger, so no
      // resend request ever comes for it (docs/PROTOCOL.md, "Receipt timeout").
      // Re-sending the NEWEST unreceipted reading is enough: if the ledger lacks
      // it, it stores it and asks for any gap below it; if it has it, the
      // duplicate makes it re-send its receipt (and resend requests for gaps).
      // One message per device per timeout, however full the buffer is.
      if (!link || !link.connected || !radioUp || closed) return 0
      const t = now()
      if (t < nextRetransmitAt) return 0
      const e = buffer.last()
      if (!e) { nextRetransmitAt = Infinity; return 0 }
      if (overdueAt(e) > t) { nextRetransmitAt = overdueAt(e); return 0 }
      const waited = t - (e.sentAtMs ?? t)
      e.retransmits = (e.retransmits ?? 0) + 1
      send(e)
      nextRetransmitAt = overdueAt(e)
      log('info', `${spec.deviceId}: re-sent seq ${e.seq}: no receipt ${waited} ms after it was sent`, { seq: e.seq, retransmits: e.retransmits })
      return 1
    },
    status() {
      return {
        deviceId: spec.deviceId,
        shipmentId: shipment.shipmentId,
        seq: state.seq,
        buffered: buffer.size,
        receiptedSeq: buffer.receiptedSeq,
        dropped: buffer.droppedTotal,
        batteryPct: Math.round(batteryPct * 10) / 10,
        lastSampleMs: state.sampledAtMs,
        connected: !!link?.connected && radioUp,
        finished: next === undefined,
        ...(finishReason ? { finishReason } : {}),
      }
    },
    buffered: () => buffer.all().map((e) => e.payload),
    async close() {
      closed = true
      if (link) await link.close()
    },
  }
  return device
}
