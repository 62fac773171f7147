/**
 * The shipment record (create, close, acknowledgements name this shipment, in
 * order) and the device registrations (keys, revocations) the readings are
 * checked against. Pure.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import type { ChainAnchor, ShipmentCloseBody, ShipmentCreateBody } from '../../ledger/entry-types.ts'
import { fromHex, toHex } from '../../ledger/protocol/bytes.ts'
import type { EvidenceBundle } from './format.ts'
import { typed, type BundleEntries } from './verify-entries.ts'
import type { Checks } from './verify-report.ts'

/** What the shipment record establishes for the later checks. */
export interface ShipmentFacts {
  cb: ShipmentCreateBody | null
  closeB: ShipmentCloseBody | null
  window: { startAt: number; closedAt: number | null } | null
  shipDevices: Set<string>
  /** Entry indices of the create and close entries (null when absent or invalid). */
  createIndex: number | null
  closeIndex: number | null
  /** Each logger's anchors, when the entries carry them (ledgers written before anchors do not). */
  createAnchors: Map<string, ChainAnchor> | null
  closeAnchors: Map<string, ChainAnchor> | null
}

export function checkShipment(b: EvidenceBundle, { create, close, acks }: BundleEntries, checks: Checks): ShipmentFacts {
  const createE = typed(checks, create, 'shipment.create', 'shipment')
  const closeE = typed(checks, close, 'shipment.close', 'shipment')
  const cb: ShipmentCreateBody | null = createE?.body ?? null
  const closeB: ShipmentCloseBody | null = closeE?.body ?? null
  if (!createE) checks.fail('shipment', { code: 'SHIPMENT_MISMATCH', message: 'no valid shipment.create entry', entryIndex: create?.index })
  else if (createE.body.shipmentId !== b.shipmentId) checks.fail('shipment', { code: 'SHIPMENT_MISMATCH', message: `the shipment.create entry is for ${createE.body.shipmentId}, the bundle for ${b.shipmentId}`, entryIndex: createE.index })
  if (close && !closeE) checks.fail('shipment', { code: 'SHIPMENT_MISMATCH', message: 'the shipment.close entry is not valid', entryIndex: close.index })
  if (closeE && createE) {
    if (closeE.body.shipmentId !== createE.body.shipmentId) checks.fail('shipment', { code: 'SHIPMENT_MISMATCH', message: `the shipment.close entry closes ${closeE.body.shipmentId}`, entryIndex: closeE.index })
    if (closeE.index < createE.index) checks.fail('shipment', { code: 'SHIPMENT_MISMATCH', message: `the shipment.close entry ${closeE.index} comes before its creation ${createE.index}`, entryIndex: closeE.index })
  }
  for (const a of acks) {
    const e = typed(checks, a, 'alarm.ack', 'shipment')
    if (e && e.body.shipmentId !== b.shipmentId) checks.fail('shipment', { code: 'SHIPMENT_MISMATCH', message: `acknowledgement entry ${e.index} is for shipment ${e.body.shipmentId}`, entryIndex: e.index })
  }
  // Completeness at the end rests on the close anchor: an open shipment's evidence is provisional.
  if (createE && !close) checks.fail('shipment', { code: 'SHIPMENT_NOT_CLOSED', message: `provisional: shipment ${createE.body.shipmentId} is still open, so the bundle cannot prove that its evidence is complete at the end (no close anchor); every other check still runs`, entryIndex: createE.index })
  if (closeB?.endsEarly) checks.note('shipment', `closed with the evidence ending early, as confirmed at closing: ${closeB.endsEarly.reason}`)
  if (checks.ok('shipment') && cb) {
    checks.summary('shipment', `${cb.shipmentId}: ${cb.product}, ${cb.route.from} → ${cb.route.to}, loggers ${cb.devices.join(', ')}; window ${new Date(cb.startAt).toISOString()} – ${closeB ? new Date(closeB.closedAt).toISOString() : 'open'}; ${acks.length} acknowledgement(s)`)
  }
  const window = cb ? { startAt: cb.startAt, closedAt: closeB ? closeB.closedAt : null } : null
  const shipDevices = new Set(cb?.devices ?? [])
  const anchorMap = (list: ChainAnchor[] | undefined) => (list ? new Map(list.map((a) => [a.deviceId, a])) : null)
  return { cb, closeB, window, shipDevices, createIndex: createE?.index ?? null, closeIndex: closeE?.index ?? null, createAnchors: anchorMap(cb?.anchors), closeAnchors: anchorMap(closeB?.anchors) }
}

