/**
 * The device chains and their membership (docs/BUNDLE.md, "Which readings"):
 * each logger's chain is ordered and hash-linked from a proven start before
 * the window, through the create anchor, to exactly the close anchor; it
 * skips only seqs that a gap entry of that logger, logged before the close,
 * declares lost (covering the skipped range exactly); it holds only readings
 * of the shipment's loggers logged after their registration and before any
 * revocation. Pure.
 *
 * checkChains runs, per chain and in this order: checkMembership,
 * acceptedGapEntries, checkOrderAndLinks, checkStart, checkCreateAnchor,
 * checkCloseAnchor, then the gap entries no skip used (GapExcuses).
 */
import type { ChainAnchor, GapBody } from '../../ledger/tlog/index.ts'
import type { LoggerWindow } from '../../ledger/tlog/index.ts'
import { equalBytes, toHex } from '../../ledger/protocol/index.ts'
import { readingHash, GENESIS_PREV_HASH } from '../../ledger/protocol/index.ts'
import { inWindow } from './recompute.ts'
import { typed, type Parsed } from './verify-entries.ts'
import type { ChainReading, ChainReadings } from './verify-readings.ts'
import type { Checks } from './verify-report.ts'
import type { KeyValidity, ShipmentFacts } from './verify-shipment.ts'

const GENESIS_HEX = toHex(GENESIS_PREV_HASH)
/** Where a failure points: the reading's device, seq and entry. */
const locationOf = (r: ChainReading) => ({
  deviceId: r.reading.fields.deviceId,
  seq: r.reading.fields.seq,
  entryIndex: r.entry.index,
})
/** True when `next` names `prev`'s hash as its prevHash. */
const linksTo = (prev: ChainReading, next: ChainReading) =>
  equalBytes(next.reading.fields.prevHash, readingHash(prev.reading.payload))
const hashHexOf = (r: ChainReading) => toHex(readingHash(r.reading.payload))
const seqRange = (from: number, to: number) => `seq ${from}${to > from ? `..${to}` : ''}`

/** One logger's chain, with what the checks need to know about the logger. */
interface LoggerChain {
  deviceId: string
  /** The reading right below the chain, taken before the window; null when the chain starts at seq 1 from genesis. */
  before: ChainReading | null
  readings: ChainReading[]
  /** The device times this logger counts for: its assignment (or the start) to its removal (or the close). */
  ownWindow: { startAt: number; closedAt: number | null } | null
  /** The logger's assignment record, when the shipment entries give one. */
  assignment: LoggerWindow | undefined
  /** Removed before the close: the chain ends at its removal anchor. */
  removed: boolean
}

/** Where the chain ends, and the hash at any seq from the reading before it up. */
interface ChainSpan {
  /** The lowest seq the chain holds or declares lost (one above the reading before it). */
  firstSeq: number
  lastSeq: number
  lastHash: string
  /** The hash of the reading at `seq` in the chain or before it (genesis at 0); null when the bundle does not hold it. */
  hashAt(seq: number): string | null
}

/** A gap entry of this logger, logged before the close. */
interface DeclaredGap {
  entry: Parsed
  body: GapBody
}

/** Key validity: a reading counts only between its device's registration and revocation entries. */
export function checkKeyOrder(r: ChainReading, { registeredAt, revokedAt }: KeyValidity, checks: Checks): void {
  const id = r.reading.fields.deviceId
  const registered = registeredAt.get(id)
  if (registered !== undefined && r.entry.index < registered)
    checks.fail('devices', {
      code: 'READING_BEFORE_REGISTRATION',
      message: `${id} seq ${r.reading.fields.seq} was logged at entry ${r.entry.index}, before the device's registration at entry ${registered}`,
      ...locationOf(r),
    })
  const revoked = revokedAt.get(id)
  if (revoked !== undefined && r.entry.index > revoked)
    checks.fail('devices', {
      code: 'DEVICE_REVOKED',
      message: `${id} seq ${r.reading.fields.seq} was logged at entry ${r.entry.index}, after the device's revocation at entry ${revoked}`,
      ...locationOf(r),
    })
}

