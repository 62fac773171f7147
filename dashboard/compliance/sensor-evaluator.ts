/**
 * The incremental evaluator of one sensor. Readings may arrive in any order
 * (store-and-forward backfill after a gap): a reading that belongs before
 * others re-runs the fold from the nearest saved state before it, so the
 * result always equals folding all readings in sequence order from scratch.
 * In-order arrival, the live case, costs one fold step.
 */
import { canonicalJson } from '../../ledger/canonical-json.ts'
import type { RuleProfile } from './profile.ts'
import { createFoldContext, initialState, stepInPlace, finishInPlace, type ComplianceEvent, type EngineReading, type FoldContext, type SensorState } from './engine.ts'
import type { TimeWindow, UnjudgedWindow } from './judged-time.ts'
import { buildSensorResult, type SensorResult } from './verdict.ts'
import { ComplianceError } from './errors.ts'

/** A state is saved after every this many readings; a late reading re-folds at most this many plus those after it. */
const SNAPSHOT_EVERY = 64

export interface SensorEvaluatorOptions {
  profile: RuleProfile
  deviceId: string
  window: TimeWindow
  unjudged?: readonly UnjudgedWindow[]
}

/** What one `add` changed: new events, and ids of earlier events a late reading withdrew or changed. */
export interface AddOutcome {
  added: ComplianceEvent[]
  /** ids of events no longer valid; a changed event appears here and again, updated, in `added`. */
  retracted: string[]
}

export interface SensorEvaluator {
  readonly deviceId: string
  /** Number of distinct readings held. */
  readonly size: number
  add(reading: EngineReading): AddOutcome
  /** The result as if the data ended now (open excursions end with endReason 'end_of_data'). */
  result(): SensorResult
}

export function checkEngineReading(r: unknown, path: string): EngineReading {
  const bad = (field: string, want: string, v: unknown): never => {
    throw new ComplianceError('ERR_INPUT_INVALID', `${path}.${field}`, `expected ${want}, got ${JSON.stringify(v)}`, { value: v })
  }
  if (typeof r !== 'object' || r === null) throw new ComplianceError('ERR_INPUT_INVALID', path, 'expected a reading object', { value: r })
  const o = r as Record<string, unknown>
  if (typeof o.deviceId !== 'string' || o.deviceId.length === 0) bad('deviceId', 'a device id', o.deviceId)
  if (!Number.isSafeInteger(o.seq) || (o.seq as number) < 1) bad('seq', 'an integer >= 1', o.seq)
  if (!Number.isSafeInteger(o.deviceTimeMs) || (o.deviceTimeMs as number) < 0) bad('deviceTimeMs', 'an integer ms >= 0', o.deviceTimeMs)
  if (!Number.isSafeInteger(o.tempCentiC)) bad('tempCentiC', 'an integer (centi-°C)', o.tempCentiC)
  if (o.status !== undefined && (!Number.isSafeInteger(o.status) || (o.status as number) < 0)) bad('status', 'an integer bit set', o.status)
  const out: EngineReading = { deviceId: o.deviceId as string, seq: o.seq as number, deviceTimeMs: o.deviceTimeMs as number, tempCentiC: o.tempCentiC as number }
  if (o.status !== undefined) out.status = o.status as number
  return out
}

const same = (a: EngineReading, b: EngineReading) =>
  a.deviceTimeMs === b.deviceTimeMs && a.tempCentiC === b.tempCentiC && (a.status ?? 0) === (b.status ?? 0)

export function createSensorEvaluator(opts: SensorEvaluatorOptions): SensorEvaluator {
  const { profile, deviceId } = opts
  const ctx: FoldContext = createFoldContext(profile, opts.window, opts.unjudged ?? [])
  const windowEndKnown = opts.window.endMs !== undefined && opts.window.endMs !== null
  const entries: { r: EngineReading; events: ComplianceEvent[] }[] = []
  /** snapshots[k] = state after entries[0 .. (k+1)*SNAPSHOT_EVERY - 1] */
  const snapshots: SensorState[] = []
  let state = initialState(ctx, deviceId)

  function push(i: number): void {
    entries[i].events = stepInPlace(ctx, state, entries[i].r)
    if ((i + 1) % SNAPSHOT_EVERY === 0) snapshots[(i + 1) / SNAPSHOT_EVERY - 1] = structuredClone(state)
  }

  function add(input: EngineReading): AddOutcome {
    const r = checkEngineReading(input, '$')
    if (r.deviceId !== deviceId) {
      throw new ComplianceError('ERR_INPUT_INVALID', '$.deviceId', `this evaluator judges "${deviceId}", got a reading of "${r.deviceId}"`, { expected: deviceId, actual: r.deviceId })
    }
    // binary search for the first entry with seq >= r.seq
    let lo = 0
    let hi = entries.length
    while (lo < hi) { const mid = (lo + hi) >> 1; if (entries[mid].r.seq < r.seq) lo = mid + 1; else hi = mid }
    const pos = lo
    if (pos < entries.length && entries[pos].r.seq === r.seq) {
      if (same(entries[pos].r, r)) return { added: [], retracted: [] } // a resend of a reading already held
      throw new ComplianceError('ERR_READING_CONFLICT', '$.seq', `device "${deviceId}" seq ${r.seq} is already held with different values`, { held: entries[pos].r, got: r })
    }
    if (pos === entries.length) {
      entries.push({ r, events: [] })
      push(pos)
      return { added: entries[pos].events, retracted: [] }
    }
    const old = entries.slice(pos).flatMap((e) => e.events)
    entries.splice(pos, 0, { r, events: [] })
    const keep = Math.floor(pos / SNAPSHOT_EVERY) // snapshots before index `pos` stay valid
    snapshots.length = keep
    state = keep === 0 ? initialState(ctx, deviceId) : structuredClone(snapshots[keep - 1])
    for (let i = keep * SNAPSHOT_EVERY; i < entries.length; i++) push(i)
    const now = entries.slice(pos).flatMap((e) => e.events)
    const before = new Map(old.map((e) => [e.id, canonicalJson(e)]))
    const after = new Map(now.map((e) => [e.id, canonicalJson(e)]))
    return {
      added: now.filter((e) => before.get(e.id) !== after.get(e.id)),
      retracted: old.filter((e) => after.get(e.id) !== before.get(e.id)).map((e) => e.id),
    }
  }

  function result(): SensorResult {
    const finished = structuredClone(state)
    const tail = finishInPlace(ctx, finished)
    return buildSensorResult(ctx, state, finished, [...entries.flatMap((e) => e.events), ...tail], windowEndKnown)
  }

  return {
    deviceId,
    get size() { return entries.length },
    add,
    result,
  }
}
