/**
 * The MQTT ingest (ARCHITECTURE.md decisions 2, 3, 5, 6, 9, 11): subscribes to the
 * device readings of some partitions on a persistent session with QoS 1,
 * judges each message, appends accepted readings to the ledger, quarantines
 * everything else, and acknowledges each message to the broker only once its
 * outcome (entry or quarantine record) is durable (deferred-puback.ts).
 *
 * Judging happens one message at a time, in arrival order, outside the
 * ledger's write path; each message's signature check starts as it arrives,
 * on worker threads (verify-pool.ts, early-verify.ts), so judging only awaits
 * outcomes mostly known already. Commits happen in groups. The per-device sequence state used to judge includes readings
 * accepted but not yet durable, so a burst of one device's readings needs no
 * fsync in between.
 *
 * After each commit, once a signed checkpoint covering it is durable in
 * checkpoints.log, the ingest publishes the device's receipt (retained, QoS
 * 1: highest contiguous sequence and that reading's hash) and, while the
 * device has gaps, resend requests for the missing ranges.
 */
import { defaultLedgerLog, type LedgerLog } from '../store/index.ts'
import { EventEmitter } from 'node:events'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import {
  decodeReading, decodeReason, deviceTopic, encodeReceipt, STATUS, encodeResend, fromBase64, fromHex, GENESIS_PREV_HASH, isProtocolError, MAX_READING_PAYLOAD,
  parseDeviceTopic, readingsFilters, toBase64, toHex, type DecodedReading,
} from '../protocol/index.ts'
import { chainNext, classifySeq, declarableGap, EMPTY_SEQ_STATE, heldCount, holdSeq, unholdSeq, type SeqState } from '../store/index.ts'
import type { GapCause } from '../tlog/index.ts'
import { createVerifyPool, defaultVerifyThreads } from './verify-pool.ts'
import { signatureValid, startCheck, type EarlyCheck } from './early-verify.ts'
import { sha256Hex } from '../node-crypto/index.ts'
import { deferPubacks, type DeferredPubacks } from './deferred-puback.ts'
import type { Ledger } from '../store/index.ts'
import type { StoredEntry } from '../tlog/index.ts'
import type { QuarantineReason } from '../store/index.ts'

export interface IngestOptions {
  ledger: Ledger
  /** Broker URL, e.g. mqtt://127.0.0.1:1883. */
  url: string
  /** Fixed client id: the broker keeps this session's queue while the ingest is down. */
  clientId?: string
  username?: string
  password?: string
  /** Partitions (0..15) this ingest serves; all when omitted. */
  partitions?: number[]
  clock?: () => number
  /** Minimum ms between two resend requests for the same gaps of a device (default 2000). */
  resendIntervalMs?: number
  /**
   * A held reading above the first missing range reports BUFFER_OVERFLOW and the
   * resend request for the range has gone unanswered this long (ledger clock):
   * the range is declared lost, cause buffer-overflow (default 60 s).
   */
  overflowGraceMs?: number
  /** The first missing range below a held reading stayed unanswered this long (ledger clock): declared lost, cause resend-abandoned (default 24 h). */
  resendDeadlineMs?: number
  /** How often the ingest looks for ranges to declare lost (default 5 s; 0 = only when checkGaps() is called). */
  gapCheckIntervalMs?: number
  /**
   * Held readings (above a gap) per device before a reading that raises the device's highest seq is refused
   * as ERR_HELD_LIMIT (default 1,000). Readings below the highest held one (they fill a gap) within maxHeldAhead are never refused.
   */
  maxHeldPerDevice?: number
  /**
   * How far above the chain head a reading may be held (default 10,000 seqs: five times device-sim's default
   * buffer of 2,000); further, it is refused as ERR_HELD_TOO_FAR unless it reports BUFFER_OVERFLOW (a genuine
   * device after a long outage), and then it counts against maxHeldPerDevice.
   */
  maxHeldAhead?: number
  /** Largest raw payload kept in a quarantine record (default 4096 bytes; longer ones are cut, their length kept). */
  maxQuarantineBytes?: number
  /** Extra mqtt.js options (reconnectPeriod, ...). */
  mqttOptions?: Partial<IClientOptions>
  /**
   * Sends receipts and resend requests another way than the ingest's MQTT
   * client (the cluster mode publishes them over NATS: ledger/cluster/).
   */
  publish?: (topic: string, payload: Uint8Array, retain: boolean) => void
  /**
   * Worker threads that verify signatures (ledger/ingest/verify-pool.ts), each check started as its message
   * arrives; default one per core but one, at least one. 0 verifies on the main thread while judging.
   */
  verifyThreads?: number
  /** Where a commit the ingest could not make is reported when nobody listens to 'error' (pino; default stderr). */
  log?: LedgerLog
}