/** Checks every chain; returns the gap entries the chains rest on (fed to the engine as declared gaps). */
export function checkChains(
  chainsRead: ChainReadings[],
  ship: ShipmentFacts,
  keyValidity: KeyValidity,
  checks: Checks,
): GapBody[] {
  const usedGaps: GapBody[] = []
  const seen = new Set<string>()
  const summaries: string[] = []
  for (const listed of chainsRead) {
    const chain = loggerChain(listed, ship)
    const id = chain.deviceId
    checkMembership(chain, ship, keyValidity, checks)
    if (seen.has(id)) checks.fail('chains', { code: 'CHAIN_DUPLICATE', message: `two chains for ${id}`, deviceId: id })
    seen.add(id)
    const excuses = new GapExcuses(id, acceptedGapEntries(listed.gaps, id, ship.closeIndex, checks), checks)
    checkOrderAndLinks(chain, excuses, checks)
    checkStart(chain, excuses, checks)
    const span = chainSpan(chain)
    const createAnchor = checkCreateAnchor(chain, span, ship, checks)
    const closeAnchor = checkCloseAnchor(chain, span, ship, checks)
    usedGaps.push(...excuses.usedOrFail())
    if (ship.closeIndex === null && !chain.removed)
      checks.note('chains', `${id}: ends at seq ${span.lastSeq} — provisional: the shipment is still open`)
    const own = chain.ownWindow
    const outside = own
      ? chain.readings.filter((r) => !inWindow(r.reading.fields.deviceTimeMs, own.startAt, own.closedAt)).length
      : 0
    if (outside)
      checks.note(
        'membership',
        `${id}: ${outside} reading(s) of the chain carry a device time outside the window (before its start, after its end, or a clock jump); they are chain links, not evidence for the window`,
      )
    const joined = chain.assignment?.addIndex != null ? 'assignment' : 'create'
    summaries.push(
      `${id} seq ${span.firstSeq}..${span.lastSeq} (${chain.readings.length} reading(s)${excuses.usedCount ? `, ${excuses.usedCount} declared gap(s)` : ''}${chain.before ? ', linked to the reading before the window' : ''})${createAnchor ? `, through the ${joined} anchor seq ${createAnchor.seq}` : ''}${closeAnchor ? ` to the ${chain.removed ? 'removal' : 'close'} anchor seq ${closeAnchor.seq}` : ''}`,
    )
  }
  for (const id of ship.shipDevices)
    if (!seen.has(id))
      checks.fail('chains', {
        code: 'CHAIN_MISSING',
        message: `logger ${id} of the shipment has no chain in the bundle`,
        deviceId: id,
      })
  if (checks.ok('chains')) checks.summary('chains', summaries.join('; '))
  if (checks.ok('membership')) checks.summary('membership', 'every reading is from a logger of the shipment')
  return usedGaps
}

function loggerChain(listed: ChainReadings, { window, windows }: ShipmentFacts): LoggerChain {
  const assignment = windows.find((w) => w.deviceId === listed.deviceId)
  return {
    deviceId: listed.deviceId,
    before: listed.before,
    readings: listed.readings,
    ownWindow:
      window && assignment ? { startAt: assignment.from, closedAt: assignment.until ?? window.closedAt } : window,
    assignment,
    removed: assignment?.removeIndex != null,
  }
}

