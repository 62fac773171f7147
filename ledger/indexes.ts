/**
 * What each entry type changes besides the log itself: the query indexes and
 * the derived state (devices, shipments). Run by the store while it builds a
 * batch, in log order, so the indexes land in the same atomic write as the
 * entries they index (DESIGN.md decision 5: no index without its entry, no
 * entry without its index).
 *
 * Each entry type is checked first (`prepare`, which throws a LedgerError and
 * changes nothing) and applied after its bytes were encoded (`apply`).
 */
import { checkDevicePublicKey, decodeReading, fromHex, isProtocolError, readingHash, toHex, type DecodedReading } from './protocol/index.ts'
import type { ChainAnchor, Entry, EntryBodies, EntryType, StoredEntry } from './entry-types.ts'
import { applySeq, classifySeq, declareRange, EMPTY_SEQ_STATE } from './device-chain.ts'
import { GENESIS_PREV } from './entry-codec.ts'
import { K } from './keys-layout.ts'
import { LedgerError } from './errors.ts'
import type { DeviceState, ShipmentState } from './state-types.ts'

/** A reading's row in the r! index: entry index, payload hash, prevHash (hex), device time. */
export interface ReadingRow { i: number; h: string; p: string; t: number }

export interface BatchOp { type: 'put' | 'del'; key: string; value?: Uint8Array }

/** The view of the ledger a batch is built against: committed state plus the batch's own earlier entries. */
export interface BatchContext {
  put(key: string, value: Uint8Array): void
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
}

const enc = new TextEncoder()
export const jsonBytes = (v: unknown): Uint8Array => enc.encode(JSON.stringify(v))
export const parseJsonBytes = <T>(b: Uint8Array): T => JSON.parse(new TextDecoder().decode(b)) as T

export type Apply = (stored: StoredEntry) => Promise<void>

type Preparer<T extends EntryType> = (ctx: BatchContext, body: EntryBodies[T], time: number) => Promise<Apply> | Apply

const bad = (message: string, details: Record<string, unknown> = {}): never => { throw new LedgerError('ERR_LEDGER_BAD_INPUT', message, details) }

const prepareRegister: Preparer<'device.register'> = (ctx, body) => {
  let key: Uint8Array
  try {
    key = fromHex(body.publicKey)
  } catch {
    throw new LedgerError('ERR_LEDGER_BAD_DEVICE_KEY', `device ${body.deviceId}: publicKey must be 64 hex characters`, { deviceId: body.deviceId })
  }
  try {
    checkDevicePublicKey(key)
  } catch (e) {
    throw new LedgerError('ERR_LEDGER_BAD_DEVICE_KEY', `device ${body.deviceId}: ${(e as Error).message}`, { deviceId: body.deviceId, protocolCode: isProtocolError(e) ? e.code : undefined })
  }
  if (ctx.device(body.deviceId)) throw new LedgerError('ERR_LEDGER_DEVICE_EXISTS', `device ${body.deviceId} is already registered; device ids are never reused`, { deviceId: body.deviceId })
  return async ({ entry }) => {
    ctx.setDevice({
      ...EMPTY_SEQ_STATE, gaps: [], deviceId: body.deviceId, publicKey: toHex(key), model: body.model, calibration: body.calibration,
      registeredBy: body.by, registeredAt: entry.time, registerIndex: entry.index, revoked: false, readings: 0,
    })
  }
}

const prepareRevoke: Preparer<'device.revoke'> = (ctx, body) => {
  const d = ctx.device(body.deviceId)
  if (!d) throw new LedgerError('ERR_LEDGER_DEVICE_UNKNOWN', `device ${body.deviceId} is not registered`, { deviceId: body.deviceId })
  if (d.revoked) throw new LedgerError('ERR_LEDGER_DEVICE_REVOKED', `device ${body.deviceId} was revoked at entry ${d.revokeIndex}`, { deviceId: body.deviceId, revokeIndex: d.revokeIndex })
  return async ({ entry }) => {
    ctx.setDevice({ ...d, revoked: true, revokedAt: entry.time, revokeIndex: entry.index, revokeReason: body.reason })
  }
}

const prepareShipmentCreate: Preparer<'shipment.create'> = (ctx, body) => {
  if (ctx.shipment(body.shipmentId)) throw new LedgerError('ERR_LEDGER_SHIPMENT_EXISTS', `shipment ${body.shipmentId} already exists`, { shipmentId: body.shipmentId })
  for (const id of body.devices) {
    if (!ctx.device(id)) throw new LedgerError('ERR_LEDGER_DEVICE_UNKNOWN', `shipment ${body.shipmentId} lists device ${id}, which is not registered`, { shipmentId: body.shipmentId, deviceId: id })
  }
  if (new Set(body.devices).size !== body.devices.length) bad(`shipment ${body.shipmentId} lists a device twice`, { devices: body.devices })
  // Read here, in the batch, so that no reading can be committed between the head and the entry naming it.
  const anchors = body.devices.map((id) => anchorOf(ctx.device(id)!))
  body.anchors = anchors
  return async ({ entry }) => {
    const s: ShipmentState = {
      shipmentId: body.shipmentId, product: body.product, route: body.route, devices: body.devices, profileHash: body.profileHash,
      startAt: body.startAt, createdBy: body.by, createdAt: entry.time, createIndex: entry.index, gs1: body.gs1, createAnchors: anchors,
    }
    ctx.setShipment(s)
    // Readings stored before the shipment record (startAt in the past) belong to it too.
    for (const id of body.devices) {
      for (const r of await ctx.readingsFromTime(id, body.startAt)) ctx.put(K.shipmentReading(body.shipmentId, r.t, id, r.seq), jsonBytes(r.i))
    }
  }
}

