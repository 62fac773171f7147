/**
 * Judging one message: what it is (a reading to store, hold or ignore as a
 * duplicate, a fork, or something to quarantine) and the write that records
 * it. Runs one message at a time, in arrival order (IngestContext.queue).
 */
import { chainNext, classifySeq, heldCount, holdSeq } from '../store/index.ts'
import { signatureValid, type EarlyCheck } from './early-verify.ts'
import type { MessageQuarantined, Outcome, ReadingCommitted } from './ingest.ts'
import type { IngestContext } from './ingest-context.ts'
import { addLatency, countQuarantined } from './ingest-stats.ts'
import { followHeld, overflows, type Link, type Working } from './ingest-working.ts'
import { sha256Hex } from '../node-crypto/index.ts'
import {
  decodeReading,
  decodeReason,
  isProtocolError,
  MAX_READING_PAYLOAD,
  parseDeviceTopic,
  toBase64,
  toHex,
  type DecodedReading,
} from '../protocol/index.ts'
import type { QuarantineReason } from '../store/index.ts'

/** The message as received. */
interface Message {
  topic: string
  payload: Uint8Array
  receivedAt: number
}
/** A verified reading about to be placed in its device's chain. */
interface Placed {
  r: DecodedReading
  deviceId: string
  seq: number
  deviceTimeMs: number
  w: Working
  h: string
  p: string
  b64: string
}
/** The durable outcome promise, boxed (see judge). */
type Judged = { done: Promise<Outcome> }

class Rejection extends Error {
  constructor(
    readonly reason: QuarantineReason,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly deviceId?: string,
    readonly seq?: number,
  ) {
    super(message)
  }
}

function reject(
  reason: QuarantineReason,
  message: string,
  details: Record<string, unknown> = {},
  deviceId?: string,
  seq?: number,
): never {
  throw new Rejection(reason, message, details, deviceId, seq)
}

/**
 * Decides what a message is and submits its write; returns the durable
 * outcome promise boxed (a returned bare promise would be adopted by the
 * async function, making the next judgement wait for this commit).
 */
export async function judge(
  ctx: IngestContext,
  topic: string,
  payload: Uint8Array,
  receivedAt: number,
  early: EarlyCheck | undefined,
): Promise<Judged> {
  const msg = { topic, payload, receivedAt }
  try {
    const r = await verifiedReading(ctx, msg, early)
    return await placeInChain(ctx, msg, r)
  } catch (e) {
    if (!(e instanceof Rejection)) throw e
    return { done: quarantine(ctx, msg, e) }
  }
}

/** The reading, once its size, topic, encoding, device, signature and time pass; else a Rejection. */
async function verifiedReading(
  ctx: IngestContext,
  { topic, payload }: Message,
  early: EarlyCheck | undefined,
): Promise<DecodedReading> {
  const { ledger } = ctx
  if (payload.length > MAX_READING_PAYLOAD)
    reject(
      'ERR_READING_TOO_LARGE',
      `payload is ${payload.length} bytes; a v1 reading is at most ${MAX_READING_PAYLOAD}`,
      { length: payload.length, max: MAX_READING_PAYLOAD },
    )
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
    return reject(
      decodeReason(isProtocolError(e) ? e.code : undefined),
      (e as Error).message,
      isProtocolError(e) ? { ...e.details } : {},
      topicDevice,
    )
  }
  const { deviceId, seq, deviceTimeMs } = r.fields
  if (deviceId !== topicDevice)
    reject(
      'ERR_TOPIC_MISMATCH',
      `reading of device ${deviceId} published on the topic of ${topicDevice}`,
      { topicDevice, readingDevice: deviceId },
      topicDevice,
      seq,
    )
  const dev = ledger.lookupDevice(deviceId)
  if (!dev) reject('ERR_UNKNOWN_DEVICE', `device ${deviceId} is not registered`, {}, deviceId, seq)
  if (dev!.revoked) reject('ERR_REVOKED', `device ${deviceId} is revoked`, {}, deviceId, seq)
  // Started on arrival (handle) on the pool's threads; checked again here only if the key changed since.
  if (!(await signatureValid(ctx.pool, early, r, dev!.publicKey))) {
    reject(
      'ERR_READING_BAD_SIGNATURE',
      `the signature of ${deviceId} seq ${seq} does not verify under the registered key`,
      { publicKey: toHex(dev!.publicKey) },
      deviceId,
      seq,
    )
  }
  const now = ctx.clock()
  if (deviceTimeMs > now + ledger.futureSkewMs)
    reject(
      'ERR_FUTURE_TIME',
      `device time ${new Date(deviceTimeMs).toISOString()} is ${deviceTimeMs - now} ms ahead of the ledger clock (allowed ${ledger.futureSkewMs})`,
      { deviceTimeMs, ledgerTime: now, skewMs: ledger.futureSkewMs },
      deviceId,
      seq,
    )
  return r
}