/** The chain is of a logger of the shipment, holds only that logger's readings, each logged while its key was valid. */
function checkMembership(
  chain: LoggerChain,
  { cb: createBody, shipDevices }: ShipmentFacts,
  keyValidity: KeyValidity,
  checks: Checks,
): void {
  const id = chain.deviceId
  if (createBody && !shipDevices.has(id))
    checks.fail('membership', {
      code: 'DEVICE_NOT_IN_SHIPMENT',
      message: `the bundle holds a chain of ${id}, which is not a logger of ${createBody.shipmentId}`,
      deviceId: id,
    })
  for (const r of [chain.before, ...chain.readings]) {
    if (!r) continue
    const readingDevice = r.reading.fields.deviceId
    if (readingDevice !== id) {
      const foreign = createBody && !shipDevices.has(readingDevice)
      checks.fail('membership', {
        code: foreign ? 'DEVICE_NOT_IN_SHIPMENT' : 'READING_WRONG_DEVICE',
        message: `entry ${r.entry.index} in the chain of ${id} is a reading of ${readingDevice} seq ${r.reading.fields.seq}${foreign ? `, not a logger of ${createBody!.shipmentId}` : ''}`,
        ...locationOf(r),
      })
    }
    checkKeyOrder(r, keyValidity, checks)
  }
}

/** The gap entries listed with the chain that may excuse a skip: of this logger, logged before the close. */
function acceptedGapEntries(listed: Parsed[], id: string, closeIndex: number | null, checks: Checks): DeclaredGap[] {
  const accepted: DeclaredGap[] = []
  for (const p of listed) {
    const e = typed(checks, p, 'gap', 'chains')
    if (!e) continue
    if (e.body.deviceId !== id)
      checks.fail('chains', {
        code: 'GAP_ENTRY_MISMATCH',
        message: `gap entry ${e.index} declares readings of ${e.body.deviceId} lost, not of ${id}`,
        deviceId: id,
        entryIndex: e.index,
      })
    else if (closeIndex !== null && e.index > closeIndex)
      checks.fail('chains', {
        code: 'GAP_AFTER_CLOSE',
        message: `gap entry ${e.index} (${id} ${seqRange(e.body.fromSeq, e.body.toSeq)}) was logged after the close entry ${closeIndex}: a closed shipment's evidence cannot be excused afterwards`,
        deviceId: id,
        entryIndex: e.index,
      })
    else accepted.push({ entry: p, body: e.body })
  }
  return accepted
}

/** The declared gaps of one chain: each skipped range must match one exactly, and each must excuse a skip. */
class GapExcuses {
  readonly #used = new Set<Parsed>()
  constructor(
    private readonly deviceId: string,
    private readonly gaps: DeclaredGap[],
    private readonly checks: Checks,
  ) {}

  get usedCount(): number {
    return this.#used.size
  }

  /** Seqs from..to are absent before `next`: only a gap entry covering exactly that range excuses them. */
  excuse(from: number, to: number, next: ChainReading, missing: 'CHAIN_GAP' | 'CHAIN_START_UNPROVEN'): boolean {
    const id = this.deviceId
    const exact = this.gaps.find((g) => g.body.fromSeq === from && g.body.toSeq === to)
    if (exact) {
      this.#used.add(exact.entry)
      return true
    }
    const overlapping = this.gaps.find((g) => g.body.toSeq >= from && g.body.fromSeq <= to)
    if (overlapping)
      this.checks.fail('chains', {
        code: 'GAP_ENTRY_MISMATCH',
        message: `${id} ${seqRange(from, to)} missing; gap entry ${overlapping.entry.index} declares ${seqRange(overlapping.body.fromSeq, overlapping.body.toSeq)}, not exactly that range`,
        ...locationOf(next),
      })
    else
      this.checks.fail('chains', {
        code: missing,
        message:
          missing === 'CHAIN_GAP'
            ? `${id} ${seqRange(from, to)} missing before seq ${to + 1}, and no gap entry declares it`
            : `${id}: the chain starts at seq ${to + 1}, but ${seqRange(from, to)} below it are neither in the bundle nor declared lost`,
        ...locationOf(next),
      })
    return false
  }

