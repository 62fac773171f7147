/**
 * The shipment record (create, close, acknowledgements name this shipment, in
 * order) and the device registrations (keys, revocations) the readings are
 * checked against. Pure.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import type { ChainAnchor, ReceiveSignature, ShipmentCloseBody, ShipmentCreateBody } from '../../ledger/tlog/index.ts'
import {
  applyChange,
  assignedNow,
  changeProblem,
  initialWindows,
  type DevicesChange,
  type LoggerWindow,
} from '../../ledger/tlog/index.ts'
import { fromHex, toHex } from '../../ledger/protocol/index.ts'
import type { EvidenceBundle } from './format.ts'
import { typed, type BundleEntries } from './verify-entries.ts'
import type { Checks } from './verify-report.ts'

/** What the shipment record establishes for the later checks. */
export interface ShipmentFacts {
  cb: ShipmentCreateBody | null
  closeB: ShipmentCloseBody | null
  window: { startAt: number; closedAt: number | null } | null
  shipDevices: Set<string>
  /** Every logger the shipment had and the device times it counts for (replayed from the shipment.devices entries). */
  windows: LoggerWindow[]
  /** The shipment.devices entries, for the engine. */
  changes: DevicesChange[]
  /** The signed receipt, when the bundle carries one. */
  receipt: { receivedAt: number; signature: ReceiveSignature } | null
  /** Entry indices of the create and close entries (null when absent or invalid). */
  createIndex: number | null
  closeIndex: number | null
  /**
   * Each logger's anchors, when the entries carry them (ledgers written before anchors do not): where its
   * chain starts (create, or its assignment) and ends (close, or its removal).
   */
  createAnchors: Map<string, ChainAnchor> | null
  closeAnchors: Map<string, ChainAnchor> | null
}

