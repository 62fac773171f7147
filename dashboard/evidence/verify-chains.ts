/**
 * The device chains and their membership (docs/BUNDLE.md, "Which readings"):
 * each logger's chain is ordered and hash-linked from a proven start before
 * the window, through the create anchor, to exactly the close anchor; it
 * skips only seqs that a gap entry of that logger, logged before the close,
 * declares lost (covering the skipped range exactly); it holds only readings
 * of the shipment's loggers logged after their registration and before any
 * revocation. Pure.
 */
import type { GapBody } from '../../ledger/tlog/index.ts'
import { equalBytes, toHex } from '../../ledger/protocol/index.ts'
import { readingHash, GENESIS_PREV_HASH } from '../../ledger/protocol/index.ts'
import { inWindow } from './recompute.ts'
import { typed, type Parsed } from './verify-entries.ts'
import type { ChainReadings, R } from './verify-readings.ts'
import type { Checks } from './verify-report.ts'
import type { KeyValidity, ShipmentFacts } from './verify-shipment.ts'

const GENESIS_HEX = toHex(GENESIS_PREV_HASH)
const at = (r: R) => ({ deviceId: r.d.fields.deviceId, seq: r.d.fields.seq, entryIndex: r.p.index })
const links = (prev: R, next: R) => equalBytes(next.d.fields.prevHash, readingHash(prev.d.payload))
const hashOf = (r: R) => toHex(readingHash(r.d.payload))
const range = (a: number, b: number) => `seq ${a}${b > a ? `..${b}` : ''}`

/** Key validity: a reading counts only between its device's registration and revocation entries. */
export function checkKeyOrder(r: R, { registeredAt, revokedAt }: KeyValidity, checks: Checks): void {
  const id = r.d.fields.deviceId
  const reg = registeredAt.get(id)
  if (reg !== undefined && r.p.index < reg) checks.fail('devices', { code: 'READING_BEFORE_REGISTRATION', message: `${id} seq ${r.d.fields.seq} was logged at entry ${r.p.index}, before the device's registration at entry ${reg}`, ...at(r) })
  const rv = revokedAt.get(id)
  if (rv !== undefined && r.p.index > rv) checks.fail('devices', { code: 'DEVICE_REVOKED', message: `${id} seq ${r.d.fields.seq} was logged at entry ${r.p.index}, after the device's revocation at entry ${rv}`, ...at(r) })
}

