/**
 * What each entry type changes besides the log itself: the query indexes and
 * the derived state (devices, shipments). Run by the store while it builds a
 * batch, in log order, so the indexes land in the same atomic write as the
 * entries they index (ARCHITECTURE.md decision 5: no index without its entry, no
 * entry without its index).
 *
 * Each entry type is checked first (`prepare`, which throws a LedgerError and
 * changes nothing) and applied after its bytes were encoded (`apply`).
 */
import {
  checkDevicePublicKey,
  decodeReading,
  deviceTopic,
  fromBase64,
  fromHex,
  GENESIS_PREV_HASH,
  isProtocolError,
  toHex,
  type DecodedReading,
} from '../protocol/index.ts'
import { sha256Hex } from '../node-crypto/index.ts'
import type { ChainAnchor, Entry, EntryBodies, EntryType, StoredEntry } from '../tlog/index.ts'
import {
  chainNext,
  classifySeq,
  declarableGap,
  declareLost,
  EMPTY_SEQ_STATE,
  holdSeq,
  unholdSeq,
} from './device-chain.ts'
import { GENESIS_PREV } from '../tlog/index.ts'
import { K } from './keys-layout.ts'
import { hexOf } from './node-hex.ts'
import { LedgerError } from './errors.ts'
import { applyChange, assignedFrom, assignedNow, changeProblem, windowsOf } from '../tlog/index.ts'
import type { DeviceState, QuarantineRecord, ShipmentState } from './state-types.ts'

/** A reading's row in the r! index: entry index, payload hash, prevHash (hex), device time. */
export interface ReadingRow {
  i: number
  h: string
  p: string
  t: number
}

/** A held reading (h! key): the exact payload (base64), its hash and prevHash (hex), device time, ledger receive time. */
export interface HeldRow {
  payload: string
  h: string
  p: string
  t: number
  receivedAt: number
}

export interface BatchOp {
  type: 'put' | 'del'
  key: string
  value?: Uint8Array
}

/**
 * What the ingest already decoded and hashed of a reading's payload (the
 * bytes `body.payload` encodes): passed along so the ledger does not decode
 * the base64, the reading and its SHA-256 again. The caller vouches that both
 * come from exactly those bytes; the ledger still checks device id and seq.
 */
export interface KnownReading {
  reading: DecodedReading /** hex SHA-256 of the payload */
  hash: string
}

/** The view of the ledger a batch is built against: committed state plus the batch's own earlier entries. */
export interface BatchContext {
  put(key: string, value: Uint8Array): void
  del(key: string): void
  device(id: string): DeviceState | undefined
  setDevice(d: DeviceState): void
  shipment(id: string): ShipmentState | undefined
  setShipment(s: ShipmentState): void
  /** Open or closed shipments listing this device. */
  shipmentsOfDevice(id: string): ShipmentState[]
  readingRow(deviceId: string, seq: number): Promise<ReadingRow | undefined>
  setReadingRow(deviceId: string, seq: number, row: ReadingRow): void
  /** Readings of one device with device time >= from, committed or earlier in this batch. */
  readingsFromTime(deviceId: string, from: number): Promise<{ seq: number; t: number; i: number }[]>
  heldRow(deviceId: string, seq: number): Promise<HeldRow | undefined>
  setHeldRow(deviceId: string, seq: number, row: HeldRow): void
  deleteHeldRow(deviceId: string, seq: number): void
  /** Stores a quarantine record in this batch (outside the log). */
  quarantine(record: Omit<QuarantineRecord, 'id'>): void
}

/**
 * How a reading entry reaches the chain: sent by the ingest as the next seq
 * (undefined), chained from the held store because the seq below it was
 * chained ('held'), or the first held reading above a declared gap, which has
 * no predecessor to link to ('after-gap').
 */
export type ChainVia = 'held' | 'after-gap'

/** An entry the store appends right after another in the same batch (held readings a chained reading reaches). */
export interface FollowUp {
  type: 'reading'
  body: EntryBodies['reading']
  via: ChainVia
}