export function checkShipment(
  b: EvidenceBundle,
  { create, close, acks, receive, assignments }: BundleEntries,
  checks: Checks,
): ShipmentFacts {
  const createE = typed(checks, create, 'shipment.create', 'shipment')
  const closeE = typed(checks, close, 'shipment.close', 'shipment')
  const cb: ShipmentCreateBody | null = createE?.body ?? null
  const closeB: ShipmentCloseBody | null = closeE?.body ?? null
  if (!createE)
    checks.fail('shipment', {
      code: 'SHIPMENT_MISMATCH',
      message: 'no valid shipment.create entry',
      entryIndex: create?.index,
    })
  else if (createE.body.shipmentId !== b.shipmentId)
    checks.fail('shipment', {
      code: 'SHIPMENT_MISMATCH',
      message: `the shipment.create entry is for ${createE.body.shipmentId}, the bundle for ${b.shipmentId}`,
      entryIndex: createE.index,
    })
  if (close && !closeE)
    checks.fail('shipment', {
      code: 'SHIPMENT_MISMATCH',
      message: 'the shipment.close entry is not valid',
      entryIndex: close.index,
    })
  if (closeE && createE) {
    if (closeE.body.shipmentId !== createE.body.shipmentId)
      checks.fail('shipment', {
        code: 'SHIPMENT_MISMATCH',
        message: `the shipment.close entry closes ${closeE.body.shipmentId}`,
        entryIndex: closeE.index,
      })
    if (closeE.index < createE.index)
      checks.fail('shipment', {
        code: 'SHIPMENT_MISMATCH',
        message: `the shipment.close entry ${closeE.index} comes before its creation ${createE.index}`,
        entryIndex: closeE.index,
      })
  }
  for (const a of acks) {
    const e = typed(checks, a, 'alarm.ack', 'shipment')
    if (e && e.body.shipmentId !== b.shipmentId)
      checks.fail('shipment', {
        code: 'SHIPMENT_MISMATCH',
        message: `acknowledgement entry ${e.index} is for shipment ${e.body.shipmentId}`,
        entryIndex: e.index,
      })
  }
  // The receipt: of this shipment, between its creation and its close.
  const receiveE = typed(checks, receive, 'shipment.receive', 'shipment')
  if (
    receiveE &&
    (receiveE.body.shipmentId !== b.shipmentId ||
      (createE && receiveE.index < createE.index) ||
      (closeE && receiveE.index > closeE.index))
  ) {
    checks.fail('shipment', {
      code: 'SHIPMENT_MISMATCH',
      message: `the shipment.receive entry ${receiveE.index} is for ${receiveE.body.shipmentId}, or not between the shipment's create and close entries`,
      entryIndex: receiveE.index,
    })
  }
  // Assigned and removed loggers: replayed in log order by the ledger's own rule (ledger/tlog/logger-windows.ts).
  let windows = cb ? initialWindows(cb) : []
  const changes: DevicesChange[] = []
  let lastIndex = -1
  for (const a of assignments) {
    const e = typed(checks, a, 'shipment.devices', 'shipment')
    if (!e) continue
    const where = `the shipment.devices entry ${e.index}`
    if (e.body.shipmentId !== b.shipmentId) {
      checks.fail('shipment', {
        code: 'SHIPMENT_MISMATCH',
        message: `${where} is for shipment ${e.body.shipmentId}`,
        entryIndex: e.index,
      })
      continue
    }
    if (e.index <= lastIndex || (createE && e.index < createE.index) || (closeE && e.index > closeE.index)) {
      checks.fail('shipment', {
        code: 'SHIPMENT_MISMATCH',
        message: `${where} is out of log order, or not between the shipment's create and close entries`,
        entryIndex: e.index,
      })
      continue
    }
    lastIndex = e.index
    const problem = cb ? changeProblem(windows, e.body, cb.startAt) : null
    if (problem) {
      checks.fail('shipment', {
        code: 'SHIPMENT_MISMATCH',
        message: `${where} cannot apply: ${problem.message}`,
        entryIndex: e.index,
      })
      continue
    }
    const change = { index: e.index, body: e.body }
    windows = applyChange(windows, change)
    changes.push(change)
  }
  // The close anchors name the loggers assigned at the close: a left-out assignment or removal shows here.
  if (closeB?.anchors && cb) {
    const anchored = closeB.anchors
      .map((a) => a.deviceId)
      .sort()
      .join(', ')
    const assigned = assignedNow(windows).sort().join(', ')
    if (anchored !== assigned)
      checks.fail('shipment', {
        code: 'SHIPMENT_MISMATCH',
        message: `the close anchors name the loggers ${anchored}, but the bundle's create and shipment.devices entries give ${assigned}: an assignment or removal entry is missing or added`,
        entryIndex: closeE?.index,
      })
  }
  for (const w of windows) {
    if (w.addIndex !== null)
      checks.note(
        'shipment',
        `${w.deviceId} assigned at entry ${w.addIndex}, counts from ${new Date(w.from).toISOString()}`,
      )
    if (w.removeIndex !== null)
      checks.note(
        'shipment',
        `${w.deviceId} removed at entry ${w.removeIndex}, counts up to ${new Date(w.until!).toISOString()}`,
      )
  }
  // Completeness at the end rests on the close anchor: an open shipment's evidence is provisional.
  if (createE && !close)
    checks.fail('shipment', {
      code: 'SHIPMENT_NOT_CLOSED',
      message: `provisional: shipment ${createE.body.shipmentId} is still open, so the bundle cannot prove that its evidence is complete at the end (no close anchor); every other check still runs`,
      entryIndex: createE.index,
    })
  if (closeB?.endsEarly)
    checks.note(
      'shipment',
      `closed with the evidence ending early, as confirmed at closing: ${closeB.endsEarly.reason}`,
    )
  if (checks.ok('shipment') && cb) {
    checks.summary(
      'shipment',
      `${cb.shipmentId}: ${cb.product}, ${cb.route.from} → ${cb.route.to}, loggers ${(windows.length ? windows.map((w) => w.deviceId) : cb.devices).join(', ')}; window ${new Date(cb.startAt).toISOString()} – ${closeB ? new Date(closeB.closedAt).toISOString() : 'open'}; ${acks.length} acknowledgement(s)`,
    )
  }
  const window = cb ? { startAt: cb.startAt, closedAt: closeB ? closeB.closedAt : null } : null
  const shipDevices = new Set(windows.map((w) => w.deviceId))
  const anchorMap = (list: ChainAnchor[] | undefined) => (list ? new Map(list.map((a) => [a.deviceId, a])) : null)
  const createAnchors = anchorMap(cb?.anchors)
  const closeAnchors = anchorMap(closeB?.anchors)
  for (const w of windows) {
    if (w.addIndex !== null && w.startAnchor) createAnchors?.set(w.deviceId, w.startAnchor)
    if (w.removeIndex !== null && w.endAnchor) closeAnchors?.set(w.deviceId, w.endAnchor)
  }
  const receipt =
    receiveE && checks.ok('shipment')
      ? { receivedAt: receiveE.body.receivedAt, signature: receiveE.body.signature }
      : null
  return {
    cb,
    closeB,
    window,
    shipDevices,
    windows,
    changes,
    receipt,
    createIndex: createE?.index ?? null,
    closeIndex: closeE?.index ?? null,
    createAnchors,
    closeAnchors: closeAnchors ?? (changes.some((c) => c.body.remove.length) ? endAnchorsOnly(windows) : null),
  }
}

