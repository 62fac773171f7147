/**
 * The bundle's evidence beside the chains: `reading.fork` entries (a logger
 * that signed two readings with one seq is compromised from that seq on) and
 * the post-close list (readings above a close anchor with device times in the
 * window: checked for authenticity, shown apart, never part of the verdict).
 * Pure.
 */
import type { ReadingForkBody } from '../../ledger/tlog/index.ts'
import { fromBase64 } from '../../ledger/protocol/index.ts'
import { decodeReading } from '../../ledger/protocol/index.ts'
import { inWindow } from './recompute.ts'
import { checkKeyOrder } from './verify-chains.ts'
import { typed, type Parsed } from './verify-entries.ts'
import type { ChainReading } from './verify-readings.ts'
import type { Checks } from './verify-report.ts'
import type { KeyValidity, ShipmentFacts } from './verify-shipment.ts'

/** Checks the fork entries; returns those that bear on the verdict and their payloads (for the signature check). */
export function checkForks(
  forks: Parsed[],
  { cb, shipDevices, closeIndex, closeAnchors }: ShipmentFacts,
  checks: Checks,
): { forks: ReadingForkBody[]; payloads: ChainReading[] } {
  const out: ReadingForkBody[] = []
  const payloads: ChainReading[] = []
  // The close anchors name each compromised logger's fork entry: it must be here.
  const given = new Set(forks.map((p) => p.index))
  for (const a of closeAnchors?.values() ?? []) {
    if (a.fork !== undefined && !given.has(a.fork))
      checks.fail('chains', {
        code: 'FORK_MISSING',
        message: `${a.deviceId} was compromised before the close (its close anchor names fork entry ${a.fork}), but the bundle leaves that fork entry out`,
        deviceId: a.deviceId,
        entryIndex: a.fork,
      })
  }
  for (const p of forks) {
    const e = typed(checks, p, 'reading.fork', 'chains')
    if (!e) continue
    const id = e.body.deviceId
    if (cb && !shipDevices.has(id)) {
      checks.fail('membership', {
        code: 'DEVICE_NOT_IN_SHIPMENT',
        message: `fork entry ${e.index} is of ${id}, not a logger of ${cb.shipmentId}`,
        deviceId: id,
        entryIndex: e.index,
      })
      continue
    }
    if (closeIndex !== null && e.index > closeIndex) {
      checks.fail('chains', {
        code: 'FORK_AFTER_CLOSE',
        message: `fork entry ${e.index} (${id} seq ${e.body.seq}) was logged after the close entry ${closeIndex}`,
        deviceId: id,
        seq: e.body.seq,
        entryIndex: e.index,
      })
      continue
    }
    out.push(e.body)
    // The codec decoded both payloads already; their signatures are the verifier's to check.
    for (const b64 of e.body.payloads)
      payloads.push({ entry: p, reading: decodeReading(fromBase64(b64)), chainDevice: id })
    checks.note(
      'chains',
      `${id}: two different signed readings with seq ${e.body.seq} (fork entry ${e.index}): the logger is compromised, its readings from seq ${e.body.seq} on are not evidence (DEVICE_COMPROMISED)`,
    )
  }
  return { forks: out, payloads }
}

/** Checks the post-close list: readings of the loggers above their close anchors, device times in the window, registered keys. */
export function checkPostClose(postR: ChainReading[], ship: ShipmentFacts, kv: KeyValidity, checks: Checks): void {
  const { cb, shipDevices, closeIndex, closeAnchors, window } = ship
  const seen = new Set<string>()
  for (const r of postR) {
    const f = r.reading.fields
    const where = { deviceId: f.deviceId, seq: f.seq, entryIndex: r.entry.index }
    if (closeIndex === null) {
      checks.fail('membership', {
        code: 'POST_CLOSE_MISMATCH',
        message: `${f.deviceId} seq ${f.seq} is listed as post-close evidence of a shipment that is still open`,
        ...where,
      })
      continue
    }
    if (cb && !shipDevices.has(f.deviceId)) {
      checks.fail('membership', {
        code: 'DEVICE_NOT_IN_SHIPMENT',
        message: `post-close entry ${r.entry.index} is a reading of ${f.deviceId}, not a logger of ${cb.shipmentId}`,
        ...where,
      })
      continue
    }
    const ce = closeAnchors?.get(f.deviceId)
    const key = `${f.deviceId}/${f.seq}`
    if (seen.has(key))
      checks.fail('membership', {
        code: 'POST_CLOSE_MISMATCH',
        message: `${f.deviceId} seq ${f.seq} is listed twice as post-close evidence`,
        ...where,
      })
    else if (ce && f.seq <= ce.seq)
      checks.fail('membership', {
        code: 'POST_CLOSE_MISMATCH',
        message: `${f.deviceId} seq ${f.seq} is at or below the close anchor seq ${ce.seq}: it belongs to the chain, not after the close`,
        ...where,
      })
    else if (window && !inWindow(f.deviceTimeMs, window.startAt, window.closedAt))
      checks.fail('membership', {
        code: 'POST_CLOSE_MISMATCH',
        message: `${f.deviceId} seq ${f.seq} has a device time outside the window: it is not post-close evidence of this shipment`,
        ...where,
      })
    seen.add(key)
    checkKeyOrder(r, kv, checks)
  }
  if (postR.length)
    checks.note(
      'membership',
      `${postR.length} post-close reading(s): logged above a close anchor with device times inside the window; authentic readings shown apart, never part of the verdict`,
    )
}
