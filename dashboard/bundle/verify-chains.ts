/**
 * The device chains and their membership: each chain is gapless, ordered and
 * hash-linked, provably starts and ends at the shipment window, and holds only
 * readings of the shipment's loggers taken before any revocation. Pure.
 */
import { equalBytes } from '../../ledger/protocol/bytes.ts'
import { readingHash, GENESIS_PREV_HASH } from '../../ledger/protocol/signing.ts'
import { inWindow } from './recompute.ts'
import type { ChainReadings, R } from './verify-readings.ts'
import type { Checks } from './verify-report.ts'
import type { ShipmentFacts } from './verify-shipment.ts'

export function checkChains(chainR: ChainReadings[], { cb, window, shipDevices }: ShipmentFacts, revokedAt: Map<string, number>, checks: Checks): void {
  const at = (r: R) => ({ deviceId: r.d.fields.deviceId, seq: r.d.fields.seq, entryIndex: r.p.index })
  const links = (prev: R, next: R) => equalBytes(next.d.fields.prevHash, readingHash(prev.d.payload))
  const seen = new Set<string>()
  for (const c of chainR) {
    if (cb && !shipDevices.has(c.deviceId)) checks.fail('membership', { code: 'DEVICE_NOT_IN_SHIPMENT', message: `the bundle holds a chain of ${c.deviceId}, which is not a logger of ${cb.shipmentId}`, deviceId: c.deviceId })
    if (seen.has(c.deviceId)) checks.fail('chains', { code: 'CHAIN_DUPLICATE', message: `two chains for ${c.deviceId}`, deviceId: c.deviceId })
    seen.add(c.deviceId)
    for (const r of [c.before, ...c.readings, c.after]) {
      if (!r) continue
      if (r.d.fields.deviceId !== c.deviceId) {
        checks.fail('membership', { code: cb && !shipDevices.has(r.d.fields.deviceId) ? 'DEVICE_NOT_IN_SHIPMENT' : 'READING_WRONG_DEVICE', message: `entry ${r.p.index} in the chain of ${c.deviceId} is a reading of ${r.d.fields.deviceId} seq ${r.d.fields.seq}${cb && !shipDevices.has(r.d.fields.deviceId) ? `, not a logger of ${cb.shipmentId}` : ''}`, ...at(r) })
      }
      const rv = revokedAt.get(r.d.fields.deviceId)
      if (rv !== undefined && r.p.index > rv) checks.fail('devices', { code: 'DEVICE_REVOKED', message: `${r.d.fields.deviceId} seq ${r.d.fields.seq} was logged at entry ${r.p.index}, after the device's revocation at entry ${rv}`, ...at(r) })
    }
    const rs = c.readings
    for (let i = 1; i < rs.length; i++) {
      const a = rs[i - 1].d.fields.seq, s = rs[i].d.fields.seq
      if (s === a) checks.fail('chains', { code: 'CHAIN_DUPLICATE', message: `${c.deviceId} seq ${s} appears twice (entries ${rs[i - 1].p.index} and ${rs[i].p.index})`, ...at(rs[i]) })
      else if (s < a) checks.fail('chains', { code: 'CHAIN_ORDER', message: `${c.deviceId} seq ${s} follows seq ${a}: the chain is out of order`, ...at(rs[i]) })
      else if (s > a + 1) checks.fail('chains', { code: 'CHAIN_GAP', message: `${c.deviceId} seq ${a + 1}${s - 1 > a + 1 ? `..${s - 1}` : ''} missing between seq ${a} and seq ${s}`, ...at(rs[i]) })
      else if (!links(rs[i - 1], rs[i])) checks.fail('chains', { code: 'CHAIN_LINK_BROKEN', message: `${c.deviceId} seq ${s}: prevHash is not the hash of seq ${a}`, ...at(rs[i]) })
    }
    const first = rs[0] ?? null, last = rs[rs.length - 1] ?? null
    const outside = (r: R) => window !== null && !inWindow(r.d.fields.deviceTimeMs, window.startAt, window.closedAt)
    // Start: seq 1 with the genesis link, or the reading just before, outside the window, linked.
    if (first) {
      if (c.before) {
        if (c.before.d.fields.seq !== first.d.fields.seq - 1 || !links(c.before, first)) checks.fail('chains', { code: 'CHAIN_START_UNPROVEN', message: `${c.deviceId}: the reading before the window (seq ${c.before.d.fields.seq}) does not link to the first reading (seq ${first.d.fields.seq})`, ...at(first) })
        else if (!outside(c.before)) checks.fail('chains', { code: 'CHAIN_ANCHOR_INSIDE_WINDOW', message: `${c.deviceId} seq ${c.before.d.fields.seq}, given as before the window, was taken inside it`, ...at(c.before) })
      } else if (first.d.fields.seq !== 1 || !equalBytes(first.d.fields.prevHash, GENESIS_PREV_HASH)) {
        checks.fail('chains', { code: 'CHAIN_START_UNPROVEN', message: `${c.deviceId}: the first reading is seq ${first.d.fields.seq} and the bundle has no reading before it`, ...at(first) })
      }
      if (outside(first)) checks.fail('membership', { code: 'READING_OUTSIDE_WINDOW', message: `${c.deviceId} seq ${first.d.fields.seq} at ${new Date(first.d.fields.deviceTimeMs).toISOString()} starts the chain outside the shipment window`, ...at(first) })
      if (last !== first && outside(last!)) checks.fail('membership', { code: 'READING_OUTSIDE_WINDOW', message: `${c.deviceId} seq ${last!.d.fields.seq} at ${new Date(last!.d.fields.deviceTimeMs).toISOString()} ends the chain outside the shipment window`, ...at(last!) })
      const mid = rs.slice(1, -1).filter(outside).length
      if (mid) checks.note('membership', `${c.deviceId}: ${mid} reading(s) inside the chain carry a device time outside the window (clock jump); they are chain links, not evidence for the window`)
    } else if (c.before && c.after) {
      if (c.after.d.fields.seq !== c.before.d.fields.seq + 1 || !links(c.before, c.after)) checks.fail('chains', { code: 'CHAIN_GAP', message: `${c.deviceId}: no reading in the window, and the readings around it (seq ${c.before.d.fields.seq}, ${c.after.d.fields.seq}) do not link`, ...at(c.after) })
    } else {
      checks.note('chains', `${c.deviceId}: no reading in the window`)
    }
    // End: the reading just after the window proves nothing was left off the end.
    if (last && c.after) {
      if (c.after.d.fields.seq !== last.d.fields.seq + 1) checks.fail('chains', { code: c.after.d.fields.seq > last.d.fields.seq + 1 ? 'CHAIN_GAP' : 'CHAIN_ORDER', message: `${c.deviceId}: the reading after the window is seq ${c.after.d.fields.seq}, the last in the window seq ${last.d.fields.seq}`, ...at(c.after) })
      else if (!links(last, c.after)) checks.fail('chains', { code: 'CHAIN_LINK_BROKEN', message: `${c.deviceId} seq ${c.after.d.fields.seq} (after the window): prevHash is not the hash of seq ${last.d.fields.seq}`, ...at(c.after) })
      else if (!outside(c.after)) checks.fail('chains', { code: 'CHAIN_ANCHOR_INSIDE_WINDOW', message: `${c.deviceId} seq ${c.after.d.fields.seq}, given as after the window, was taken inside it`, ...at(c.after) })
    } else if (last) {
      checks.note('chains', window?.closedAt === null
        ? `${c.deviceId}: ends at seq ${last.d.fields.seq}; the shipment is still open`
        : `${c.deviceId}: ends at seq ${last.d.fields.seq}; the ledger had no later reading when the bundle was built, so the chain alone cannot exclude a later reading inside the window (see docs/BUNDLE.md, "Chain ends")`)
    }
  }
  for (const id of shipDevices) if (!seen.has(id)) checks.fail('chains', { code: 'CHAIN_MISSING', message: `logger ${id} of the shipment has no chain in the bundle`, deviceId: id })
  if (checks.ok('chains')) checks.summary('chains', chainR.map((c) => c.readings.length ? `${c.deviceId} seq ${c.readings[0].d.fields.seq}..${c.readings[c.readings.length - 1].d.fields.seq}${c.before ? ' (linked to the reading before)' : ''}${c.after ? ' (linked to the reading after)' : ''}` : `${c.deviceId}: none`).join('; '))
  if (checks.ok('membership')) checks.summary('membership', `every reading is from a logger of the shipment and every chain starts and ends inside the window`)
}