/** Chain checks against chained, held and pending readings (docs/PROTOCOL.md, "Hash chaining"). */
async function placeInChain(ctx: IngestContext, msg: Message, r: DecodedReading): Promise<Judged> {
  const { deviceId, seq, deviceTimeMs } = r.fields
  const w = ctx.working.loaded(deviceId) ?? (await ctx.working.of(deviceId))
  const x: Placed = {
    r,
    deviceId,
    seq,
    deviceTimeMs,
    w,
    h: sha256Hex(msg.payload),
    p: toHex(r.fields.prevHash),
    b64: toBase64(msg.payload),
  }
  const kind = classifySeq(w.seq, seq)
  if (kind === 'chained') {
    const existing = await ctx.working.linkAt(deviceId, w, seq)
    if (!existing)
      reject(
        'ERR_SEQ_DECLARED_LOST',
        `${deviceId} seq ${seq} lies inside a declared gap: the chain head ${w.seq.contiguous} has moved past it`,
        { seq, head: w.seq.contiguous },
        deviceId,
        seq,
      )
    if (existing!.h === x.h) return duplicate(ctx, x)
    return await fork(ctx, x, existing!.h, existing!.payload)
  }
  if (kind === 'held') {
    const held = w.held.get(seq)!
    if (held.h === x.h) return duplicate(ctx, x)
    return await fork(ctx, x, held.h, async () => held.payload)
  }
  if (kind === 'ahead') return holdAhead(ctx, msg, x)
  return appendNext(ctx, msg, x)
}

function duplicate(ctx: IngestContext, { deviceId, seq }: Placed): Judged {
  ctx.stats.duplicates++
  return {
    done: ctx.ledger.barrier().then(() => {
      ctx.notices.scheduleReceipt(deviceId)
      return { kind: 'duplicate', deviceId, seq } as Outcome
    }),
  }
}

/** A reading above a gap: held outside the log, within the caps. */
function holdAhead(ctx: IngestContext, msg: Message, x: Placed): Judged {
  const { r, deviceId, seq, w, h, p, b64 } = x
  const { maxHeldAhead, maxHeldPerDevice } = ctx.s
  // Caps on held readings (docs/PROTOCOL.md, "Held readings"): a leaked key must not grow the held store
  // without bound, and nothing already held is evicted. A reading below the highest held one fills a gap:
  // within the window it is always held. One raising the highest needs the device's held count under the
  // cap, and beyond the window it must report BUFFER_OVERFLOW (a genuine device after a long outage).
  // Per device at most maxHeldAhead + maxHeldPerDevice readings are ever held.
  const ahead = seq - w.seq.contiguous
  const fillsGap = seq < w.seq.highest
  if (ahead > maxHeldAhead && !fillsGap && !overflows(r)) {
    reject(
      'ERR_HELD_TOO_FAR',
      `${deviceId} seq ${seq} is ${ahead} above the chain head ${w.seq.contiguous}; at most ${maxHeldAhead} are held unless the reading reports BUFFER_OVERFLOW`,
      { seq, head: w.seq.contiguous, maxHeldAhead },
      deviceId,
      seq,
    )
  }
  if ((!fillsGap || ahead > maxHeldAhead) && heldCount(w.seq) >= maxHeldPerDevice) {
    reject(
      'ERR_HELD_LIMIT',
      `${deviceId} already has ${heldCount(w.seq)} readings held above gaps (the cap); seq ${seq} is refused until the gaps below fill, nothing held is evicted`,
      { seq, head: w.seq.contiguous, held: heldCount(w.seq), maxHeldPerDevice },
      deviceId,
      seq,
    )
  }
  // A new missing range is asked for at once; the others at the usual pace.
  const opens = seq > w.seq.highest + 1
  if (opens) ctx.stats.gapsOpened++
  w.seq = holdSeq(w.seq, seq)
  w.held.set(seq, { h, p, payload: b64, overflow: overflows(r) })
  return {
    done: ctx.ledger.holdReading({ payload: b64, deviceId, seq }, msg.receivedAt, { reading: r, hash: h }).then(
      () => {
        ctx.stats.held++
        ctx.notices.requestResend(deviceId, opens)
        return { kind: 'held', deviceId, seq } as Outcome
      },
      (e) => notCommitted(ctx, msg, x, e),
    ),
  }
}

/**
 * The seq right above the head: it must link to the head; held readings above it may follow.
 * Not async: only a contested seq waits (withFork), so the usual reading costs no promise here.
 */