/** A logger's chain head: its contiguous seq and that reading's hash (64 zeros before its first reading). */
function anchorOf(d: DeviceState): ChainAnchor {
  return d.contiguous === 0 || !d.contiguousHash ? { deviceId: d.deviceId, seq: 0, hash: GENESIS_PREV } : { deviceId: d.deviceId, seq: d.contiguous, hash: d.contiguousHash }
}

/**
 * The close commits to each logger's chain head (docs/BUNDLE.md, "Anchors"). It is refused unless
 * every chain covers the end of the window — a chained reading (seq <= head) with device time at
 * or after closedAt — or the person closing confirmed, with a reason, that the evidence ends early.
 */
const prepareShipmentClose: Preparer<'shipment.close'> = async (ctx, body) => {
  const s = ctx.shipment(body.shipmentId)
  if (!s) throw new LedgerError('ERR_LEDGER_SHIPMENT_UNKNOWN', `shipment ${body.shipmentId} does not exist`, { shipmentId: body.shipmentId })
  if (s.closedAt !== undefined) throw new LedgerError('ERR_LEDGER_SHIPMENT_CLOSED', `shipment ${body.shipmentId} was closed at entry ${s.closeIndex}`, { shipmentId: body.shipmentId, closeIndex: s.closeIndex })
  if (body.closedAt < s.startAt) bad(`closedAt ${body.closedAt} is before the shipment's startAt ${s.startAt}`, { closedAt: body.closedAt, startAt: s.startAt })
  const anchors = s.devices.map((id) => anchorOf(ctx.device(id)!))
  if (!body.endsEarly) {
    const short: { deviceId: string; headSeq: number; headDeviceTime: number | null }[] = []
    for (const a of anchors) {
      if ((await ctx.readingsFromTime(a.deviceId, body.closedAt)).some((r) => r.seq <= a.seq)) continue
      short.push({ deviceId: a.deviceId, headSeq: a.seq, headDeviceTime: a.seq === 0 ? null : (await ctx.readingRow(a.deviceId, a.seq))?.t ?? null })
    }
    if (short.length) {
      const list = short.map((d) => `${d.deviceId} (head seq ${d.headSeq}${d.headDeviceTime === null ? '' : ` at ${new Date(d.headDeviceTime).toISOString()}`})`).join(', ')
      throw new LedgerError('ERR_LEDGER_EVIDENCE_ENDS_EARLY', `shipment ${body.shipmentId}: the chain of ${list} does not reach the close time ${new Date(body.closedAt).toISOString()}; confirm with endsEarly and a reason to close anyway`, { shipmentId: body.shipmentId, closedAt: body.closedAt, devices: short })
    }
  }
  body.anchors = anchors
  return async ({ entry }) => {
    ctx.setShipment({ ...s, closedAt: body.closedAt, closedBy: body.by, closeIndex: entry.index, closeAnchors: anchors, ...(body.endsEarly ? { endsEarly: body.endsEarly.reason } : {}) })
    // Readings already stored above a head (past a hole) with device times in the window are
    // post-close evidence from now on; readingsByShipment leaves out everything above the anchors.
    for (const a of anchors) {
      for (const r of await ctx.readingsFromTime(a.deviceId, s.startAt)) {
        if (r.t <= body.closedAt && r.seq > a.seq) ctx.put(K.postClose(s.shipmentId, a.deviceId, r.seq), jsonBytes(r.i))
      }
    }
  }
}

const prepareAlarmAck: Preparer<'alarm.ack'> = (ctx, body) => {
  if (!ctx.shipment(body.shipmentId)) throw new LedgerError('ERR_LEDGER_SHIPMENT_UNKNOWN', `shipment ${body.shipmentId} does not exist`, { shipmentId: body.shipmentId })
  return async () => {}
}

const prepareCheckpoint: Preparer<'checkpoint'> = (ctx, body) => async () => {
  ctx.put(K.checkpoint, jsonBytes({ note: body.note, size: body.size, rootHash: body.rootHash }))
}

/**
 * A reading entry. The ingest has verified signature, device and chain; the
 * store re-checks only what keeps its own indexes consistent (registered, not
 * revoked, sequence not stored yet).
 */