/**
 * JSON.stringify's UTF-8 bytes. Buffer.from writes small values into Node's shared pool, where
 * TextEncoder makes an ArrayBuffer per value: a batch writes several values per entry, and the
 * batch copies each one (LevelDB's WriteBatch) when it is put.
 */
export const jsonBytes = (v: unknown): Uint8Array => Buffer.from(JSON.stringify(v), 'utf8')
export const parseJsonBytes = <T>(b: Uint8Array): T => JSON.parse(new TextDecoder().decode(b)) as T

export type Apply = (stored: StoredEntry) => Promise<readonly FollowUp[] | void>

type Preparer<T extends EntryType> = (
  ctx: BatchContext,
  body: EntryBodies[T],
  time: number,
  via?: ChainVia,
  known?: KnownReading,
) => Promise<Apply> | Apply

const bad = (message: string, details: Record<string, unknown> = {}): never => {
  throw new LedgerError('ERR_LEDGER_BAD_INPUT', message, details)
}

const prepareRegister: Preparer<'device.register'> = (ctx, body) => {
  let key: Uint8Array
  try {
    key = fromHex(body.publicKey)
  } catch {
    throw new LedgerError('ERR_LEDGER_BAD_DEVICE_KEY', `device ${body.deviceId}: publicKey must be 64 hex characters`, {
      deviceId: body.deviceId,
    })
  }
  try {
    checkDevicePublicKey(key)
  } catch (e) {
    throw new LedgerError('ERR_LEDGER_BAD_DEVICE_KEY', `device ${body.deviceId}: ${(e as Error).message}`, {
      deviceId: body.deviceId,
      protocolCode: isProtocolError(e) ? e.code : undefined,
    })
  }
  if (ctx.device(body.deviceId))
    throw new LedgerError(
      'ERR_LEDGER_DEVICE_EXISTS',
      `device ${body.deviceId} is already registered; device ids are never reused`,
      { deviceId: body.deviceId },
    )
  return async ({ entry }) => {
    ctx.setDevice({
      ...EMPTY_SEQ_STATE,
      gaps: [],
      deviceId: body.deviceId,
      publicKey: toHex(key),
      model: body.model,
      calibration: body.calibration,
      registeredBy: body.by,
      registeredAt: entry.time,
      registerIndex: entry.index,
      revoked: false,
      readings: 0,
    })
  }
}

const prepareRevoke: Preparer<'device.revoke'> = (ctx, body) => {
  const d = ctx.device(body.deviceId)
  if (!d)
    throw new LedgerError('ERR_LEDGER_DEVICE_UNKNOWN', `device ${body.deviceId} is not registered`, {
      deviceId: body.deviceId,
    })
  if (d.revoked)
    throw new LedgerError(
      'ERR_LEDGER_DEVICE_REVOKED',
      `device ${body.deviceId} was revoked at entry ${d.revokeIndex}`,
      { deviceId: body.deviceId, revokeIndex: d.revokeIndex },
    )
  return async ({ entry }) => {
    ctx.setDevice({ ...d, revoked: true, revokedAt: entry.time, revokeIndex: entry.index, revokeReason: body.reason })
  }
}

const prepareShipmentCreate: Preparer<'shipment.create'> = (ctx, body) => {
  if (ctx.shipment(body.shipmentId))
    throw new LedgerError('ERR_LEDGER_SHIPMENT_EXISTS', `shipment ${body.shipmentId} already exists`, {
      shipmentId: body.shipmentId,
    })
  for (const id of body.devices) {
    if (!ctx.device(id))
      throw new LedgerError(
        'ERR_LEDGER_DEVICE_UNKNOWN',
        `shipment ${body.shipmentId} lists device ${id}, which is not registered`,
        { shipmentId: body.shipmentId, deviceId: id },
      )
  }
  if (new Set(body.devices).size !== body.devices.length)
    bad(`shipment ${body.shipmentId} lists a device twice`, { devices: body.devices })
  // Read here, in the batch, so that no reading can be committed between the head and the entry naming it.
  const anchors = body.devices.map((id) => anchorOf(ctx.device(id)!))
  body.anchors = anchors
  return async ({ entry }) => {
    const s: ShipmentState = {
      shipmentId: body.shipmentId,
      product: body.product,
      route: body.route,
      devices: body.devices,
      profileHash: body.profileHash,
      startAt: body.startAt,
      createdBy: body.by,
      createdAt: entry.time,
      createIndex: entry.index,
      gs1: body.gs1,
      createAnchors: anchors,
    }
    ctx.setShipment(s)
    // Readings stored before the shipment record (startAt in the past) belong to it too.
    for (const id of body.devices) {
      for (const r of await ctx.readingsFromTime(id, body.startAt))
        ctx.put(K.shipmentReading(body.shipmentId, r.t, id, r.seq), jsonBytes(r.i))
    }
  }
}