export interface LatencyStats { count: number; sumMs: number; maxMs: number }

export interface IngestStats {
  received: number
  /** Messages received whose outcome (entry or quarantine record) is not durable yet: their PUBACK is still held back. */
  pending: number
  readings: number
  duplicates: number
  quarantined: number
  quarantineByReason: Partial<Record<QuarantineReason, number>>
  gapsOpened: number
  /** Readings held above a gap (outside the log until the gap fills or is declared). */
  held: number
  /** reading.fork entries logged. */
  forks: number
  /** gap entries the ingest appended (by cause). */
  gapsDeclared: Partial<Record<GapCause, number>>
  resendRequests: number
  receipts: number
  /** Device time -> durable commit. */
  deviceLatency: LatencyStats
  /** MQTT receive -> durable commit. */
  ingestLatency: LatencyStats
}

export interface ReadingCommitted { deviceId: string; seq: number; index: number; deviceLatencyMs: number; ingestLatencyMs: number }

/** A message quarantined (its record is durable): a security event for the log (docs/OPERATIONS.md, "Security events in the log"). */
export interface MessageQuarantined { id: number; reason: QuarantineReason; detail: string; topic: string; deviceId?: string; seq?: number; length: number }

/**
 * Events: 'reading' (ReadingCommitted, after each durable reading: feed a
 * latency histogram), 'quarantined' (MessageQuarantined, after each durable
 * quarantine record: log it), 'error' (a commit failed; the message is not
 * acknowledged and the broker redelivers it), 'mqtt-error' (client errors;
 * mqtt.js reconnects by itself).
 */
export interface Ingest extends EventEmitter {
  /** Connects, subscribes; resolves once the subscription is granted. */
  start(): Promise<void>
  /** Finishes judging and committing what was received, sends its PUBACKs, disconnects. Leaves the ledger open. */
  close(): Promise<void>
  stats(): IngestStats
  readonly client: MqttClient | undefined
  /**
   * Judges and commits one message as if received from the broker (no
   * PUBACK involved); resolves when its outcome is durable. Used by the MQTT
   * path and by tests of the decision logic.
   */
  handle(topic: string, payload: Uint8Array, receivedAt?: number): Promise<Outcome>
  /**
   * Declares lost every range whose grace period or deadline has passed
   * (docs/PROTOCOL.md, "Declared gaps"); runs on a timer too. Resolves with
   * the gap entries appended.
   */
  checkGaps(): Promise<StoredEntry<'gap'>[]>
}

export type Outcome =
  | { kind: 'stored'; deviceId: string; seq: number; index: number }
  /** Verified, above a gap: held outside the log, not receipted. */
  | { kind: 'held'; deviceId: string; seq: number }
  /** A second validly signed payload of a chained or held seq: logged as a reading.fork entry. */
  | { kind: 'fork'; deviceId: string; seq: number; index: number }
  | { kind: 'duplicate'; deviceId: string; seq: number }
  | { kind: 'quarantined'; reason: QuarantineReason; id: number }

const GENESIS_HEX = toHex(GENESIS_PREV_HASH)
/** Codes of a ledger that refuses every write until it recovers: it logs that once per episode itself. */
export const UNHEALTHY_LEDGER_CODES: ReadonlySet<string> = new Set(['ERR_LEDGER_DISK_FULL', 'ERR_LEDGER_WRITE_FAILED', 'ERR_LEDGER_FAILED'])
const UNHEALTHY = UNHEALTHY_LEDGER_CODES
const overflows = (r: DecodedReading): boolean => ((r.fields.status ?? 0) & STATUS.BUFFER_OVERFLOW) !== 0

class Rejection extends Error {
  constructor(readonly reason: QuarantineReason, message: string, readonly details: Record<string, unknown> = {}, readonly deviceId?: string, readonly seq?: number) {
    super(message)
  }
}

/** A reading's link and exact bytes (base64). */
interface Link { h: string; p: string; payload: string; overflow?: boolean }

/**
 * A device's sequence state as judged so far (durable + pending, as the store
 * will apply it): chained readings not yet durable, its held readings, the
 * head's hash (so an in-order reading needs no database read), held readings
 * refused as unlinked (kept in memory to prove a fork when another reading of
 * that seq is chained), and whether a fork was logged for it.
 */
interface Working {
  seq: SeqState
  pending: Map<number, Link>
  held: Map<number, Link>
  headHash: string
  unlinked: Map<number, Link>
  forked: boolean
}