const prepareReading: Preparer<'reading'> = async (ctx, body) => {
  const d = ctx.device(body.deviceId)
  if (!d) throw new LedgerError('ERR_LEDGER_DEVICE_UNKNOWN', `device ${body.deviceId} is not registered`, { deviceId: body.deviceId })
  if (d.revoked) throw new LedgerError('ERR_LEDGER_DEVICE_REVOKED', `device ${body.deviceId} is revoked`, { deviceId: body.deviceId })
  let r: DecodedReading
  const payload = Uint8Array.from(atob(body.payload), (c) => c.charCodeAt(0))
  try {
    r = decodeReading(payload)
  } catch (e) {
    return bad(`reading payload does not decode: ${(e as Error).message}`, { deviceId: body.deviceId })
  }
  if (r.fields.deviceId !== body.deviceId || r.fields.seq !== body.seq) bad('reading body deviceId/seq differ from the payload', { deviceId: body.deviceId, seq: body.seq })
  if (classifySeq(d, body.seq) === 'stored') bad(`device ${body.deviceId} seq ${body.seq} is already stored`, { deviceId: body.deviceId, seq: body.seq })
  const h = toHex(readingHash(payload))
  return async ({ entry }) => {
    const f = r.fields
    const row: ReadingRow = { i: entry.index, h, p: toHex(f.prevHash), t: f.deviceTimeMs }
    ctx.setReadingRow(f.deviceId, f.seq, row)
    ctx.put(K.readingTime(f.deviceId, f.deviceTimeMs, f.seq), jsonBytes(entry.index))
    for (const s of ctx.shipmentsOfDevice(f.deviceId)) {
      // A reading belongs to a shipment from startAt on, and up to closedAt once closed;
      // above the close anchor it is post-close evidence, never part of the closed shipment.
      if (f.deviceTimeMs >= s.startAt && (s.closedAt === undefined || f.deviceTimeMs <= s.closedAt)) {
        const anchor = s.closeAnchors?.find((a) => a.deviceId === f.deviceId)
        if (anchor && f.seq > anchor.seq) ctx.put(K.postClose(s.shipmentId, f.deviceId, f.seq), jsonBytes(entry.index))
        else ctx.put(K.shipmentReading(s.shipmentId, f.deviceTimeMs, f.deviceId, f.seq), jsonBytes(entry.index))
      }
    }
    const cur = ctx.device(f.deviceId)!
    const next = applySeq(cur, f.seq)
    const latest = f.seq >= cur.highest
    let contiguousHash = cur.contiguousHash
    if (next.contiguous !== cur.contiguous) contiguousHash = next.contiguous === f.seq ? h : (await ctx.readingRow(f.deviceId, next.contiguous))?.h
    ctx.setDevice({
      ...cur, ...next, contiguousHash, readings: cur.readings + 1, lastSeenAt: entry.time,
      ...(latest ? { lastDeviceTime: f.deviceTimeMs, lastTempCentiC: f.tempCentiC, highestHash: h } : {}),
      ...(latest && f.batteryPct !== undefined ? { batteryPct: f.batteryPct } : {}),
      ...(latest && f.status !== undefined ? { status: f.status } : {}),
    })
  }
}

/**
 * A declared gap needs a registered device. Its seqs count as settled: when the head sits just
 * below the range it moves past it and on over readings already stored above.
 */
const prepareGap: Preparer<'gap'> = (ctx, body) => {
  if (!ctx.device(body.deviceId)) throw new LedgerError('ERR_LEDGER_DEVICE_UNKNOWN', `device ${body.deviceId} is not registered`, { deviceId: body.deviceId })
  return async () => {
    const cur = ctx.device(body.deviceId)!
    const next = declareRange(cur, body.fromSeq, body.toSeq)
    if (next.contiguous === cur.contiguous) return ctx.setDevice({ ...cur, ...next })
    ctx.setDevice({ ...cur, ...next, contiguousHash: (await ctx.readingRow(body.deviceId, next.contiguous))?.h })
  }
}

const prepareFork: Preparer<'reading.fork'> = (ctx, body) => {
  if (!ctx.device(body.deviceId)) throw new LedgerError('ERR_LEDGER_DEVICE_UNKNOWN', `device ${body.deviceId} is not registered`, { deviceId: body.deviceId })
  return async () => {}
}

const PREPARERS: { [T in EntryType]: Preparer<T> } = {
  'device.register': prepareRegister,
  'device.revoke': prepareRevoke,
  'shipment.create': prepareShipmentCreate,
  'shipment.close': prepareShipmentClose,
  'alarm.ack': prepareAlarmAck,
  'checkpoint': prepareCheckpoint,
  'reading': prepareReading,
  'gap': prepareGap,
  'reading.fork': prepareFork,
}

export async function prepareEntry<T extends EntryType>(ctx: BatchContext, type: T, body: EntryBodies[T], time: number): Promise<Apply> {
  const p = PREPARERS[type] as Preparer<T> | undefined
  if (!p) bad(`unknown entry type ${JSON.stringify(type)}`)
  return p!(ctx, body, time)
}

export type { Entry }