/**
 * Loggers added to or removed from an open shipment (ledger/tlog/logger-windows.ts). The entry carries each
 * named logger's chain head, read in the batch. An added logger's readings stored already with device
 * time from `at` on join the shipment's index; a removed one's with device time after `at` leave it.
 */
const prepareShipmentDevices: Preparer<'shipment.devices'> = (ctx, body) => {
  const s = ctx.shipment(body.shipmentId)
  if (!s)
    throw new LedgerError('ERR_LEDGER_SHIPMENT_UNKNOWN', `shipment ${body.shipmentId} does not exist`, {
      shipmentId: body.shipmentId,
    })
  if (s.closedAt !== undefined)
    throw new LedgerError(
      'ERR_LEDGER_SHIPMENT_CLOSED',
      `shipment ${body.shipmentId} was closed at entry ${s.closeIndex}`,
      { shipmentId: body.shipmentId, closeIndex: s.closeIndex },
    )
  const windows = windowsOf(s)
  const problem = changeProblem(windows, body, s.startAt)
  if (problem)
    bad(`shipment ${body.shipmentId}: ${problem.message}`, { shipmentId: body.shipmentId, field: problem.field })
  for (const id of body.add) liveDevice(ctx, id)
  const anchors = [...body.add, ...body.remove].map((id) => anchorOf(ctx.device(id)!))
  body.anchors = anchors
  return async ({ entry }) => {
    const loggers = applyChange(windows, { index: entry.index, body })
    ctx.setShipment({ ...s, devices: assignedNow(loggers), loggers })
    for (const id of body.add) {
      for (const r of await ctx.readingsFromTime(id, body.at))
        ctx.put(K.shipmentReading(s.shipmentId, r.t, id, r.seq), jsonBytes(r.i))
    }
    for (const id of body.remove) {
      for (const r of await ctx.readingsFromTime(id, body.at + 1))
        ctx.del(K.shipmentReading(s.shipmentId, r.t, id, r.seq))
    }
  }
}

/** A logger's chain head: its contiguous seq and that reading's hash (64 zeros before its first reading). */
function anchorOf(d: DeviceState): ChainAnchor {
  return d.contiguous === 0 || !d.contiguousHash
    ? { deviceId: d.deviceId, seq: 0, hash: GENESIS_PREV }
    : { deviceId: d.deviceId, seq: d.contiguous, hash: d.contiguousHash }
}

/**
 * The close commits to each logger's chain head (docs/BUNDLE.md, "Anchors"). It is refused unless
 * every chain covers the end of the window — a chained reading (seq <= head) with device time at
 * or after closedAt — or the person closing confirmed, with a reason, that the evidence ends early.
 */
