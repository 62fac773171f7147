/**
 * The incremental evaluator of one sensor. Readings may arrive in any order
 * (store-and-forward backfill after a gap): a reading that belongs before
 * others re-runs the fold from the nearest saved state before it, so the
 * result always equals folding all readings in sequence order from scratch.
 * In-order arrival, the live case, costs one fold step.
 */
import type { RuleProfile } from './profile.ts'
import {
  createFoldContext,
  initialState,
  stepInPlace,
  finishInPlace,
  type ComplianceEvent,
  type EngineReading,
  type FoldContext,
  type SensorState,
} from './engine.ts'
import type { TimeWindow, UnjudgedWindow } from './judged-time.ts'
import { buildSensorResult, type SensorResult } from './verdict.ts'
import { ComplianceError } from './errors.ts'
import { MAX_DEVICE_TIME_MS } from '../../ledger/protocol/index.ts'

/** By default a state is saved after every this many readings; a late reading re-folds at most this many plus those after it. */
const DEFAULT_SNAPSHOT_EVERY = 256

export interface SensorEvaluatorOptions {
  profile: RuleProfile
  deviceId: string
  window: TimeWindow
  unjudged?: readonly UnjudgedWindow[]
  /** Readings between saved states (memory against re-fold work); default 256. */
  snapshotEvery?: number
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
  /** Several readings at once (a backfill burst): one re-fold from the earliest. */
  addAll(readings: readonly EngineReading[]): AddOutcome
  /** The result as if the data ended now (open excursions end with endReason 'end_of_data'). */
  result(): SensorResult
}

function bad(path: string, field: string, want: string, v: unknown): never {
  throw new ComplianceError('ERR_INPUT_INVALID', `${path}.${field}`, `expected ${want}, got ${JSON.stringify(v)}`, {
    value: v,
  })
}

export function checkEngineReading(r: unknown, path: string): EngineReading {
  if (typeof r !== 'object' || r === null)
    throw new ComplianceError('ERR_INPUT_INVALID', path, 'expected a reading object', { value: r })
  const o = r as Record<string, unknown>
  if (typeof o.deviceId !== 'string' || o.deviceId.length === 0) bad(path, 'deviceId', 'a device id', o.deviceId)
  if (!Number.isSafeInteger(o.seq) || (o.seq as number) < 1) bad(path, 'seq', 'an integer >= 1', o.seq)
  // The device time range of docs/PROTOCOL.md: every time the ingest accepts, nothing else.
  if (
    !Number.isSafeInteger(o.deviceTimeMs) ||
    (o.deviceTimeMs as number) < 0 ||
    (o.deviceTimeMs as number) > MAX_DEVICE_TIME_MS
  )
    bad(path, 'deviceTimeMs', `an integer ms in 0..${MAX_DEVICE_TIME_MS}`, o.deviceTimeMs)
  if (!Number.isSafeInteger(o.tempCentiC)) bad(path, 'tempCentiC', 'an integer (centi-°C)', o.tempCentiC)
  if (o.status !== undefined && (!Number.isSafeInteger(o.status) || (o.status as number) < 0))
    bad(path, 'status', 'an integer bit set', o.status)
  const out: EngineReading = {
    deviceId: o.deviceId as string,
    seq: o.seq as number,
    deviceTimeMs: o.deviceTimeMs as number,
    tempCentiC: o.tempCentiC as number,
  }
  if (o.status !== undefined) out.status = o.status as number
  return out
}

const NO_EVENTS: readonly ComplianceEvent[] = Object.freeze([])

const same = (a: EngineReading, b: EngineReading) =>
  a.deviceTimeMs === b.deviceTimeMs && a.tempCentiC === b.tempCentiC && (a.status ?? 0) === (b.status ?? 0)

/** Events are flat records of primitives: equal when every field is. */
function sameEvent(a: ComplianceEvent, b: ComplianceEvent): boolean {
  const ka = Object.keys(a) as (keyof ComplianceEvent)[]
  if (ka.length !== Object.keys(b).length) return false
  for (const k of ka) if (a[k] !== b[k]) return false
  return true
}