/** What the registrations establish: each device's key, and the entry indices between which its readings count. */
export interface KeyValidity { keys: Map<string, Uint8Array>; registeredAt: Map<string, number>; revokedAt: Map<string, number> }

/** Checks the device registrations; returns each device's key and the entry indices of its registration and revocation. */
export function checkDevices(devices: BundleEntries['devices'], { cb, window, shipDevices, createIndex }: ShipmentFacts, checks: Checks): KeyValidity {
  const keys = new Map<string, Uint8Array>()
  const registeredAt = new Map<string, number>()
  const revokedAt = new Map<string, number>()
  for (const d of devices) {
    const reg = typed(checks, d.register, 'device.register', 'devices')
    if (!reg) { checks.fail('devices', { code: 'ENTRY_WRONG_TYPE', message: `device ${d.deviceId || '?'} has no valid registration entry`, deviceId: d.deviceId, entryIndex: d.register?.index }); continue }
    if (reg.body.deviceId !== d.deviceId) { checks.fail('devices', { code: 'ENTRY_WRONG_TYPE', message: `the registration entry ${reg.index} listed for ${d.deviceId} registers ${reg.body.deviceId}`, deviceId: d.deviceId, entryIndex: reg.index }); continue }
    if (cb && !shipDevices.has(d.deviceId)) checks.fail('devices', { code: 'DEVICE_NOT_IN_SHIPMENT', message: `device ${d.deviceId} is not a logger of ${cb.shipmentId}`, deviceId: d.deviceId, entryIndex: reg.index })
    keys.set(d.deviceId, fromHex(reg.body.publicKey))
    registeredAt.set(d.deviceId, reg.index)
    // The ledger lists only registered devices in a shipment: a registration after the create is not the one that authorised it.
    if (createIndex !== null && reg.index > createIndex) checks.fail('devices', { code: 'REGISTRATION_AFTER_CREATE', message: `${d.deviceId} is registered at entry ${reg.index}, after the shipment.create entry ${createIndex} that lists it`, deviceId: d.deviceId, entryIndex: reg.index })
    const rev = typed(checks, d.revoke, 'device.revoke', 'devices')
    if (rev) {
      if (rev.body.deviceId !== d.deviceId || rev.index < reg.index) checks.fail('devices', { code: 'ENTRY_WRONG_TYPE', message: `revocation entry ${rev.index} does not revoke ${d.deviceId} after its registration`, deviceId: d.deviceId, entryIndex: rev.index })
      else { revokedAt.set(d.deviceId, rev.index); checks.note('devices', `${d.deviceId} was revoked at entry ${rev.index}: ${rev.body.reason}`) }
    }
    if (reg.body.calibration && window && reg.body.calibration.dueAt < window.startAt) checks.note('devices', `${d.deviceId}: calibration ${reg.body.calibration.certificate} was due ${new Date(reg.body.calibration.dueAt).toISOString().slice(0, 10)}, before the shipment started (GDP 9.3)`)
  }
  for (const id of shipDevices) if (!keys.has(id) && !devices.some((d) => d.deviceId === id)) checks.fail('devices', { code: 'DEVICE_MISSING', message: `logger ${id} of the shipment has no registration entry in the bundle`, deviceId: id })
  if (checks.ok('devices')) checks.summary('devices', `${keys.size} registered device key(s): ${[...keys.entries()].map(([id, k]) => `${id} key ${toHex(k).slice(0, 16)}… (fingerprint ${toHex(sha256(k)).slice(0, 16)})`).join(', ')}`)
  return { keys, registeredAt, revokedAt }
}