const prepareShipmentClose: Preparer<'shipment.close'> = async (ctx, body) => {
  const s = ctx.shipment(body.shipmentId)
  if (!s)
    throw new LedgerError('ERR_LEDGER_SHIPMENT_UNKNOWN', `shipment ${body.shipmentId} does not exist`, {
      shipmentId: body.shipmentId,
    })
  if (s.closedAt !== undefined)
    throw new LedgerError(
      'ERR_LEDGER_SHIPMENT_CLOSED',
      `shipment ${body.shipmentId} was closed at entry ${s.closeIndex}`,
      { shipmentId: body.shipmentId, closeIndex: s.closeIndex },
    )
  if (body.closedAt < s.startAt)
    bad(`closedAt ${body.closedAt} is before the shipment's startAt ${s.startAt}`, {
      closedAt: body.closedAt,
      startAt: s.startAt,
    })
  const anchors = s.devices.map((id) => anchorOf(ctx.device(id)!))
  if (!body.endsEarly) {
    const short: { deviceId: string; headSeq: number; headDeviceTime: number | null }[] = []
    for (const a of anchors) {
      if ((await ctx.readingsFromTime(a.deviceId, body.closedAt)).some((r) => r.seq <= a.seq)) continue
      short.push({
        deviceId: a.deviceId,
        headSeq: a.seq,
        headDeviceTime: a.seq === 0 ? null : ((await ctx.readingRow(a.deviceId, a.seq))?.t ?? null),
      })
    }
    if (short.length) {
      const list = short
        .map(
          (d) =>
            `${d.deviceId} (head seq ${d.headSeq}${d.headDeviceTime === null ? '' : ` at ${new Date(d.headDeviceTime).toISOString()}`})`,
        )
        .join(', ')
      throw new LedgerError(
        'ERR_LEDGER_EVIDENCE_ENDS_EARLY',
        `shipment ${body.shipmentId}: the chain of ${list} does not reach the close time ${new Date(body.closedAt).toISOString()}; confirm with endsEarly and a reason to close anyway`,
        { shipmentId: body.shipmentId, closedAt: body.closedAt, devices: short },
      )
    }
  }
  // A compromised logger's close anchor names its fork entry: a bundle that leaves it out does not verify.
  for (const a of anchors) {
    const c = ctx.device(a.deviceId)!.compromised
    // A fork above the head (of a held reading) bears on no reading of this chain.
    if (c && c.seq <= a.seq) a.fork = c.forkIndex
  }
  body.anchors = anchors
  return async ({ entry }) => {
    ctx.setShipment({
      ...s,
      closedAt: body.closedAt,
      closedBy: body.by,
      closeIndex: entry.index,
      closeAnchors: anchors,
      ...(body.endsEarly ? { endsEarly: body.endsEarly.reason } : {}),
      ...(body.signature ? { closeSignature: body.signature } : {}),
    })
    // Readings already stored above a head (past a hole) with device times in the window are
    // post-close evidence from now on; readingsByShipment leaves out everything above the anchors.
    for (const a of anchors) {
      const from = windowsOf(s).find((w) => w.deviceId === a.deviceId)?.from ?? s.startAt
      for (const r of await ctx.readingsFromTime(a.deviceId, from)) {
        if (r.t <= body.closedAt && r.seq > a.seq) ctx.put(K.postClose(s.shipmentId, a.deviceId, r.seq), jsonBytes(r.i))
      }
    }
  }
}

/** A receipt: once per shipment, while it is open, not before it started. Changes only the shipment state. */
const prepareShipmentReceive: Preparer<'shipment.receive'> = (ctx, body) => {
  const s = ctx.shipment(body.shipmentId)
  if (!s)
    throw new LedgerError('ERR_LEDGER_SHIPMENT_UNKNOWN', `shipment ${body.shipmentId} does not exist`, {
      shipmentId: body.shipmentId,
    })
  if (s.closedAt !== undefined)
    throw new LedgerError(
      'ERR_LEDGER_SHIPMENT_CLOSED',
      `shipment ${body.shipmentId} was closed at entry ${s.closeIndex}`,
      { shipmentId: body.shipmentId, closeIndex: s.closeIndex },
    )
  if (s.receiveIndex !== undefined)
    throw new LedgerError(
      'ERR_LEDGER_SHIPMENT_RECEIVED',
      `shipment ${body.shipmentId} was received at entry ${s.receiveIndex}`,
      { shipmentId: body.shipmentId, receiveIndex: s.receiveIndex },
    )
  if (body.receivedAt < s.startAt)
    bad(`receivedAt ${body.receivedAt} is before the shipment's startAt ${s.startAt}`, {
      receivedAt: body.receivedAt,
      startAt: s.startAt,
    })
  return async ({ entry }) => {
    ctx.setShipment({
      ...s,
      receivedAt: body.receivedAt,
      receivedBy: body.by,
      receiveIndex: entry.index,
      receiveSignature: body.signature,
    })
  }
}

