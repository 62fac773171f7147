/**
 * From a sensor's folded state and events to its result, reasons and verdict,
 * and from several sensors to the shipment verdict (the worst sensor decides).
 *
 *   FAIL                                   an allowance, a hard limit or the MKT limit is broken
 *   INCOMPLETE_EVIDENCE                    gaps, missing readings, sensor faults, no data at the
 *                                          start or end of the window, or a broken chain
 *   PASS_WITH_EXCURSIONS_WITHIN_ALLOWANCE  excursions, none breaking a rule: still a deviation to
 *                                          report and investigate (EU GDP 2013/C 343/01, 9.2)
 *   PASS                                   no excursion
 *
 * FAIL outranks INCOMPLETE_EVIDENCE: a broken rule is proven by the evidence present.
 * The MKT is reported, and may have a limit, but a compliant MKT never hides an excursion.
 */
import type { FoldContext, SensorState, ComplianceEvent, EventKind, FaultEpisode, FaultReason } from './engine.ts'
import { formatCentiC, formatDegreeMinutes, formatDuration, formatUtc } from './format.ts'
import { mktCentiCOfHistogram, meanCentiCOfHistogram } from './mkt.ts'
import { judgedLength } from './judged-time.ts'

export type Verdict = 'PASS' | 'PASS_WITH_EXCURSIONS_WITHIN_ALLOWANCE' | 'INCOMPLETE_EVIDENCE' | 'FAIL'
/** Verdicts from best to worst. */
export const VERDICT_ORDER: readonly Verdict[] = [
  'PASS',
  'PASS_WITH_EXCURSIONS_WITHIN_ALLOWANCE',
  'INCOMPLETE_EVIDENCE',
  'FAIL',
]

export type ReasonCode =
  | 'HARD_LIMIT_BREACHED'
  | 'SINGLE_EVENT_EXCEEDED'
  | 'CONSECUTIVE_READINGS_EXCEEDED'
  | 'CUMULATIVE_ALLOWANCE_EXCEEDED'
  | 'DEGREE_MINUTES_EXCEEDED'
  | 'STABILITY_BUDGET_EXCEEDED'
  | 'MKT_ABOVE_LIMIT'
  | 'DATA_GAP'
  | 'MISSING_READINGS'
  | 'SENSOR_FAULT'
  | 'MISSING_START'
  | 'MISSING_END'
  | 'NO_READINGS'
  | 'CHAIN_BROKEN'
  | 'EVIDENCE_ENDS_EARLY'
  | 'DECLARED_GAP'
  | 'DEVICE_COMPROMISED'
  | 'EXCURSION'

export interface Reason {
  code: ReasonCode
  /** The verdict this reason alone would give. */
  verdict: Verdict
  deviceId: string
  /** zone / hard-limit id or fault reason; '' when none */
  rule: string
  /** the event this reason rests on, when there is one */
  eventId?: string
  message: string
}

const EVENT_REASON: Partial<Record<EventKind, [ReasonCode, Verdict]>> = {
  hard_limit_breached: ['HARD_LIMIT_BREACHED', 'FAIL'],
  single_event_exceeded: ['SINGLE_EVENT_EXCEEDED', 'FAIL'],
  consecutive_readings_exceeded: ['CONSECUTIVE_READINGS_EXCEEDED', 'FAIL'],
  cumulative_allowance_exceeded: ['CUMULATIVE_ALLOWANCE_EXCEEDED', 'FAIL'],
  degree_minutes_exceeded: ['DEGREE_MINUTES_EXCEEDED', 'FAIL'],
  stability_budget_exceeded: ['STABILITY_BUDGET_EXCEEDED', 'FAIL'],
  data_gap: ['DATA_GAP', 'INCOMPLETE_EVIDENCE'],
  missing_readings: ['MISSING_READINGS', 'INCOMPLETE_EVIDENCE'],
  sensor_fault: ['SENSOR_FAULT', 'INCOMPLETE_EVIDENCE'],
  excursion_started: ['EXCURSION', 'PASS_WITH_EXCURSIONS_WITHIN_ALLOWANCE'],
}

const c2 = formatCentiC
const utc = formatUtc
const dur = formatDuration

const FAULT_TEXT: Record<FaultReason, string> = {
  status_fault: 'the logger flagged its sensor as faulty',
  impossible_value: 'temperature outside the plausible range',
  clock_backwards: 'device clock went backwards',
  clock_jump: 'device clock jumped',
}