export function createSensorEvaluator(opts: SensorEvaluatorOptions): SensorEvaluator {
  const { profile, deviceId } = opts
  const SNAPSHOT_EVERY = opts.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY
  if (!Number.isSafeInteger(SNAPSHOT_EVERY) || SNAPSHOT_EVERY < 1)
    throw new ComplianceError(
      'ERR_INPUT_INVALID',
      '$.snapshotEvery',
      `expected an integer >= 1, got ${SNAPSHOT_EVERY}`,
      { value: SNAPSHOT_EVERY },
    )
  const ctx: FoldContext = createFoldContext(profile, opts.window, opts.unjudged ?? [])
  const windowEndKnown = opts.window.endMs !== undefined && opts.window.endMs !== null
  const entries: { r: EngineReading; events: readonly ComplianceEvent[] }[] = []
  /** snapshots[k] = state after entries[0 .. (k+1)*SNAPSHOT_EVERY - 1] */
  const snapshots: SensorState[] = []
  let state = initialState(ctx, deviceId)

  /** Folds entry `i` into the state; returns the events it raised. */
  function push(i: number): ComplianceEvent[] {
    const events = stepInPlace(ctx, state, entries[i].r)
    // Most readings raise nothing: those entries share one empty list instead of holding one each.
    entries[i].events = events.length ? events : NO_EVENTS
    if ((i + 1) % SNAPSHOT_EVERY === 0) snapshots[(i + 1) / SNAPSHOT_EVERY - 1] = structuredClone(state)
    return events
  }

  /** Index of the first entry with seq >= `seq`. */
  function find(seq: number): number {
    let lo = 0
    let hi = entries.length
    if (hi > 0 && entries[hi - 1].r.seq < seq) return hi // the live case: after all others
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (entries[mid].r.seq < seq) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** The entry already holding `r.seq`, or null; throws if it holds different values. */
  function held(r: EngineReading): EngineReading | null {
    if (r.deviceId !== deviceId) {
      throw new ComplianceError(
        'ERR_INPUT_INVALID',
        '$.deviceId',
        `this evaluator judges "${deviceId}", got a reading of "${r.deviceId}"`,
        { expected: deviceId, actual: r.deviceId },
      )
    }
    const i = find(r.seq)
    const h = i < entries.length && entries[i].r.seq === r.seq ? entries[i].r : null
    if (h && !same(h, r)) {
      throw new ComplianceError(
        'ERR_READING_CONFLICT',
        '$.seq',
        `device "${deviceId}" seq ${r.seq} is already held with different values`,
        { held: h, got: r },
      )
    }
    return h
  }

  /** Re-folds from entry `from` (the earliest new reading) to the end and reports what changed. */
  function refold(from: number): AddOutcome {
    // Entries keep their previous events until push overwrites them; new entries have none.
    const before = new Map<string, ComplianceEvent>()
    for (let i = from; i < entries.length; i++) for (const e of entries[i].events) before.set(e.id, e)
    const keep = Math.floor(from / SNAPSHOT_EVERY) // snapshots wholly before `from` stay valid
    snapshots.length = keep
    state = keep === 0 ? initialState(ctx, deviceId) : structuredClone(snapshots[keep - 1])
    for (let i = keep * SNAPSHOT_EVERY; i < entries.length; i++) push(i)
    const after = new Map<string, ComplianceEvent>()
    for (let i = from; i < entries.length; i++) for (const e of entries[i].events) after.set(e.id, e)
    const added: ComplianceEvent[] = []
    for (const [id, e] of after) {
      const was = before.get(id)
      if (!was || !sameEvent(was, e)) added.push(e)
    }
    const retracted: string[] = []
    for (const [id, e] of before) {
      const now = after.get(id)
      if (!now || !sameEvent(e, now)) retracted.push(id)
    }
    return { added, retracted }
  }

  /** The live case, one reading after all others: one fold step. */
  function appendLast(r: EngineReading): AddOutcome {
    entries.push({ r, events: NO_EVENTS })
    return { added: push(entries.length - 1), retracted: [] }
  }

  const follows = (r: EngineReading) => entries.length === 0 || entries[entries.length - 1].r.seq < r.seq

  function add(reading: EngineReading): AddOutcome {
    const r = checkEngineReading(reading, '$')
    // Straight to the fold step when it follows all others (no burst bookkeeping per live reading).
    if (r.deviceId === deviceId && follows(r)) return appendLast(r)
    return addChecked([r])
  }

  function addAll(input: readonly EngineReading[]): AddOutcome {
    return addChecked(input.map((r, i) => checkEngineReading(r, input.length === 1 ? '$' : `$[${i}]`)))
  }

  function addChecked(rs: readonly EngineReading[]): AddOutcome {
    // Check the whole burst before changing anything: a refused burst adds nothing.
    const bySeq = new Map<number, EngineReading>()
    for (const r of rs) {
      const dup = bySeq.get(r.seq)
      if (dup && !same(dup, r))
        throw new ComplianceError(
          'ERR_READING_CONFLICT',
          '$.seq',
          `device "${deviceId}" seq ${r.seq} appears twice with different values`,
          { held: dup, got: r },
        )
      if (!held(r)) bySeq.set(r.seq, r)
    }
    if (bySeq.size === 0) return { added: [], retracted: [] } // resends of readings already held
    const fresh = [...bySeq.values()].sort((a, b) => a.seq - b.seq)
    // Fast path, the live case: one reading after all others costs one fold step.
    if (fresh.length === 1 && follows(fresh[0])) return appendLast(fresh[0])
    let from = Infinity
    for (const r of fresh) {
      const i = find(r.seq)
      entries.splice(i, 0, { r, events: NO_EVENTS })
      from = Math.min(from, i)
    }
    return refold(from)
  }

  function result(): SensorResult {
    const finished = structuredClone(state)
    const tail = finishInPlace(ctx, finished, windowEndKnown)
    return buildSensorResult(ctx, state, finished, [...entries.flatMap((e) => e.events), ...tail], windowEndKnown)
  }

  return {
    deviceId,
    get size() {
      return entries.length
    },
    add,
    addAll,
    result,
  }
}
