/**
 * The shipment entries' effects: the shipment state, the chain heads (anchors) the create, the
 * logger changes and the close commit to, and the shipment's reading index (rs!, and pc! for
 * post-close evidence) for readings stored before the entry that names them. Readings stored
 * after it are indexed as they come (reading-entries.ts).
 */
import type { ChainAnchor } from '../tlog/index.ts'
import { applyChange, assignedNow, changeProblem, GENESIS_PREV, windowsOf } from '../tlog/index.ts'
import { bad, jsonBytes, type BatchContext, type Preparer } from './batch-context.ts'
import { liveDevice } from './device-entries.ts'
import { LedgerError } from './errors.ts'
import { K } from './keys-layout.ts'
import type { DeviceState, ShipmentState } from './state-types.ts'

/** The shipment `shipmentId`; ERR_LEDGER_SHIPMENT_UNKNOWN otherwise. */
function knownShipment(ctx: BatchContext, shipmentId: string): ShipmentState {
  const s = ctx.shipment(shipmentId)
  if (!s) throw new LedgerError('ERR_LEDGER_SHIPMENT_UNKNOWN', `shipment ${shipmentId} does not exist`, { shipmentId })
  return s
}

/** The shipment `shipmentId`, still open; ERR_LEDGER_SHIPMENT_CLOSED once closed. */
function openShipment(ctx: BatchContext, shipmentId: string): ShipmentState {
  const s = knownShipment(ctx, shipmentId)
  if (s.closedAt !== undefined)
    throw new LedgerError('ERR_LEDGER_SHIPMENT_CLOSED', `shipment ${shipmentId} was closed at entry ${s.closeIndex}`, {
      shipmentId,
      closeIndex: s.closeIndex,
    })
  return s
}

/** A logger's chain head: its contiguous seq and that reading's hash (64 zeros before its first reading). */
function anchorOf(d: DeviceState): ChainAnchor {
  return d.contiguous === 0 || !d.contiguousHash
    ? { deviceId: d.deviceId, seq: 0, hash: GENESIS_PREV }
    : { deviceId: d.deviceId, seq: d.contiguous, hash: d.contiguousHash }
}

/** The chain heads of registered loggers, read in the batch so that no reading is committed between head and entry. */
const anchorsOf = (ctx: BatchContext, deviceIds: readonly string[]): ChainAnchor[] =>
  deviceIds.map((id) => anchorOf(ctx.device(id)!))

/** Adds a logger's readings already stored with device time from `from` on to the shipment's index. */
async function indexStoredReadings(ctx: BatchContext, shipmentId: string, deviceId: string, from: number) {
  for (const r of await ctx.readingsFromTime(deviceId, from))
    ctx.put(K.shipmentReading(shipmentId, r.t, deviceId, r.seq), jsonBytes(r.i))
}

export const prepareShipmentCreate: Preparer<'shipment.create'> = (ctx, body) => {
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
  const anchors = anchorsOf(ctx, body.devices)
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
    for (const id of body.devices) await indexStoredReadings(ctx, body.shipmentId, id, body.startAt)
  }
}

/**
 * Loggers added to or removed from an open shipment (ledger/tlog/logger-windows.ts). The entry carries each
 * named logger's chain head, read in the batch. An added logger's readings stored already with device
 * time from `at` on join the shipment's index; a removed one's with device time after `at` leave it.
 */
export const prepareShipmentDevices: Preparer<'shipment.devices'> = (ctx, body) => {
  const s = openShipment(ctx, body.shipmentId)
  const windows = windowsOf(s)
  const problem = changeProblem(windows, body, s.startAt)
  if (problem)
    bad(`shipment ${body.shipmentId}: ${problem.message}`, { shipmentId: body.shipmentId, field: problem.field })
  for (const id of body.add) liveDevice(ctx, id)
  const anchors = anchorsOf(ctx, [...body.add, ...body.remove])
  body.anchors = anchors
  return async ({ entry }) => {
    const loggers = applyChange(windows, { index: entry.index, body })
    ctx.setShipment({ ...s, devices: assignedNow(loggers), loggers })
    for (const id of body.add) await indexStoredReadings(ctx, s.shipmentId, id, body.at)
    for (const id of body.remove) {
      for (const r of await ctx.readingsFromTime(id, body.at + 1))
        ctx.del(K.shipmentReading(s.shipmentId, r.t, id, r.seq))
    }
  }
}

/**
 * The close commits to each logger's chain head (docs/BUNDLE.md, "Anchors"). It is refused unless
 * every chain covers the end of the window — a chained reading (seq <= head) with device time at
 * or after closedAt — or the person closing confirmed, with a reason, that the evidence ends early.
 */
export const prepareShipmentClose: Preparer<'shipment.close'> = async (ctx, body) => {
  const s = openShipment(ctx, body.shipmentId)
  if (body.closedAt < s.startAt)
    bad(`closedAt ${body.closedAt} is before the shipment's startAt ${s.startAt}`, {
      closedAt: body.closedAt,
      startAt: s.startAt,
    })
  const anchors = anchorsOf(ctx, s.devices)
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
export const prepareShipmentReceive: Preparer<'shipment.receive'> = (ctx, body) => {
  const s = openShipment(ctx, body.shipmentId)
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

export const prepareAlarmAck: Preparer<'alarm.ack'> = (ctx, body) => {
  knownShipment(ctx, body.shipmentId)
  return async () => {}
}
