/**
 * The reading chain's effects: a reading entry's index rows (r!, rt!, and rs! or pc! for each
 * shipment whose window holds it) and the device's chain head; the held readings above a gap
 * (h!, outside the log) and what chains them (the next reading, a declared gap); the quarantine
 * of a held reading that does not link. This is the hot path: one call per reading, no closure
 * or array beyond what the rows need.
 */
import {
  decodeReading,
  deviceTopic,
  fromBase64,
  GENESIS_PREV_HASH,
  toHex,
  type DecodedReading,
} from '../protocol/index.ts'
import { sha256Hex } from '../node-crypto/index.ts'
import type { EntryBodies } from '../tlog/index.ts'
import { assignedFrom } from '../tlog/index.ts'
import {
  bad,
  jsonBytes,
  type BatchContext,
  type FollowUp,
  type HeldRow,
  type KnownReading,
  type Preparer,
  type ReadingRow,
} from './batch-context.ts'
import { chainNext, classifySeq, declarableGap, declareLost, holdSeq, unholdSeq } from './device-chain.ts'
import { liveDevice } from './device-entries.ts'
import { LedgerError } from './errors.ts'
import { K } from './keys-layout.ts'
import type { DeviceState } from './state-types.ts'

const hexGenesis = toHex(GENESIS_PREV_HASH)

/** The reading a body carries and its hex hash: taken from `known` when the ingest passed them, else decoded here. */
function readingOfBody(
  body: EntryBodies['reading'],
  known: KnownReading | undefined,
): { r: DecodedReading; h: string } {
  const { deviceId, seq } = body
  let r: DecodedReading
  let h: string
  if (known) {
    r = known.reading
    h = known.hash
  } else {
    const payload = fromBase64(body.payload)
    try {
      r = decodeReading(payload)
    } catch (e) {
      return bad(`reading payload does not decode: ${(e as Error).message}`, { deviceId })
    }
    h = sha256Hex(payload)
  }
  if (r.fields.deviceId !== deviceId || r.fields.seq !== seq)
    bad('reading body deviceId/seq differ from the payload', { deviceId, seq })
  return { r, h }
}

/** The held reading the device state counts at `seq`; ERR_LEDGER_STATE_MISMATCH when none is stored. */
async function countedHeldRow(ctx: BatchContext, deviceId: string, seq: number): Promise<HeldRow> {
  const row = await ctx.heldRow(deviceId, seq)
  if (!row)
    throw new LedgerError(
      'ERR_LEDGER_STATE_MISMATCH',
      `device ${deviceId} seq ${seq} is counted as held but no held reading is stored`,
      { deviceId, seq },
    )
  return row
}

/**
 * A reading entry: always the seq right above the device's chain head, and
 * (unless it is the first reading above a declared gap) linked to the head's
 * hash. The ingest has verified signature, device and chain; the store
 * re-checks what keeps the log a chain and its own indexes consistent.
 * Applying it reaches the held reading above, if any (`followHeld`).
 */
export const prepareReading: Preparer<'reading'> = async (ctx, body, _time, via, known) => {
  const d = liveDevice(ctx, body.deviceId)
  const { r, h } = readingOfBody(body, known)
  const kind = classifySeq(d, body.seq)
  if (body.seq !== d.contiguous + 1 || kind !== (via ? 'held' : 'next')) {
    throw new LedgerError(
      'ERR_LEDGER_CHAIN_ORDER',
      `device ${body.deviceId} seq ${body.seq} is ${kind}, not the next ${via ? 'held ' : ''}seq above the chain head ${d.contiguous}`,
      { deviceId: body.deviceId, seq: body.seq, head: d.contiguous },
    )
  }
  const p = toHex(r.fields.prevHash)
  const head = d.contiguous === 0 ? hexGenesis : d.contiguousHash
  if (via !== 'after-gap' && p !== head) {
    throw new LedgerError(
      'ERR_LEDGER_CHAIN_LINK',
      `device ${body.deviceId} seq ${body.seq} names prevHash ${p}, but the chain head ${d.contiguous} hashes to ${head}`,
      { deviceId: body.deviceId, seq: body.seq, expected: head, actual: p },
    )
  }
  return async ({ entry }) => {
    const f = r.fields
    const row: ReadingRow = { i: entry.index, h, p, t: f.deviceTimeMs }
    ctx.setReadingRow(f.deviceId, f.seq, row)
    // Every index below stores the same value, the entry index: encoded once (the batch copies values).
    const index = jsonBytes(entry.index)
    ctx.put(K.readingTime(f.deviceId, f.deviceTimeMs, f.seq), index)
    for (const s of ctx.shipmentsOfDevice(f.deviceId)) {
      // A reading belongs to a shipment from its logger's start (startAt, or its assignment) on, and up to
      // closedAt once closed; above the close anchor it is post-close evidence, never part of the closed
      // shipment. A removed logger's readings logged after its removal are not the shipment's.
      const from = assignedFrom(s, f.deviceId)
      if (from === undefined) continue
      if (f.deviceTimeMs >= from && (s.closedAt === undefined || f.deviceTimeMs <= s.closedAt)) {
        const anchor = s.closeAnchors?.find((a) => a.deviceId === f.deviceId)
        if (anchor && f.seq > anchor.seq) ctx.put(K.postClose(s.shipmentId, f.deviceId, f.seq), index)
        else ctx.put(K.shipmentReading(s.shipmentId, f.deviceTimeMs, f.deviceId, f.seq), index)
      }
    }
    if (via) ctx.deleteHeldRow(f.deviceId, f.seq)
    const cur = ctx.device(f.deviceId)!
    // Readings are chained in seq order, so each one is the newest of the chain. Optional fields are
    // assigned after the copy (the key order of the former spreads, so the same JSON on disk).
    const next: DeviceState = {
      ...cur,
      ...chainNext(cur, f.seq),
      contiguousHash: h,
      readings: cur.readings + 1,
      lastSeenAt: entry.time,
      lastDeviceTime: f.deviceTimeMs,
      lastTempCentiC: f.tempCentiC,
    }
    if (f.seq >= cur.highest) next.highestHash = h
    if (f.batteryPct !== undefined) next.batteryPct = f.batteryPct
    if (f.status !== undefined) next.status = f.status
    ctx.setDevice(next)
    return followHeld(ctx, f.deviceId, h, entry.time)
  }
}