/** An open shipment's removed loggers end at their removal anchors (no close anchor yet). */
function endAnchorsOnly(windows: LoggerWindow[]): Map<string, ChainAnchor> {
  return new Map(windows.filter((w) => w.endAnchor).map((w) => [w.deviceId, w.endAnchor!]))
}

/** What the registrations establish: each device's key, and the entry indices between which its readings count. */
export interface KeyValidity {
  keys: Map<string, Uint8Array>
  registeredAt: Map<string, number>
  revokedAt: Map<string, number>
}

/** Checks the device registrations; returns each device's key and the entry indices of its registration and revocation. */
export function checkDevices(
  devices: BundleEntries['devices'],
  { cb, window, shipDevices, createIndex, windows }: ShipmentFacts,
  checks: Checks,
): KeyValidity {
  const keys = new Map<string, Uint8Array>()
  const registeredAt = new Map<string, number>()
  const revokedAt = new Map<string, number>()
  for (const d of devices) {
    const reg = typed(checks, d.register, 'device.register', 'devices')
    if (!reg) {
      checks.fail('devices', {
        code: 'ENTRY_WRONG_TYPE',
        message: `device ${d.deviceId || '?'} has no valid registration entry`,
        deviceId: d.deviceId,
        entryIndex: d.register?.index,
      })
      continue
    }
    if (reg.body.deviceId !== d.deviceId) {
      checks.fail('devices', {
        code: 'ENTRY_WRONG_TYPE',
        message: `the registration entry ${reg.index} listed for ${d.deviceId} registers ${reg.body.deviceId}`,
        deviceId: d.deviceId,
        entryIndex: reg.index,
      })
      continue
    }
    if (cb && !shipDevices.has(d.deviceId))
      checks.fail('devices', {
        code: 'DEVICE_NOT_IN_SHIPMENT',
        message: `device ${d.deviceId} is not a logger of ${cb.shipmentId}`,
        deviceId: d.deviceId,
        entryIndex: reg.index,
      })
    keys.set(d.deviceId, fromHex(reg.body.publicKey))
    registeredAt.set(d.deviceId, reg.index)
    // The ledger lists only registered devices in a shipment: a registration after the create is not the one that authorised it.
    const listedAt = windows.find((w) => w.deviceId === d.deviceId)?.addIndex ?? createIndex
    if (listedAt !== null && reg.index > listedAt)
      checks.fail('devices', {
        code: 'REGISTRATION_AFTER_CREATE',
        message: `${d.deviceId} is registered at entry ${reg.index}, after the ${listedAt === createIndex ? 'shipment.create' : 'shipment.devices'} entry ${listedAt} that lists it`,
        deviceId: d.deviceId,
        entryIndex: reg.index,
      })
    const rev = typed(checks, d.revoke, 'device.revoke', 'devices')
    if (rev) {
      if (rev.body.deviceId !== d.deviceId || rev.index < reg.index)
        checks.fail('devices', {
          code: 'ENTRY_WRONG_TYPE',
          message: `revocation entry ${rev.index} does not revoke ${d.deviceId} after its registration`,
          deviceId: d.deviceId,
          entryIndex: rev.index,
        })
      else {
        revokedAt.set(d.deviceId, rev.index)
        checks.note('devices', `${d.deviceId} was revoked at entry ${rev.index}: ${rev.body.reason}`)
      }
    }
    if (reg.body.calibration && window && reg.body.calibration.dueAt < window.startAt)
      checks.note(
        'devices',
        `${d.deviceId}: calibration ${reg.body.calibration.certificate} was due ${new Date(reg.body.calibration.dueAt).toISOString().slice(0, 10)}, before the shipment started (GDP 9.3)`,
      )
  }
  for (const id of shipDevices)
    if (!keys.has(id) && !devices.some((d) => d.deviceId === id))
      checks.fail('devices', {
        code: 'DEVICE_MISSING',
        message: `logger ${id} of the shipment has no registration entry in the bundle`,
        deviceId: id,
      })
  if (checks.ok('devices'))
    checks.summary(
      'devices',
      `${keys.size} registered device key(s): ${[...keys.entries()].map(([id, k]) => `${id} key ${toHex(k).slice(0, 16)}… (fingerprint ${toHex(sha256(k)).slice(0, 16)})`).join(', ')}`,
    )
  return { keys, registeredAt, revokedAt }
}