function describeFault(e: ComplianceEvent, ep: FaultEpisode | undefined): string {
  const rule = e.rule as FaultReason
  const what = `sensor fault "${rule}" (${FAULT_TEXT[rule] ?? rule}${rule === 'clock_jump' && e.durationMs !== undefined ? ` by ${dur(e.durationMs)}` : ''})`
  if (!ep || ep.count === 1) return `${what} at seq ${e.seq}, ${utc(e.atMs)}: reading ${c2(e.tempCentiC!)}`
  return `${what}: ${ep.count} readings in a row, seq ${ep.firstSeq} (${utc(ep.firstMs)}) to seq ${ep.lastSeq} (${utc(ep.lastMs)}); first reading ${c2(e.tempCentiC!)}`
}

function describe(e: ComplianceEvent, episodes: ReadonlyMap<string, FaultEpisode>): string {
  switch (e.kind) {
    case 'hard_limit_breached':
      return `hard limit "${e.rule}" (${c2(e.limitCentiC!)}) breached at ${utc(e.atMs)}: ${c2(e.tempCentiC!)}`
    case 'single_event_exceeded':
      return `zone "${e.rule}": one excursion from ${utc(e.startMs!)} lasted longer than ${dur(e.allowanceMs!)}`
    case 'consecutive_readings_exceeded':
      return `zone "${e.rule}": ${e.count} consecutive readings beyond ${c2(e.limitCentiC!)} from ${utc(e.startMs!)}`
    case 'cumulative_allowance_exceeded':
      return `zone "${e.rule}": total time beyond the limit passed the allowance of ${dur(e.allowanceMs!)} at ${utc(e.atMs)} (${dur(e.totalMs!)} by then)`
    case 'degree_minutes_exceeded':
      return `zone "${e.rule}": area beyond the limit, ${formatDegreeMinutes(e.areaCentiCMs!)}, exceeds the allowance of ${formatDegreeMinutes(e.allowanceCentiCMs!)} at ${utc(e.atMs)}`
    case 'stability_budget_exceeded':
      return `stability budget of ${dur(e.allowanceMs!)} exceeded at ${utc(e.atMs)}: ${dur(e.priorMs!)} used by earlier legs + ${dur(e.totalMs!)} here`
    case 'data_gap':
      return `no reading covers ${dur(e.durationMs!)} from ${utc(e.startMs!)} to ${utc(e.endMs!)} (${dur(e.judgedMs!)} of it judged)`
    case 'missing_readings':
      return `${e.count} reading(s) missing between seq ${e.afterSeq} and seq ${e.seq}`
    case 'sensor_fault':
      return describeFault(e, episodes.get(e.id))
    case 'excursion_started':
      return `zone "${e.rule}": excursion beyond ${c2(e.limitCentiC!)} from ${utc(e.startMs!)}`
    default:
      return e.kind
  }
}

export interface ZoneSummary {
  id: string
  excursions: number
  totalBeyondMs: number
  totalAreaCentiCMs: number
  longestExcursionMs: number
  /** most extreme temperature in this zone's excursions, null if none */
  peakCentiC: number | null
  /** the excursion still open at the last reading, if any (live view) */
  openSinceMs: number | null
}

export interface SensorResult {
  deviceId: string
  verdict: Verdict
  reasons: Reason[]
  readings: {
    received: number
    accepted: number
    judged: number
    faults: number
    firstSeq: number | null
    lastSeq: number | null
    firstMs: number | null
    lastMs: number | null
  }
  stats: {
    /** judged time attributed to readings (gaps excluded) */
    coveredMs: number
    inRangeMs: number
    aboveMs: number
    belowMs: number
    minCentiC: number | null
    maxCentiC: number | null
    /** time-weighted, exact, half-even */
    meanCentiC: number | null
    /** mean kinetic temperature, half-even */
    mktCentiC: number | null
    longestIntervalMs: number
    intervalsOverExpected: number
  }
  zones: ZoneSummary[]
  hardLimits: { id: string; breaches: number }[]
  stabilityBudget: { allowanceMs: number; priorMs: number; usedMs: number; remainingMs: number } | null
  /** sensor-fault episodes in fold order: one sensor_fault event (and reason) each */
  faultEpisodes: FaultEpisode[]
  events: ComplianceEvent[]
}

export function worst(vs: readonly Verdict[]): Verdict {
  let w = 0
  for (const v of vs) w = Math.max(w, VERDICT_ORDER.indexOf(v))
  return VERDICT_ORDER[w]
}

/**
 * Builds a sensor's result from its state before and after finishing, and all its events
 * in fold order. `openState` is the state before finishInPlace (for the live open excursions).
 */