/** What almost every reading makes follow: nothing (shared, callers only read it). */
const NO_FOLLOW_UPS: readonly FollowUp[] = Object.freeze([])

/**
 * After the head moved to a reading hashing to `headHash`: the held reading
 * right above it is chained next if it links; one that does not link is
 * evidence of a fork or a forgery, so it is taken out of the held store and
 * quarantined (ERR_HELD_UNLINKED), and its seq is missing again.
 */
async function followHeld(
  ctx: BatchContext,
  deviceId: string,
  headHash: string,
  time: number,
): Promise<readonly FollowUp[]> {
  const d = ctx.device(deviceId)!
  const seq = d.contiguous + 1
  if (classifySeq(d, seq) !== 'held') return NO_FOLLOW_UPS
  const row = await countedHeldRow(ctx, deviceId, seq)
  if (row.p === headHash) return [{ type: 'reading', body: { payload: row.payload, deviceId, seq }, via: 'held' }]
  ctx.deleteHeldRow(deviceId, seq)
  const raw = fromBase64(row.payload)
  ctx.quarantine({
    reason: 'ERR_HELD_UNLINKED',
    message: `${deviceId} seq ${seq} was held above a gap, but its prevHash ${row.p} is not the hash ${headHash} of the reading chained at seq ${seq - 1}`,
    time,
    topic: deviceTopic(deviceId, 'readings'),
    raw: row.payload,
    rawLength: raw.length,
    deviceId,
    seq,
    details: { seq, prevHash: row.p, expected: headHash, hash: row.h, heldSince: row.receivedAt },
  })
  const next = unholdSeq(d, seq)
  ctx.setDevice({ ...d, ...next, ...(next.highest === d.contiguous ? { highestHash: d.contiguousHash } : {}) })
  return []
}

/**
 * Holds a verified reading above a gap (outside the log): it waits for the
 * readings below it, or for a declared gap. Not an entry: no index, no receipt.
 */
export function prepareHold(
  ctx: BatchContext,
  body: EntryBodies['reading'],
  receivedAt: number,
  known?: KnownReading,
): () => void {
  const d = liveDevice(ctx, body.deviceId)
  const { r, h } = readingOfBody(body, known)
  const kind = classifySeq(d, body.seq)
  if (kind !== 'ahead')
    throw new LedgerError(
      'ERR_LEDGER_CHAIN_ORDER',
      `device ${body.deviceId} seq ${body.seq} is ${kind}: only a missing seq above the next one is held`,
      { deviceId: body.deviceId, seq: body.seq, head: d.contiguous },
    )
  return () => {
    ctx.setHeldRow(body.deviceId, body.seq, {
      payload: body.payload,
      h,
      p: toHex(r.fields.prevHash),
      t: r.fields.deviceTimeMs,
      receivedAt,
    })
    ctx.setDevice({ ...d, ...holdSeq(d, body.seq), ...(body.seq > d.highest ? { highestHash: h } : {}) })
  }
}

/**
 * A declared gap: only the whole missing range right below the lowest held
 * reading (fromSeq = head + 1, toSeq = lowest held seq - 1). The head moves to
 * toSeq and the held readings from toSeq + 1 on are chained in the same batch
 * (the first without a prevHash check against the reading that never came).
 */
export const prepareGap: Preparer<'gap'> = (ctx, body) => {
  const d = liveDevice(ctx, body.deviceId)
  const g = declarableGap(d)
  if (!g || g[0] !== body.fromSeq || g[1] !== body.toSeq) {
    throw new LedgerError(
      'ERR_LEDGER_GAP_RANGE',
      `device ${body.deviceId}: ${g ? `the only range that can be declared lost is ${g[0]}..${g[1]}` : 'no missing range lies below a held reading'}, not ${body.fromSeq}..${body.toSeq}`,
      { deviceId: body.deviceId, fromSeq: body.fromSeq, toSeq: body.toSeq, declarable: g ?? null },
    )
  }
  return async () => {
    ctx.setDevice({ ...d, ...declareLost(d, body.fromSeq, body.toSeq) })
    const row = await countedHeldRow(ctx, body.deviceId, body.toSeq + 1)
    return [
      {
        type: 'reading',
        body: { payload: row.payload, deviceId: body.deviceId, seq: body.toSeq + 1 },
        via: 'after-gap',
      },
    ]
  }
}