  /** The bodies of the gap entries that excused a skip; every other one fails (it covers nothing the chain skips). */
  usedOrFail(): GapBody[] {
    const used: GapBody[] = []
    for (const g of this.gaps) {
      if (this.#used.has(g.entry)) used.push(g.body)
      else
        this.checks.fail('chains', {
          code: 'GAP_ENTRY_MISMATCH',
          message: `gap entry ${g.entry.index} (${this.deviceId} ${seqRange(g.body.fromSeq, g.body.toSeq)}) covers no range the chain skips`,
          deviceId: this.deviceId,
          entryIndex: g.entry.index,
        })
    }
    return used
  }
}

/** Seqs rise one by one, each reading linked to the one before; a skipped range needs a gap entry. */
function checkOrderAndLinks({ deviceId: id, readings }: LoggerChain, excuses: GapExcuses, checks: Checks): void {
  for (let i = 1; i < readings.length; i++) {
    const prev = readings[i - 1],
      next = readings[i]
    const prevSeq = prev.reading.fields.seq,
      seq = next.reading.fields.seq
    if (seq === prevSeq)
      checks.fail('chains', {
        code: 'CHAIN_DUPLICATE',
        message: `${id} seq ${seq} appears twice (entries ${prev.entry.index} and ${next.entry.index})`,
        ...locationOf(next),
      })
    else if (seq < prevSeq)
      checks.fail('chains', {
        code: 'CHAIN_ORDER',
        message: `${id} seq ${seq} follows seq ${prevSeq}: the chain is out of order`,
        ...locationOf(next),
      })
    else if (seq > prevSeq + 1) excuses.excuse(prevSeq + 1, seq - 1, next, 'CHAIN_GAP')
    else if (!linksTo(prev, next))
      checks.fail('chains', {
        code: 'CHAIN_LINK_BROKEN',
        message: `${id} seq ${seq}: prevHash is not the hash of seq ${prevSeq}`,
        ...locationOf(next),
      })
  }
}

/** Start: the reading below the chain, taken before the window and linked (or seq 1 from genesis). */
function checkStart(
  { deviceId: id, before, readings, ownWindow }: LoggerChain,
  excuses: GapExcuses,
  checks: Checks,
): void {
  const belowSeq = before ? before.reading.fields.seq : 0
  if (before && ownWindow && before.reading.fields.deviceTimeMs >= ownWindow.startAt)
    checks.fail('chains', {
      code: 'CHAIN_ANCHOR_INSIDE_WINDOW',
      message: `${id} seq ${belowSeq}, given as the reading before the window, was taken inside it`,
      ...locationOf(before),
    })
  const first = readings[0]
  if (!first) return
  const f = first.reading.fields
  if (f.seq <= belowSeq)
    checks.fail('chains', {
      code: 'CHAIN_START_UNPROVEN',
      message: `${id}: the reading given as before the chain (seq ${belowSeq}) is not below its first reading (seq ${f.seq})`,
      ...locationOf(first),
    })
  else if (f.seq > belowSeq + 1) excuses.excuse(belowSeq + 1, f.seq - 1, first, 'CHAIN_START_UNPROVEN')
  else if (before ? !linksTo(before, first) : !equalBytes(f.prevHash, GENESIS_PREV_HASH)) {
    checks.fail('chains', {
      code: 'CHAIN_START_UNPROVEN',
      message: before
        ? `${id}: the reading before the window (seq ${belowSeq}) does not link to the first reading (seq ${f.seq})`
        : `${id}: seq 1 does not start from the genesis prevHash`,
      ...locationOf(first),
    })
  }
}

function chainSpan({ before, readings }: LoggerChain): ChainSpan {
  const belowSeq = before ? before.reading.fields.seq : 0
  const last = readings[readings.length - 1] ?? null
  const bySeq = new Map(readings.map((r) => [r.reading.fields.seq, r]))
  return {
    firstSeq: belowSeq + 1,
    lastSeq: last ? last.reading.fields.seq : belowSeq,
    lastHash: last ? hashHexOf(last) : before ? hashHexOf(before) : GENESIS_HEX,
    hashAt: (seq) =>
      seq === 0
        ? GENESIS_HEX
        : seq === belowSeq
          ? before
            ? hashHexOf(before)
            : null
          : bySeq.has(seq)
            ? hashHexOf(bySeq.get(seq)!)
            : null,
  }
}

/** The create anchor: the chain passes through the logger's head at creation (or at its assignment). Returns the anchor. */
function checkCreateAnchor(
  { deviceId: id, assignment }: LoggerChain,
  span: ChainSpan,
  { cb: createBody, createAnchors }: ShipmentFacts,
  checks: Checks,
): ChainAnchor | undefined {
  const anchor = createAnchors?.get(id)
  if (createBody && !anchor)
    checks.fail('chains', {
      code: 'ANCHOR_MISSING',
      message: `the ${assignment?.addIndex != null ? 'shipment.devices' : 'shipment.create'} entry carries no chain anchor for ${id} (a ledger written before anchors): the start of its evidence cannot be bound`,
      deviceId: id,
    })
  if (!anchor) return undefined
  const anchoredHash = span.hashAt(anchor.seq)
  if (span.firstSeq > anchor.seq + 1)
    checks.fail('chains', {
      code: 'ANCHOR_MISMATCH',
      message: `${id}: the chain starts at seq ${span.firstSeq}, above the create anchor seq ${anchor.seq}: ${seqRange(anchor.seq + 1, span.firstSeq - 1)} are not in the bundle`,
      deviceId: id,
      seq: span.firstSeq,
    })
  else if (anchor.seq > span.lastSeq)
    checks.fail('chains', {
      code: 'ANCHOR_MISMATCH',
      message: `${id}: the create anchor seq ${anchor.seq} lies beyond the chain's end (seq ${span.lastSeq})`,
      deviceId: id,
      seq: anchor.seq,
    })
  else if (anchoredHash !== anchor.hash)
    checks.fail('chains', {
      code: 'ANCHOR_MISMATCH',
      message: `${id}: the reading at the create anchor seq ${anchor.seq} ${anchoredHash === null ? 'is not in the bundle' : `hashes to ${anchoredHash}, the anchor says ${anchor.hash}`}`,
      deviceId: id,
      seq: anchor.seq,
    })
  return anchor
}

/** The end: exactly the close (or removal) anchor; an open shipment has none (provisional). Returns the anchor. */
function checkCloseAnchor(
  { deviceId: id, readings, removed }: LoggerChain,
  span: ChainSpan,
  { closeIndex, closeAnchors, closeB: closeBody }: ShipmentFacts,
  checks: Checks,
): ChainAnchor | undefined {
  const anchor = closeAnchors?.get(id)
  const { lastSeq, lastHash } = span
  if ((closeIndex !== null || removed) && !anchor)
    checks.fail('chains', {
      code: 'ANCHOR_MISSING',
      message: `the shipment.close entry carries no chain anchor for ${id} (a ledger written before anchors): the end of its evidence cannot be bound`,
      deviceId: id,
    })
  if (!anchor) return undefined
  if (lastSeq !== anchor.seq || lastHash !== anchor.hash) {
    checks.fail('chains', {
      code: 'CHAIN_END_MISMATCH',
      message: `${id}: the chain ends at seq ${lastSeq}${lastSeq === anchor.seq ? ` hashing to ${lastHash}` : ''}; the close anchor is seq ${anchor.seq} (${anchor.hash})${lastSeq < anchor.seq ? `: ${seqRange(lastSeq + 1, anchor.seq)} are not in the bundle` : ''}`,
      deviceId: id,
      seq: lastSeq,
    })
  }
  // The ledger closes only when every chain reaches closedAt, unless the early end was confirmed.
  if (
    closeBody &&
    !removed &&
    !closeBody.endsEarly &&
    !readings.some((r) => r.reading.fields.deviceTimeMs >= closeBody.closedAt)
  ) {
    checks.fail('chains', {
      code: 'CLOSE_NOT_COVERED',
      message: `${id}: no reading of the chain has a device time at or after the close (${new Date(closeBody.closedAt).toISOString()}), and the close does not say the evidence ends early`,
      deviceId: id,
      seq: lastSeq,
    })
  }
  return anchor
}