/** Checks every chain; returns the gap entries the chains rest on (fed to the engine as declared gaps). */
export function checkChains(chainR: ChainReadings[], ship: ShipmentFacts, kv: KeyValidity, checks: Checks): GapBody[] {
  const { cb, window, shipDevices, closeIndex, createAnchors, closeAnchors, closeB, windows } = ship
  const usedGaps: GapBody[] = []
  const seen = new Set<string>()
  const summaries: string[] = []
  for (const c of chainR) {
    const id = c.deviceId
    // This logger's own window: from its assignment (or the start), up to its removal (or the close).
    const lw = windows.find((w) => w.deviceId === id)
    const own = window && lw ? { startAt: lw.from, closedAt: lw.until ?? window.closedAt } : window
    const removed = lw?.removeIndex != null
    if (cb && !shipDevices.has(id)) checks.fail('membership', { code: 'DEVICE_NOT_IN_SHIPMENT', message: `the bundle holds a chain of ${id}, which is not a logger of ${cb.shipmentId}`, deviceId: id })
    if (seen.has(id)) checks.fail('chains', { code: 'CHAIN_DUPLICATE', message: `two chains for ${id}`, deviceId: id })
    seen.add(id)
    for (const r of [c.before, ...c.readings]) {
      if (!r) continue
      if (r.d.fields.deviceId !== id) {
        const foreign = cb && !shipDevices.has(r.d.fields.deviceId)
        checks.fail('membership', { code: foreign ? 'DEVICE_NOT_IN_SHIPMENT' : 'READING_WRONG_DEVICE', message: `entry ${r.p.index} in the chain of ${id} is a reading of ${r.d.fields.deviceId} seq ${r.d.fields.seq}${foreign ? `, not a logger of ${cb!.shipmentId}` : ''}`, ...at(r) })
      }
      checkKeyOrder(r, kv, checks)
    }

    // The gap entries: of this logger, logged before the close.
    const gaps: { p: Parsed; b: GapBody }[] = []
    for (const p of c.gaps) {
      const e = typed(checks, p, 'gap', 'chains')
      if (!e) continue
      if (e.body.deviceId !== id) checks.fail('chains', { code: 'GAP_ENTRY_MISMATCH', message: `gap entry ${e.index} declares readings of ${e.body.deviceId} lost, not of ${id}`, deviceId: id, entryIndex: e.index })
      else if (closeIndex !== null && e.index > closeIndex) checks.fail('chains', { code: 'GAP_AFTER_CLOSE', message: `gap entry ${e.index} (${id} ${range(e.body.fromSeq, e.body.toSeq)}) was logged after the close entry ${closeIndex}: a closed shipment's evidence cannot be excused afterwards`, deviceId: id, entryIndex: e.index })
      else gaps.push({ p, b: e.body })
    }
    const used = new Set<Parsed>()
    /** Seqs from..to are absent: only a gap entry covering exactly that range excuses them. */
    const bridge = (from: number, to: number, next: R, missing: 'CHAIN_GAP' | 'CHAIN_START_UNPROVEN'): boolean => {
      const g = gaps.find((x) => x.b.fromSeq === from && x.b.toSeq === to)
      if (g) { used.add(g.p); return true }
      const near = gaps.find((x) => x.b.toSeq >= from && x.b.fromSeq <= to)
      if (near) checks.fail('chains', { code: 'GAP_ENTRY_MISMATCH', message: `${id} ${range(from, to)} missing; gap entry ${near.p.index} declares ${range(near.b.fromSeq, near.b.toSeq)}, not exactly that range`, ...at(next) })
      else checks.fail('chains', { code: missing, message: missing === 'CHAIN_GAP' ? `${id} ${range(from, to)} missing before seq ${to + 1}, and no gap entry declares it` : `${id}: the chain starts at seq ${to + 1}, but ${range(from, to)} below it are neither in the bundle nor declared lost`, ...at(next) })
      return false
    }

    const rs = c.readings
    for (let i = 1; i < rs.length; i++) {
      const a = rs[i - 1].d.fields.seq, s = rs[i].d.fields.seq
      if (s === a) checks.fail('chains', { code: 'CHAIN_DUPLICATE', message: `${id} seq ${s} appears twice (entries ${rs[i - 1].p.index} and ${rs[i].p.index})`, ...at(rs[i]) })
      else if (s < a) checks.fail('chains', { code: 'CHAIN_ORDER', message: `${id} seq ${s} follows seq ${a}: the chain is out of order`, ...at(rs[i]) })
      else if (s > a + 1) bridge(a + 1, s - 1, rs[i], 'CHAIN_GAP')
      else if (!links(rs[i - 1], rs[i])) checks.fail('chains', { code: 'CHAIN_LINK_BROKEN', message: `${id} seq ${s}: prevHash is not the hash of seq ${a}`, ...at(rs[i]) })
    }

    // Start: the reading below the chain, taken before the window and linked (or seq 1 from genesis).
    const before = c.before
    const below = before ? before.d.fields.seq : 0
    const first = rs[0] ?? null, last = rs[rs.length - 1] ?? null
    if (before && own && before.d.fields.deviceTimeMs >= own.startAt) checks.fail('chains', { code: 'CHAIN_ANCHOR_INSIDE_WINDOW', message: `${id} seq ${below}, given as the reading before the window, was taken inside it`, ...at(before) })
    if (first) {
      const f = first.d.fields
      if (f.seq <= below) checks.fail('chains', { code: 'CHAIN_START_UNPROVEN', message: `${id}: the reading given as before the chain (seq ${below}) is not below its first reading (seq ${f.seq})`, ...at(first) })
      else if (f.seq > below + 1) bridge(below + 1, f.seq - 1, first, 'CHAIN_START_UNPROVEN')
      else if (before ? !links(before, first) : !equalBytes(f.prevHash, GENESIS_PREV_HASH)) {
        checks.fail('chains', { code: 'CHAIN_START_UNPROVEN', message: before ? `${id}: the reading before the window (seq ${below}) does not link to the first reading (seq ${f.seq})` : `${id}: seq 1 does not start from the genesis prevHash`, ...at(first) })
      }
    }
    const lo = below + 1
    const endSeq = last ? last.d.fields.seq : below
    const endHash = last ? hashOf(last) : before ? hashOf(before) : GENESIS_HEX
    const bySeq = new Map(rs.map((r) => [r.d.fields.seq, r]))

    // The create anchor: the chain passes through the logger's head at creation.
    const ca = createAnchors?.get(id)
    if (cb && !ca) checks.fail('chains', { code: 'ANCHOR_MISSING', message: `the ${lw?.addIndex != null ? 'shipment.devices' : 'shipment.create'} entry carries no chain anchor for ${id} (a ledger written before anchors): the start of its evidence cannot be bound`, deviceId: id })
    if (ca) {
      const anchored = ca.seq === 0 ? GENESIS_HEX : ca.seq === below ? (before ? hashOf(before) : null) : bySeq.has(ca.seq) ? hashOf(bySeq.get(ca.seq)!) : null
      if (lo > ca.seq + 1) checks.fail('chains', { code: 'ANCHOR_MISMATCH', message: `${id}: the chain starts at seq ${lo}, above the create anchor seq ${ca.seq}: ${range(ca.seq + 1, lo - 1)} are not in the bundle`, deviceId: id, seq: lo })
      else if (ca.seq > endSeq) checks.fail('chains', { code: 'ANCHOR_MISMATCH', message: `${id}: the create anchor seq ${ca.seq} lies beyond the chain's end (seq ${endSeq})`, deviceId: id, seq: ca.seq })
      else if (anchored !== ca.hash) checks.fail('chains', { code: 'ANCHOR_MISMATCH', message: `${id}: the reading at the create anchor seq ${ca.seq} ${anchored === null ? 'is not in the bundle' : `hashes to ${anchored}, the anchor says ${ca.hash}`}`, deviceId: id, seq: ca.seq })
    }

    // The end: exactly the close anchor (an open shipment has none: provisional).
    const ce = closeAnchors?.get(id)
    if ((closeIndex !== null || removed) && !ce) checks.fail('chains', { code: 'ANCHOR_MISSING', message: `the shipment.close entry carries no chain anchor for ${id} (a ledger written before anchors): the end of its evidence cannot be bound`, deviceId: id })
    if (ce && (endSeq !== ce.seq || endHash !== ce.hash)) {
      checks.fail('chains', { code: 'CHAIN_END_MISMATCH', message: `${id}: the chain ends at seq ${endSeq}${endSeq === ce.seq ? ` hashing to ${endHash}` : ''}; the close anchor is seq ${ce.seq} (${ce.hash})${endSeq < ce.seq ? `: ${range(endSeq + 1, ce.seq)} are not in the bundle` : ''}`, deviceId: id, seq: endSeq })
    }
    // The ledger closes only when every chain reaches closedAt, unless the early end was confirmed.
    if (ce && closeB && !removed && !closeB.endsEarly && !rs.some((r) => r.d.fields.deviceTimeMs >= closeB.closedAt)) {
      checks.fail('chains', { code: 'CLOSE_NOT_COVERED', message: `${id}: no reading of the chain has a device time at or after the close (${new Date(closeB.closedAt).toISOString()}), and the close does not say the evidence ends early`, deviceId: id, seq: endSeq })
    }
    for (const g of gaps) {
      if (used.has(g.p)) usedGaps.push(g.b)
      else checks.fail('chains', { code: 'GAP_ENTRY_MISMATCH', message: `gap entry ${g.p.index} (${id} ${range(g.b.fromSeq, g.b.toSeq)}) covers no range the chain skips`, deviceId: id, entryIndex: g.p.index })
    }
    if (closeIndex === null && !removed) checks.note('chains', `${id}: ends at seq ${endSeq} — provisional: the shipment is still open`)
    const mid = own ? rs.filter((r) => !inWindow(r.d.fields.deviceTimeMs, own.startAt, own.closedAt)).length : 0
    if (mid) checks.note('membership', `${id}: ${mid} reading(s) of the chain carry a device time outside the window (before its start, after its end, or a clock jump); they are chain links, not evidence for the window`)
    summaries.push(`${id} seq ${lo}..${endSeq} (${rs.length} reading(s)${used.size ? `, ${used.size} declared gap(s)` : ''}${before ? ', linked to the reading before the window' : ''})${ca ? `, through the ${lw?.addIndex != null ? 'assignment' : 'create'} anchor seq ${ca.seq}` : ''}${ce ? ` to the ${removed ? 'removal' : 'close'} anchor seq ${ce.seq}` : ''}`)
  }
  for (const id of shipDevices) if (!seen.has(id)) checks.fail('chains', { code: 'CHAIN_MISSING', message: `logger ${id} of the shipment has no chain in the bundle`, deviceId: id })
  if (checks.ok('chains')) checks.summary('chains', summaries.join('; '))
  if (checks.ok('membership')) checks.summary('membership', 'every reading is from a logger of the shipment')
  return usedGaps
}
