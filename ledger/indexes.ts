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
import type { Entry, EntryBodies, EntryType, StoredEntry } from './entry-types.ts'
import { applySeq, classifySeq, EMPTY_SEQ_STATE } from './device-chain.ts'
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
  return async ({ entry }) => {
    const s: ShipmentState = {
      shipmentId: body.shipmentId, product: body.product, route: body.route, devices: body.devices, profileHash: body.profileHash,
      startAt: body.startAt, createdBy: body.by, createdAt: entry.time, createIndex: entry.index, gs1: body.gs1,
    }
    ctx.setShipment(s)
    // Readings stored before the shipment record (startAt in the past) belong to it too.
    for (const id of body.devices) {
      for (const r of await ctx.readingsFromTime(id, body.startAt)) ctx.put(K.shipmentReading(body.shipmentId, r.t, id, r.seq), jsonBytes(r.i))
    }
  }
}

const prepareShipmentClose: Preparer<'shipment.close'> = (ctx, body) => {
  const s = ctx.shipment(body.shipmentId)
  if (!s) throw new LedgerError('ERR_LEDGER_SHIPMENT_UNKNOWN', `shipment ${body.shipmentId} does not exist`, { shipmentId: body.shipmentId })
  if (s.closedAt !== undefined) throw new LedgerError('ERR_LEDGER_SHIPMENT_CLOSED', `shipment ${body.shipmentId} was closed at entry ${s.closeIndex}`, { shipmentId: body.shipmentId, closeIndex: s.closeIndex })
  if (body.closedAt < s.startAt) bad(`closedAt ${body.closedAt} is before the shipment's startAt ${s.startAt}`, { closedAt: body.closedAt, startAt: s.startAt })
  // Readings with device time after closedAt that were indexed earlier stay in the rs! index;
  // readingsByShipment bounds its scan by closedAt, so they are never returned.
  return async ({ entry }) => { ctx.setShipment({ ...s, closedAt: body.closedAt, closedBy: body.by, closeIndex: entry.index }) }
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
      // A reading belongs to a shipment from startAt on, and up to closedAt once closed.
      if (f.deviceTimeMs >= s.startAt && (s.closedAt === undefined || f.deviceTimeMs <= s.closedAt)) {
        ctx.put(K.shipmentReading(s.shipmentId, f.deviceTimeMs, f.deviceId, f.seq), jsonBytes(entry.index))
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

/** A declared gap needs a registered device; its effect on the device's chain is applied by the chain state. */
const prepareGap: Preparer<'gap'> = (ctx, body) => {
  if (!ctx.device(body.deviceId)) throw new LedgerError('ERR_LEDGER_DEVICE_UNKNOWN', `device ${body.deviceId} is not registered`, { deviceId: body.deviceId })
  return async () => {}
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