export function createIngest(opts: IngestOptions): Ingest {
  const { ledger, url, clientId = 'coldproof-ingest', partitions, resendIntervalMs = 2000, maxQuarantineBytes = 4096 } = opts
  const { overflowGraceMs = 60_000, resendDeadlineMs = 24 * 3_600_000, gapCheckIntervalMs = 5000, maxHeldPerDevice = 1000, maxHeldAhead = 10_000 } = opts
  for (const [k, v] of [['maxHeldPerDevice', maxHeldPerDevice], ['maxHeldAhead', maxHeldAhead]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`ingest option ${k} must be a positive integer, got ${v}`)
  }
  const clock = opts.clock ?? ledger.clock
  const emitter = new EventEmitter() as Ingest
  const log = opts.log ?? defaultLedgerLog()
  const stats: IngestStats = {
    received: 0, pending: 0, readings: 0, duplicates: 0, quarantined: 0, quarantineByReason: {}, gapsOpened: 0, held: 0, forks: 0, gapsDeclared: {}, resendRequests: 0, receipts: 0,
    deviceLatency: { count: 0, sumMs: 0, maxMs: 0 }, ingestLatency: { count: 0, sumMs: 0, maxMs: 0 },
  }
  const verifyThreads = opts.verifyThreads ?? defaultVerifyThreads()
  if (!Number.isSafeInteger(verifyThreads) || verifyThreads < 0) throw new RangeError(`ingest option verifyThreads must be a non-negative integer, got ${verifyThreads}`)
  const pool = createVerifyPool({ threads: verifyThreads })
  const working = new Map<string, Working>()
  const lastResend = new Map<string, number>()
  /** Per device: the chain head its first missing range sits on, and when (ledger clock) it was first asked for. */
  const stalled = new Map<string, { head: number; since: number }>()
  let gapTimer: NodeJS.Timeout | undefined
  // A gap declared by someone else (an admin through the API) moves a device's head: judge it from the ledger again.
  // A newly registered device gets its seq-0 receipt (retained) at once: on its first SUBSCRIBE it learns
  // the ledger knows it and holds nothing of it yet (docs/PROTOCOL.md, "Registration").
  const unfollow = ledger.subscribe((e) => {
    if (e.entry.type === 'gap') { const id = (e.entry.body as { deviceId: string }).deviceId; working.delete(id); scheduleReceipt(id) }
    else if (e.entry.type === 'device.register') scheduleReceipt((e.entry.body as { deviceId: string }).deviceId)
  })
  const receiptDirty = new Set<string>()
  /** Receipts taken, in flush order, each flush with the last entry index its checkpoint must cover. */
  const awaitingAnchor: { upTo: number; due: Map<string, { seq: number; hash: Uint8Array }> }[] = []
  let receiptTimer: NodeJS.Immediate | undefined
  let client: MqttClient | undefined
  let acks: DeferredPubacks | undefined
  let chain: Promise<unknown> = Promise.resolve()
  const outstanding = new Set<Promise<unknown>>()
  /** Receipts waiting for their checkpoint to be anchored. */
  const anchoring = new Set<Promise<void>>()
  let closing = false

  const addLatency = (l: LatencyStats, ms: number) => { l.count++; l.sumMs += ms; if (ms > l.maxMs) l.maxMs = ms }

  async function workingOf(deviceId: string): Promise<Working> {
    let w = working.get(deviceId)
    if (!w) {
      const d = ledger.device(deviceId)
      w = {
        seq: d ? { contiguous: d.contiguous, highest: d.highest, gaps: d.gaps } : EMPTY_SEQ_STATE, pending: new Map(), held: new Map(),
        headHash: d && d.contiguous > 0 && d.contiguousHash ? d.contiguousHash : GENESIS_HEX, unlinked: new Map(), forked: d?.compromised !== undefined,
      }
      if (d && d.highest > d.contiguous) for (const r of await ledger.heldReadings(deviceId)) w.held.set(r.seq, { h: r.h, p: r.p, payload: r.payload, overflow: overflows(decodeReading(fromBase64(r.payload))) })
      working.set(deviceId, w)
    }
    return w
  }

  /** The stored or pending link at a chained seq. */
  async function linkAt(deviceId: string, w: Working, seq: number): Promise<{ h: string; p: string; payload: () => Promise<string> } | undefined> {
    const pending = w.pending.get(seq)
    if (pending) return { ...pending, payload: async () => pending.payload }
    const row = await ledger.readingLink(deviceId, seq)
    return row && { h: row.h, p: row.p, payload: async () => ((await ledger.getEntry(row.i)) as StoredEntry<'reading'>).entry.body.payload }
  }

  /**
   * Predicts what the store does after the head moved (indexes.ts, followHeld):
   * held readings that link are chained, the first that does not is refused.
   * Returns the seqs chained from the held store.
   */
  function followHeld(w: Working): number[] {
    const chained: number[] = []
    for (;;) {
      const next = w.seq.contiguous + 1
      const held = w.held.get(next)
      if (!held || classifySeq(w.seq, next) !== 'held') return chained
      w.held.delete(next)
      if (held.p !== w.headHash) {
        w.seq = unholdSeq(w.seq, next)
        w.unlinked.set(next, held)
        stats.quarantined++
        stats.quarantineByReason.ERR_HELD_UNLINKED = (stats.quarantineByReason.ERR_HELD_UNLINKED ?? 0) + 1
        return chained
      }
      w.seq = chainNext(w.seq, next)
      w.pending.set(next, held)
      w.headHash = held.h
      chained.push(next)
    }
  }

  function publish(topic: string, payload: Uint8Array, retain: boolean): void {
    if (opts.publish) return opts.publish(topic, payload, retain)
    if (!client || closing && !client.connected) return
    client.publish(topic, Buffer.from(payload), { qos: 1, retain }, () => {})
  }

  /**
   * Publishes the receipts of the devices that changed, once a checkpoint
   * covering every durable entry is in checkpoints.log (ledger.whenAnchored):
   * a reading the database might still lose is never receipted, so its device
   * keeps it and re-sends it. The receipt is taken now, published then.
   *
   * Receipts taken in several flushes (one per commit) that one checkpoint
   * covers are coalesced: each device gets only its newest covered receipt, so
   * a busy fleet costs one retained publish per device per checkpoint, not per
   * commit. A receipt not covered yet waits for its own checkpoint and is never
   * held back by newer ones.
   */
  function flushReceipts(): void {
    receiptTimer = undefined
    const upTo = ledger.size() - 1
    const due = new Map<string, { seq: number; hash: Uint8Array }>()
    for (const id of receiptDirty) {
      const d = ledger.device(id)
      if (!d) continue
      due.set(id, { seq: d.contiguous, hash: d.contiguous > 0 && d.contiguousHash ? fromHex(d.contiguousHash) : GENESIS_PREV_HASH })
    }
    receiptDirty.clear()
    if (due.size === 0) return
    awaitingAnchor.push({ upTo, due })
    const sent = ledger.whenAnchored(upTo).then(() => publishCovered(upTo))
    anchoring.add(sent)
    void sent.finally(() => { anchoring.delete(sent) })
  }

  /** Publishes, per device, the newest waiting receipt the anchored checkpoint covers (its size is above upTo). */
  function publishCovered(upTo: number): void {
    const covered = Math.max(upTo + 1, ledger.latestAnchor()?.size ?? 0)
    const merged = new Map<string, { seq: number; hash: Uint8Array }>()
    // Flushes are queued in log order; later ones hold the newer state.
    while (awaitingAnchor.length && awaitingAnchor[0].upTo < covered) for (const [id, r] of awaitingAnchor.shift()!.due) merged.set(id, r)
    for (const [id, r] of merged) {
      publish(deviceTopic(id, 'receipt'), encodeReceipt(r), true)
      stats.receipts++
      requestResend(id)
    }
  }

  function scheduleReceipt(deviceId: string): void {
    receiptDirty.add(deviceId)
    receiptTimer ??= setImmediate(flushReceipts)
  }

  /** Asks the device for its missing ranges: at once for a new gap, else at most once per resendIntervalMs. */
  function requestResend(deviceId: string, force = false): void {
    const d = ledger.device(deviceId)
    if (!d || d.gaps.length === 0 || d.revoked) return
    // Pacing uses a monotonic timer, not the ledger clock (which may be fixed or jump).
    const now = performance.now()
    const last = lastResend.get(deviceId)
    if (!force && last !== undefined && now - last < resendIntervalMs) return
    lastResend.set(deviceId, now)
    // The first request for the range above this head starts its grace period and deadline.
    if (stalled.get(deviceId)?.head !== d.contiguous) stalled.set(deviceId, { head: d.contiguous, since: clock() })
    // One request per missing range, the oldest first; a device answers each from its buffer.
    for (const [from, to] of d.gaps.slice(0, 16)) {
      publish(deviceTopic(deviceId, 'resend'), encodeResend({ from, to }), false)
      stats.resendRequests++
    }
  }

  function reject(reason: QuarantineReason, message: string, details: Record<string, unknown> = {}, deviceId?: string, seq?: number): never {
    throw new Rejection(reason, message, details, deviceId, seq)
  }

  /**
   * Decides what a message is and submits its write; returns the durable
   * outcome promise boxed (a returned bare promise would be adopted by the
   * async function, making the next judgement wait for this commit).
   * Runs one message at a time.
   */
  async function judge(topic: string, payload: Uint8Array, receivedAt: number, early: EarlyCheck | undefined): Promise<{ done: Promise<Outcome> }> {
    try {
      if (payload.length > MAX_READING_PAYLOAD) reject('ERR_READING_TOO_LARGE', `payload is ${payload.length} bytes; a v1 reading is at most ${MAX_READING_PAYLOAD}`, { length: payload.length, max: MAX_READING_PAYLOAD })
      let topicDevice: string
      try {
        const t = parseDeviceTopic(topic)
        if (t.kind !== 'readings') reject('ERR_TOPIC_INVALID', `topic ${topic} is not a readings topic`, { topic })
        topicDevice = t.deviceId
      } catch (e) {
        if (e instanceof Rejection) throw e
        return reject('ERR_TOPIC_INVALID', (e as Error).message, { topic })
      }
      let r: DecodedReading
      try {
        r = early?.decoded ?? decodeReading(payload)
      } catch (e) {
        // Quarantined under the decoder's own code (docs/PROTOCOL.md, "Why a reading is refused").
        return reject(decodeReason(isProtocolError(e) ? e.code : undefined), (e as Error).message, isProtocolError(e) ? { ...e.details } : {}, topicDevice)
      }
      const { deviceId, seq, deviceTimeMs } = r.fields
      if (deviceId !== topicDevice) reject('ERR_TOPIC_MISMATCH', `reading of device ${deviceId} published on the topic of ${topicDevice}`, { topicDevice, readingDevice: deviceId }, topicDevice, seq)
      const dev = ledger.lookupDevice(deviceId)
      if (!dev) reject('ERR_UNKNOWN_DEVICE', `device ${deviceId} is not registered`, {}, deviceId, seq)
      if (dev!.revoked) reject('ERR_REVOKED', `device ${deviceId} is revoked`, {}, deviceId, seq)
      // Started on arrival (handle) on the pool's threads; checked again here only if the key changed since.
      if (!(await signatureValid(pool, early, r, dev!.publicKey))) {
        reject('ERR_READING_BAD_SIGNATURE', `the signature of ${deviceId} seq ${seq} does not verify under the registered key`, { publicKey: toHex(dev!.publicKey) }, deviceId, seq)
      }
      const now = clock()
      if (deviceTimeMs > now + ledger.futureSkewMs) reject('ERR_FUTURE_TIME', `device time ${new Date(deviceTimeMs).toISOString()} is ${deviceTimeMs - now} ms ahead of the ledger clock (allowed ${ledger.futureSkewMs})`, { deviceTimeMs, ledgerTime: now, skewMs: ledger.futureSkewMs }, deviceId, seq)

      // Chain checks against chained, held and pending readings (docs/PROTOCOL.md, "Hash chaining").
      const w = await workingOf(deviceId)
      const h = sha256Hex(payload)
      const p = toHex(r.fields.prevHash)
      const b64 = toBase64(payload)
      const kind = classifySeq(w.seq, seq)
      const duplicate = (): { done: Promise<Outcome> } => {
        stats.duplicates++
        return { done: ledger.barrier().then(() => { scheduleReceipt(deviceId); return { kind: 'duplicate', deviceId, seq } as Outcome }) }
      }
      if (kind === 'chained') {
        const existing = await linkAt(deviceId, w, seq)
        if (!existing) reject('ERR_SEQ_DECLARED_LOST', `${deviceId} seq ${seq} lies inside a declared gap: the chain head ${w.seq.contiguous} has moved past it`, { seq, head: w.seq.contiguous }, deviceId, seq)
        if (existing!.h === h) return duplicate()
        return await fork(w, deviceId, seq, b64, h, existing!.h, existing!.payload)
      }
      if (kind === 'held') {
        const held = w.held.get(seq)!
        if (held.h === h) return duplicate()
        return await fork(w, deviceId, seq, b64, h, held.h, async () => held.payload)
      }
      if (kind === 'ahead') {
        // Caps on held readings (docs/PROTOCOL.md, "Held readings"): a leaked key must not grow the held store
        // without bound, and nothing already held is evicted. A reading below the highest held one fills a gap:
        // within the window it is always held. One raising the highest needs the device's held count under the
        // cap, and beyond the window it must report BUFFER_OVERFLOW (a genuine device after a long outage).
        // Per device at most maxHeldAhead + maxHeldPerDevice readings are ever held.
        const ahead = seq - w.seq.contiguous
        const fillsGap = seq < w.seq.highest
        if (ahead > maxHeldAhead && !fillsGap && !overflows(r)) {
          reject('ERR_HELD_TOO_FAR', `${deviceId} seq ${seq} is ${ahead} above the chain head ${w.seq.contiguous}; at most ${maxHeldAhead} are held unless the reading reports BUFFER_OVERFLOW`, { seq, head: w.seq.contiguous, maxHeldAhead }, deviceId, seq)
        }
        if ((!fillsGap || ahead > maxHeldAhead) && heldCount(w.seq) >= maxHeldPerDevice) {
          reject('ERR_HELD_LIMIT', `${deviceId} already has ${heldCount(w.seq)} readings held above gaps (the cap); seq ${seq} is refused until the gaps below fill, nothing held is evicted`, { seq, head: w.seq.contiguous, held: heldCount(w.seq), maxHeldPerDevice }, deviceId, seq)
        }
        // A new missing range is asked for at once; the others at the usual pace.
        const opens = seq > w.seq.highest + 1
        if (opens) stats.gapsOpened++
        w.seq = holdSeq(w.seq, seq)
        w.held.set(seq, { h, p, payload: b64, overflow: overflows(r) })
        return { done: ledger.holdReading({ payload: b64, deviceId, seq }, receivedAt, { reading: r, hash: h }).then(
          () => {
            stats.held++
            requestResend(deviceId, opens)
            return { kind: 'held', deviceId, seq } as Outcome
          },
          (e) => notCommitted(e),
        ) }
      }
      // The seq right above the head: it must link to the head.
      if (p !== w.headHash) reject('ERR_CHAIN_PREV_MISMATCH', `${deviceId} seq ${seq} names prevHash ${p}, but the chain head ${seq - 1} hashes to ${w.headHash}`, { seq, prevHash: p, expected: w.headHash }, deviceId, seq)
      w.seq = chainNext(w.seq, seq)
      w.pending.set(seq, { h, p, payload: b64 })
      w.headHash = h
      const followed = followHeld(w)
      const contested = w.unlinked.get(seq)
      w.unlinked.delete(seq)
      const done = ledger.appendReading({ payload: b64, deviceId, seq }, receivedAt, { reading: r, hash: h }).then(
        (entry) => {
          w.pending.delete(seq)
          for (const s of followed) w.pending.delete(s)
          const t = clock()
          stats.readings += 1 + followed.length
          addLatency(stats.deviceLatency, t - deviceTimeMs)
          addLatency(stats.ingestLatency, t - receivedAt)
          emitter.emit('reading', { deviceId, seq, index: entry.entry.index, deviceLatencyMs: t - deviceTimeMs, ingestLatencyMs: t - receivedAt } satisfies ReadingCommitted)
          scheduleReceipt(deviceId)
          return { kind: 'stored', deviceId, seq, index: entry.entry.index } as Outcome
        },
        (e) => notCommitted(e),
      )
      // A held reading of this seq was refused as unlinked: with this one chained, the key signed two payloads of one seq.
      if (contested && contested.h !== h && !w.forked) {
        const forkDone = (await fork(w, deviceId, seq, b64, h, contested.h, async () => contested.payload)).done
        return { done: Promise.all([done, forkDone]).then(([stored]) => stored) }
      }
      return { done }

      function notCommitted(e: unknown): Promise<Outcome> {
        // Not durable: forget the optimistic state; the broker will redeliver (no PUBACK).
        working.delete(deviceId)
        // A revocation committed between judging and committing: the reading is
        // refused now, so it is quarantined now (ARCHITECTURE.md decision 6), not on redelivery.
        if ((e as { code?: string }).code === 'ERR_LEDGER_DEVICE_REVOKED') {
          return quarantine(new Rejection('ERR_REVOKED', `device ${deviceId} was revoked before seq ${seq} was committed`, {}, deviceId, seq))
        }
        throw e
      }
    } catch (e) {
      if (!(e instanceof Rejection)) throw e
      return { done: quarantine(e) }
    }

    /**
     * Two different validly signed payloads of one seq: the device's first fork
     * is logged as a reading.fork entry (flagging it compromised); later ones
     * are quarantined as ERR_CHAIN_FORK, so a leaked key cannot grow the log.
     */
    async function fork(w: Working, deviceId: string, seq: number, b64: string, h: string, otherHash: string, other: () => Promise<string>): Promise<{ done: Promise<Outcome> }> {
      const details = { seq, chainedOrHeldHash: otherHash, receivedHash: h }
      if (w.forked || ledger.device(deviceId)?.compromised) reject('ERR_CHAIN_FORK', `${deviceId} seq ${seq} differs from the reading already chained or held at that seq (the device's fork is logged already)`, details, deviceId, seq)
      w.forked = true
      const payloads = [{ b: b64, k: h }, { b: await other(), k: otherHash }].sort((a, b) => (a.k < b.k ? -1 : 1)).map((x) => x.b) as [string, string]
      return { done: ledger.recordFork({ deviceId, seq, payloads }).then(
        (e) => { stats.forks++; return { kind: 'fork', deviceId, seq, index: e.entry.index } as Outcome },
        (e) => { working.delete(deviceId); throw e },
      ) }
    }

    function quarantine(e: Rejection): Promise<Outcome> {
      stats.quarantined++
      stats.quarantineByReason[e.reason] = (stats.quarantineByReason[e.reason] ?? 0) + 1
      const raw = payload.length > maxQuarantineBytes ? payload.subarray(0, maxQuarantineBytes) : payload
      return ledger.quarantine({
        reason: e.reason, message: e.message, time: receivedAt, topic: topic.slice(0, 512), raw: toBase64(raw), rawLength: payload.length,
        ...(e.deviceId !== undefined ? { deviceId: e.deviceId } : {}), ...(e.seq !== undefined ? { seq: e.seq } : {}), details: e.details,
      }).then((q) => {
        emitter.emit('quarantined', { id: q.id, reason: e.reason, detail: e.message, topic: topic.slice(0, 200), deviceId: e.deviceId, seq: e.seq, length: payload.length } satisfies MessageQuarantined)
        return { kind: 'quarantined', reason: e.reason, id: q.id } as Outcome
      })
    }
  }

  /**
   * Declares one range lost, in the judging order (the ingest's predicted state
   * must include it): once everything before it is durable, and only if the
   * range is still exactly the first missing range below a held reading.
   */
  function declare(deviceId: string, fromSeq: number, toSeq: number, cause: GapCause, detail: string): Promise<StoredEntry<'gap'> | undefined> {
    const run = chain.then(async () => {
      await ledger.barrier()
      const d = ledger.device(deviceId)
      const g = d && !d.revoked ? declarableGap(d) : undefined
      if (!g || g[0] !== fromSeq || g[1] !== toSeq) return undefined
      const e = await ledger.declareGap({ deviceId, fromSeq, toSeq, cause, by: 'ingest', detail })
      working.delete(deviceId)
      stalled.delete(deviceId)
      stats.gapsDeclared[cause] = (stats.gapsDeclared[cause] ?? 0) + 1
      scheduleReceipt(deviceId)
      return e
    })
    chain = run.catch(() => undefined)
    return run
  }

  async function checkGaps(): Promise<StoredEntry<'gap'>[]> {
    const out: StoredEntry<'gap'>[] = []
    for (const d of ledger.devices()) {
      const g = d.revoked ? undefined : declarableGap(d)
      if (!g) continue
      requestResend(d.deviceId)
      const st = stalled.get(d.deviceId)
      if (!st || st.head !== d.contiguous) continue
      const waited = clock() - st.since
      const w = await workingOf(d.deviceId)
      const flagged = [...w.held].find(([seq, l]) => seq > g[1] && l.overflow)?.[0]
      let e: StoredEntry<'gap'> | undefined
      if (flagged !== undefined && waited >= overflowGraceMs) {
        e = await declare(d.deviceId, g[0], g[1], 'buffer-overflow', `held seq ${flagged} reports BUFFER_OVERFLOW and the resend request for ${g[0]}..${g[1]} went unanswered for ${waited} ms`)
      } else if (waited >= resendDeadlineMs) {
        e = await declare(d.deviceId, g[0], g[1], 'resend-abandoned', `seq ${g[0]}..${g[1]} did not arrive within ${waited} ms of the first resend request`)
      }
      if (e) out.push(e)
    }
    return out
  }

  function handle(topic: string, payload: Uint8Array, receivedAt = clock()): Promise<Outcome> {
    stats.received++
    // The signature check starts now, beside the judging of earlier messages; judging awaits it in arrival order.
    const early = verifyThreads > 0 ? startCheck(pool, (id) => ledger.lookupDevice(id), payload) : undefined
    const judged = chain.then(() => judge(topic, payload, receivedAt, early))
    chain = judged.catch(() => undefined)
    const done = judged.then((j) => j.done)
    outstanding.add(done)
    done.catch(() => {}).finally(() => { outstanding.delete(done) })
    return done
  }

  async function start(): Promise<void> {
    if (client) throw new Error('ingest already started')
    client = mqtt.connect(url, {
      clientId, clean: false, protocolVersion: 4, reconnectPeriod: 1000, connectTimeout: 10_000,
      ...(opts.username !== undefined ? { username: opts.username } : {}), ...(opts.password !== undefined ? { password: opts.password } : {}),
      ...opts.mqttOptions,
    })
    acks = deferPubacks(client)
    const c = client
    c.handleMessage = (packet, cb) => {
      if (closing) {
        // Closing: judge nothing more and hold back the PUBACK; the broker redelivers on the next connection.
        if (packet.qos > 0 && packet.messageId !== undefined) acks!.withhold(packet.messageId)
        cb()
        return
      }
      const done = handle(packet.topic, packet.payload instanceof Uint8Array ? packet.payload : Buffer.from(packet.payload), clock())
      if (packet.qos > 0 && packet.messageId !== undefined) acks!.track(packet.messageId, done)
      // A commit that failed is not acknowledged (the broker redelivers); report it without crashing.
      done.catch((e) => {
        if (emitter.listenerCount('error') > 0) emitter.emit('error', e)
        // An unhealthy ledger (disk full) refuses every message: the ledger warns once, /health and /metrics say it.
        else if (!UNHEALTHY.has((e as { code?: string }).code ?? '')) log.error({ event: 'commit_failed', err: (e as Error).message, code: (e as { code?: string }).code }, `ingest: ${(e as Error).message}`)
      })
      cb()
    }
    c.on('error', (e) => emitter.emit('mqtt-error', e))
    try {
      await new Promise<void>((resolve, reject) => {
        const onErr = (e: Error) => { c.off('connect', onConnect); reject(e) }
        const onConnect = () => { c.off('error', onErr); resolve() }
        c.once('connect', onConnect)
        c.once('error', onErr)
      })
    } catch (e) {
      client = undefined
      await c.endAsync(true)
      throw e
    }
    const subscribe = async () => {
      const grants = await c.subscribeAsync(readingsFilters(partitions), { qos: 1 })
      for (const g of grants) if (g.qos !== 1) throw new Error(`broker granted QoS ${g.qos} for ${g.topic}; the ingest needs QoS 1`)
    }
    await subscribe()
    // After a restart, ask again for what is still missing.
    const ask = () => { for (const d of ledger.devices()) if (d.gaps.length && !d.revoked) requestResend(d.deviceId, true) }
    // And say again what the ledger holds: after a restore from a backup this receipt is lower
    // than the device's last one, and the device re-sends what the backup lacks.
    for (const d of ledger.devices()) if (!d.revoked) scheduleReceipt(d.deviceId)
    ask()
    c.on('connect', () => { ask() })
    if (gapCheckIntervalMs > 0) {
      gapTimer = setInterval(() => {
        checkGaps().catch((e) => {
          if (emitter.listenerCount('error') > 0) emitter.emit('error', e)
          else log.error({ event: 'gap_check_failed', err: (e as Error).message }, `ingest: the gap check failed: ${(e as Error).message}`)
        })
      }, gapCheckIntervalMs)
      gapTimer.unref()
    }
  }

  async function close(): Promise<void> {
    if (closing) return
    closing = true
    if (gapTimer) clearInterval(gapTimer)
    unfollow()
    await chain
    // Commits, receipts waiting for their checkpoint and PUBACKs settle before the disconnect, unless the
    // ledger cannot write (a full disk): then nothing more is acknowledged, and the devices re-send.
    // (Polled: on a full disk the pending batch settles only when the ledger closes.)
    const whileHealthy = async (pending: () => Promise<unknown>[]) => {
      for (let p = pending(); p.length && ledger.health().ok; p = pending()) await Promise.race([Promise.allSettled(p), new Promise((r) => setTimeout(r, 100))])
    }
    await whileHealthy(() => [...outstanding])
    if (receiptTimer) { clearImmediate(receiptTimer); flushReceipts() }
    await whileHealthy(() => [...anchoring])
    let acked = false
    const a = acks?.settled().finally(() => { acked = true })
    await whileHealthy(() => (a && !acked ? [a] : []))
    if (client) await client.endAsync(!ledger.health().ok)
    await pool.close()
  }

  Object.assign(emitter, { start, close, handle, checkGaps, stats: () => ({ ...structuredClone(stats), pending: outstanding.size }) })
  Object.defineProperty(emitter, 'client', { get: () => client, enumerable: true })
  return emitter
}