const prepareAlarmAck: Preparer<'alarm.ack'> = (ctx, body) => {
  if (!ctx.shipment(body.shipmentId))
    throw new LedgerError('ERR_LEDGER_SHIPMENT_UNKNOWN', `shipment ${body.shipmentId} does not exist`, {
      shipmentId: body.shipmentId,
    })
  return async () => {}
}

const prepareCheckpoint: Preparer<'checkpoint'> = (ctx, body) => async () => {
  ctx.put(K.checkpoint, jsonBytes({ note: body.note, size: body.size, rootHash: body.rootHash }))
}

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

function liveDevice(ctx: BatchContext, deviceId: string): DeviceState {
  const d = ctx.device(deviceId)
  if (!d) throw new LedgerError('ERR_LEDGER_DEVICE_UNKNOWN', `device ${deviceId} is not registered`, { deviceId })
  if (d.revoked) throw new LedgerError('ERR_LEDGER_DEVICE_REVOKED', `device ${deviceId} is revoked`, { deviceId })
  return d
}

/**
 * A reading entry: always the seq right above the device's chain head, and
 * (unless it is the first reading above a declared gap) linked to the head's
 * hash. The ingest has verified signature, device and chain; the store
 * re-checks what keeps the log a chain and its own indexes consistent.
 * Applying it reaches the held reading above, if any (`followHeld`).
 */
const prepareReading: Preparer<'reading'> = async (ctx, body, _time, via, known) => {
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
  const p = hexOf(r.fields.prevHash)
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
  const row = await ctx.heldRow(deviceId, seq)
  if (!row)
    throw new LedgerError(
      'ERR_LEDGER_STATE_MISMATCH',
      `device ${deviceId} seq ${seq} is counted as held but no held reading is stored`,
      { deviceId, seq },
    )
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
      p: hexOf(r.fields.prevHash),
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
const prepareGap: Preparer<'gap'> = (ctx, body) => {
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
    const row = await ctx.heldRow(body.deviceId, body.toSeq + 1)
    if (!row)
      throw new LedgerError(
        'ERR_LEDGER_STATE_MISMATCH',
        `device ${body.deviceId} seq ${body.toSeq + 1} is counted as held but no held reading is stored`,
        { deviceId: body.deviceId, seq: body.toSeq + 1 },
      )
    return [
      {
        type: 'reading',
        body: { payload: row.payload, deviceId: body.deviceId, seq: body.toSeq + 1 },
        via: 'after-gap',
      },
    ]
  }
}

/** A fork flags the device as compromised from the fork's seq on (the first fork counts). */
const prepareFork: Preparer<'reading.fork'> = (ctx, body) => {
  if (!ctx.device(body.deviceId))
    throw new LedgerError('ERR_LEDGER_DEVICE_UNKNOWN', `device ${body.deviceId} is not registered`, {
      deviceId: body.deviceId,
    })
  return async ({ entry }) => {
    const d = ctx.device(body.deviceId)!
    if (!d.compromised) ctx.setDevice({ ...d, compromised: { seq: body.seq, forkIndex: entry.index } })
  }
}

const PREPARERS: { [T in EntryType]: Preparer<T> } = {
  'device.register': prepareRegister,
  'device.revoke': prepareRevoke,
  'shipment.create': prepareShipmentCreate,
  'shipment.close': prepareShipmentClose,
  'shipment.receive': prepareShipmentReceive,
  'shipment.devices': prepareShipmentDevices,
  'alarm.ack': prepareAlarmAck,
  checkpoint: prepareCheckpoint,
  reading: prepareReading,
  gap: prepareGap,
  'reading.fork': prepareFork,
}

export async function prepareEntry<T extends EntryType>(
  ctx: BatchContext,
  type: T,
  body: EntryBodies[T],
  time: number,
  via?: ChainVia,
  known?: KnownReading,
): Promise<Apply> {
  const p = PREPARERS[type] as Preparer<T> | undefined
  if (!p) bad(`unknown entry type ${JSON.stringify(type)}`)
  return p!(ctx, body, time, via, known)
}

export type { Entry }