function appendNext(ctx: IngestContext, msg: Message, x: Placed): Judged | Promise<Judged> {
  const { r, deviceId, seq, deviceTimeMs, w, h, p, b64 } = x
  const { stats, clock } = ctx
  if (p !== w.headHash)
    reject(
      'ERR_CHAIN_PREV_MISMATCH',
      `${deviceId} seq ${seq} names prevHash ${p}, but the chain head ${seq - 1} hashes to ${w.headHash}`,
      { seq, prevHash: p, expected: w.headHash },
      deviceId,
      seq,
    )
  w.seq = chainNext(w.seq, seq)
  w.pending.set(seq, { h, p, payload: b64 })
  w.headHash = h
  const followed = followHeld(w, stats)
  const contested = w.unlinked.get(seq)
  w.unlinked.delete(seq)
  const done = ctx.ledger.appendReading({ payload: b64, deviceId, seq }, msg.receivedAt, { reading: r, hash: h }).then(
    (entry) => {
      w.pending.delete(seq)
      for (const s of followed) w.pending.delete(s)
      const t = clock()
      stats.readings += 1 + followed.length
      addLatency(stats.deviceLatency, t - deviceTimeMs)
      addLatency(stats.ingestLatency, t - msg.receivedAt)
      ctx.emitter.emit('reading', {
        deviceId,
        seq,
        index: entry.entry.index,
        deviceLatencyMs: t - deviceTimeMs,
        ingestLatencyMs: t - msg.receivedAt,
      } satisfies ReadingCommitted)
      ctx.notices.scheduleReceipt(deviceId)
      return { kind: 'stored', deviceId, seq, index: entry.entry.index } as Outcome
    },
    (e) => notCommitted(ctx, msg, x, e),
  )
  // A held reading of this seq was refused as unlinked: with this one chained, the key signed two payloads of one seq.
  if (contested && contested.h !== h && !w.forked) return withFork(ctx, x, contested, done)
  return { done }
}

/** The stored reading's outcome, once the fork it proves (against a held reading refused as unlinked) is logged too. */
async function withFork(ctx: IngestContext, x: Placed, contested: Link, done: Promise<Outcome>): Promise<Judged> {
  const forkDone = (await fork(ctx, x, contested.h, async () => contested.payload)).done
  return { done: Promise.all([done, forkDone]).then(([stored]) => stored) }
}

function notCommitted(ctx: IngestContext, msg: Message, { deviceId, seq }: Placed, e: unknown): Promise<Outcome> {
  // Not durable: forget the optimistic state; the broker will redeliver (no PUBACK).
  ctx.working.forget(deviceId)
  // A revocation committed between judging and committing: the reading is
  // refused now, so it is quarantined now (ARCHITECTURE.md decision 6), not on redelivery.
  if ((e as { code?: string }).code === 'ERR_LEDGER_DEVICE_REVOKED') {
    return quarantine(
      ctx,
      msg,
      new Rejection('ERR_REVOKED', `device ${deviceId} was revoked before seq ${seq} was committed`, {}, deviceId, seq),
    )
  }
  throw e
}

/**
 * Two different validly signed payloads of one seq: the device's first fork
 * is logged as a reading.fork entry (flagging it compromised); later ones
 * are quarantined as ERR_CHAIN_FORK, so a leaked key cannot grow the log.
 */
async function fork(
  ctx: IngestContext,
  { w, deviceId, seq, b64, h }: Placed,
  otherHash: string,
  other: () => Promise<string>,
): Promise<Judged> {
  const details = { seq, chainedOrHeldHash: otherHash, receivedHash: h }
  if (w.forked || ctx.ledger.device(deviceId)?.compromised)
    reject(
      'ERR_CHAIN_FORK',
      `${deviceId} seq ${seq} differs from the reading already chained or held at that seq (the device's fork is logged already)`,
      details,
      deviceId,
      seq,
    )
  w.forked = true
  const payloads = [
    { b: b64, k: h },
    { b: await other(), k: otherHash },
  ]
    .sort((a, b) => (a.k < b.k ? -1 : 1))
    .map((x) => x.b) as [string, string]
  return {
    done: ctx.ledger.recordFork({ deviceId, seq, payloads }).then(
      (e) => {
        ctx.stats.forks++
        return { kind: 'fork', deviceId, seq, index: e.entry.index } as Outcome
      },
      (e) => {
        ctx.working.forget(deviceId)
        throw e
      },
    ),
  }
}

function quarantine(ctx: IngestContext, { topic, payload, receivedAt }: Message, e: Rejection): Promise<Outcome> {
  countQuarantined(ctx.stats, e.reason)
  const max = ctx.s.maxQuarantineBytes
  const raw = payload.length > max ? payload.subarray(0, max) : payload
  return ctx.ledger
    .quarantine({
      reason: e.reason,
      message: e.message,
      time: receivedAt,
      topic: topic.slice(0, 512),
      raw: toBase64(raw),
      rawLength: payload.length,
      ...(e.deviceId !== undefined ? { deviceId: e.deviceId } : {}),
      ...(e.seq !== undefined ? { seq: e.seq } : {}),
      details: e.details,
    })
    .then((q) => {
      ctx.emitter.emit('quarantined', {
        id: q.id,
        reason: e.reason,
        detail: e.message,
        topic: topic.slice(0, 200),
        deviceId: e.deviceId,
        seq: e.seq,
        length: payload.length,
      } satisfies MessageQuarantined)
      return { kind: 'quarantined', reason: e.reason, id: q.id } as Outcome
    })
}