export function buildSensorResult(
  ctx: FoldContext,
  openState: SensorState,
  finished: SensorState,
  events: ComplianceEvent[],
  windowEndKnown: boolean,
): SensorResult {
  const p = ctx.profile
  const s = finished
  const dev = s.deviceId
  const reasons: Reason[] = []
  const episodes = new Map(s.faultEpisodes.map((ep) => [ep.eventId, ep]))
  for (const e of events) {
    const r = EVENT_REASON[e.kind]
    if (r)
      reasons.push({
        code: r[0],
        verdict: r[1],
        deviceId: dev,
        rule: e.rule,
        eventId: e.id,
        message: describe(e, episodes),
      })
  }
  const hist = new Map<number, number>()
  for (const [k, v] of Object.entries(s.hist)) hist.set(Number(k), v)
  const mktC = mktCentiCOfHistogram(hist)
  if (p.mktMaxCentiC !== null && mktC !== null && mktC > p.mktMaxCentiC) {
    reasons.push({
      code: 'MKT_ABOVE_LIMIT',
      verdict: 'FAIL',
      deviceId: dev,
      rule: '',
      message: `mean kinetic temperature ${c2(mktC)} is above the limit ${c2(p.mktMaxCentiC)}`,
    })
  }
  const spans = ctx.spans
  if (spans.length > 0) {
    if (s.last === null || s.firstMs === null) {
      reasons.push({
        code: 'NO_READINGS',
        verdict: 'INCOMPLETE_EVIDENCE',
        deviceId: dev,
        rule: '',
        message: 'no accepted reading from this sensor',
      })
    } else {
      const before = judgedLength(spans, -Infinity, s.firstMs)
      if (before > p.maxDataGapMs) {
        reasons.push({
          code: 'MISSING_START',
          verdict: 'INCOMPLETE_EVIDENCE',
          deviceId: dev,
          rule: '',
          message: `first reading at ${utc(s.firstMs)}: ${dur(before)} of judged time before it has no reading`,
        })
      }
      const lastSpanEnd = spans[spans.length - 1][1]
      if (windowEndKnown && Number.isFinite(lastSpanEnd)) {
        const after = judgedLength(spans, s.last.t, Infinity)
        if (after > p.maxDataGapMs) {
          reasons.push({
            code: 'MISSING_END',
            verdict: 'INCOMPLETE_EVIDENCE',
            deviceId: dev,
            rule: '',
            message: `last reading at ${utc(s.last.t)}: ${dur(after)} of judged time after it has no reading`,
          })
        }
      }
    }
  }
  const verdict = worst(reasons.map((r) => r.verdict))
  const sb = p.stabilityBudget
  const usedMs = s.aboveMs + s.belowMs
  return {
    deviceId: dev,
    verdict,
    reasons,
    readings: {
      received: s.readings,
      accepted: s.accepted,
      judged: s.judgedReadings,
      faults: s.faults,
      firstSeq: s.firstSeq,
      lastSeq: s.last?.seq ?? null,
      firstMs: s.firstMs,
      lastMs: s.last?.t ?? null,
    },
    stats: {
      coveredMs: s.coveredMs,
      inRangeMs: s.inRangeMs,
      aboveMs: s.aboveMs,
      belowMs: s.belowMs,
      minCentiC: s.minCentiC,
      maxCentiC: s.maxCentiC,
      meanCentiC: meanCentiCOfHistogram(hist),
      mktCentiC: mktC,
      longestIntervalMs: s.longestIntervalMs,
      intervalsOverExpected: s.intervalsOverExpected,
    },
    zones: p.zones.map((z, i) => ({
      id: z.id,
      excursions: s.zones[i].excursions,
      totalBeyondMs: s.zones[i].totalBeyondMs,
      totalAreaCentiCMs: s.zones[i].totalAreaCentiCMs,
      longestExcursionMs: s.zones[i].longestMs,
      peakCentiC: s.zones[i].peakCentiC,
      openSinceMs: openState.zones[i].open?.startMs ?? null,
    })),
    hardLimits: p.hardLimits.map((h, i) => ({ id: h.id, breaches: s.hardBreaches[i] })),
    stabilityBudget: sb
      ? {
          allowanceMs: sb.allowanceMs,
          priorMs: ctx.priorStabilityMs,
          usedMs,
          remainingMs: sb.allowanceMs - ctx.priorStabilityMs - usedMs,
        }
      : null,
    faultEpisodes: s.faultEpisodes.map((ep) => ({ ...ep })),
    events,
  }
}
