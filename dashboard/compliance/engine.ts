/**
 * The compliance fold (ARCHITECTURE.md decision 8): state + one reading -> new state
 * + events, per sensor, in sequence-number order. The same fold raises live
 * alarms and produces the final verdict, so the dashboard, the report and the
 * regulator's verifier cannot disagree.
 *
 * Interval attribution (docs/COMPLIANCE.md, "How time is counted"): each
 * accepted reading stands for the interval from its device time up to the next
 * accepted reading (zero-order hold). An interval longer than maxDataGapMs is
 * a gap and is attributed to nothing. An interval is judged only on its
 * judged-time pieces (judged-time.ts). All arithmetic is on integers.
 */
import { STATUS } from '../../ledger/protocol/index.ts'
import type { RuleProfile, Zone, HardLimit, Side } from './profile.ts'
import {
  judgedSpans,
  isJudged,
  judgedLength,
  pieces,
  cutInside,
  type Span,
  type TimeWindow,
  type UnjudgedWindow,
} from './judged-time.ts'

import {
  ALARM_KINDS,
  type EngineReading,
  type EventKind,
  type EndReason,
  type FaultReason,
  type ComplianceEvent,
  type FaultEpisode,
} from './events.ts'
export { ALARM_KINDS }
export type { EngineReading, EventKind, EndReason, FaultReason, ComplianceEvent, FaultEpisode }

interface OpenExcursion {
  startMs: number
  peakCentiC: number
  beyondMs: number
  areaCentiCMs: number
  consecutive: number
  alarmed: boolean
  singleExceeded: boolean
  consecutiveExceeded: boolean
}

interface ZoneState {
  open: OpenExcursion | null
  excursions: number
  totalBeyondMs: number
  totalAreaCentiCMs: number
  longestMs: number
  peakCentiC: number | null
  cumulativeExceeded: boolean
  areaExceeded: boolean
}

/** Plain-data state of one sensor's fold (structured-clonable). */
export interface SensorState {
  deviceId: string
  last: { seq: number; t: number; temp: number } | null
  lastSeq: number | null
  zones: ZoneState[]
  hardInBreach: boolean[]
  hardBreaches: number[]
  /** centi-°C (as string key) -> judged ms held at that temperature */
  hist: Record<string, number>
  coveredMs: number
  inRangeMs: number
  aboveMs: number
  belowMs: number
  minCentiC: number | null
  maxCentiC: number | null
  readings: number
  accepted: number
  judgedReadings: number
  faults: number
  /** every fault episode, in fold order */
  faultEpisodes: FaultEpisode[]
  /** index in faultEpisodes of the episode the last reading extended or started, or null */
  openFault: number | null
  firstSeq: number | null
  firstMs: number | null
  longestIntervalMs: number
  intervalsOverExpected: number
  stabilityExceeded: boolean
}

/** What the fold needs besides the state: the profile and the judged time, fixed for a shipment. */
export interface FoldContext {
  profile: RuleProfile
  spans: Span[]
  priorStabilityMs: number
}

export function createFoldContext(
  profile: RuleProfile,
  window: TimeWindow,
  unjudged: readonly UnjudgedWindow[] = [],
): FoldContext {
  return {
    profile,
    spans: judgedSpans(window, profile.startDelayMs, profile.stopDelayMs, unjudged),
    priorStabilityMs: profile.stabilityBudget
      ? profile.stabilityBudget.priorUsage.reduce((s, u) => s + u.usedMs, 0)
      : 0,
  }
}

export function initialState(ctx: FoldContext, deviceId: string): SensorState {
  return {
    deviceId,
    last: null,
    lastSeq: null,
    zones: ctx.profile.zones.map(() => ({
      open: null,
      excursions: 0,
      totalBeyondMs: 0,
      totalAreaCentiCMs: 0,
      longestMs: 0,
      peakCentiC: null,
      cumulativeExceeded: false,
      areaExceeded: false,
    })),
    hardInBreach: ctx.profile.hardLimits.map(() => false),
    hardBreaches: ctx.profile.hardLimits.map(() => 0),
    hist: {},
    coveredMs: 0,
    inRangeMs: 0,
    aboveMs: 0,
    belowMs: 0,
    minCentiC: null,
    maxCentiC: null,
    readings: 0,
    accepted: 0,
    judgedReadings: 0,
    faults: 0,
    faultEpisodes: [],
    openFault: null,
    firstSeq: null,
    firstMs: null,
    longestIntervalMs: 0,
    intervalsOverExpected: 0,
    stabilityExceeded: false,
  }
}

/** Is `t` (centi-°C) beyond a limit? Inclusive: the limit value itself is not beyond. */
export function isBeyond(l: { side: Side; limitCentiC: number; limitInclusive: boolean }, t: number): boolean {
  if (l.side === 'above') return l.limitInclusive ? t > l.limitCentiC : t >= l.limitCentiC
  return l.limitInclusive ? t < l.limitCentiC : t <= l.limitCentiC
}

/** Back inside by the hysteresis margin: the temperature moved `h` further inside would still not be beyond. */
function isBackInside(z: Zone, t: number, h: number): boolean {
  return !isBeyond(z, z.side === 'above' ? t + h : t - h)
}

/** 'in' | 'above' | 'below' the labelled range, per its stated inclusivity. */
export function rangeClass(p: RuleProfile, t: number): 'in' | 'above' | 'below' {
  const r = p.range
  if (r.highCentiC !== null && (r.highInclusive ? t > r.highCentiC : t >= r.highCentiC)) return 'above'
  if (r.lowCentiC !== null && (r.lowInclusive ? t < r.lowCentiC : t <= r.lowCentiC)) return 'below'
  return 'in'
}

const DM_TO_CENTI_C_MS = 100 * 60_000

class Fold {
  constructor(
    readonly ctx: FoldContext,
    readonly s: SensorState,
    readonly out: ComplianceEvent[],
  ) {}

  emit(kind: EventKind, rule: string, anchor: number, atMs: number, fields: Partial<ComplianceEvent> = {}): void {
    const d = this.s.deviceId
    this.out.push({
      id: rule ? `${d}:${kind}:${rule}:${anchor}` : `${d}:${kind}:${anchor}`,
      kind,
      deviceId: d,
      alarm: ALARM_KINDS.has(kind),
      atMs,
      rule,
      ...fields,
    })
  }

  /** A judged temperature observation at time t: a real reading, or the held value where judged time begins. */
  observe(t: number, temp: number, seq: number, real: boolean): void {
    const { profile } = this.ctx
    const s = this.s
    if (real) {
      s.judgedReadings++
      s.minCentiC = s.minCentiC === null ? temp : Math.min(s.minCentiC, temp)
      s.maxCentiC = s.maxCentiC === null ? temp : Math.max(s.maxCentiC, temp)
    }
    // Indexed loops, not forEach: no closure per reading on the live path.
    for (let i = 0; i < profile.hardLimits.length; i++) {
      const h: HardLimit = profile.hardLimits[i]
      const beyond = isBeyond(h, temp)
      // A hard limit fires at once, no delay; once per contiguous breach.
      if (beyond && !s.hardInBreach[i]) {
        s.hardBreaches[i]++
        this.emit('hard_limit_breached', h.id, t, t, { tempCentiC: temp, limitCentiC: h.limitCentiC, seq })
      }
      s.hardInBreach[i] = beyond
    }
    for (let i = 0; i < profile.zones.length; i++) {
      const z = profile.zones[i]
      const zs = s.zones[i]
      const beyond = isBeyond(z, temp)
      if (zs.open) {
        const o = zs.open
        if (beyond) {
          o.peakCentiC = z.side === 'above' ? Math.max(o.peakCentiC, temp) : Math.min(o.peakCentiC, temp)
          if (real) o.consecutive++
        } else if (isBackInside(z, temp, profile.hysteresisCentiC)) {
          this.end(i, t, 'returned', true)
        } else {
          o.consecutive = 0
        }
      } else if (beyond) {
        zs.open = {
          startMs: t,
          peakCentiC: temp,
          beyondMs: 0,
          areaCentiCMs: 0,
          consecutive: real ? 1 : 0,
          alarmed: false,
          singleExceeded: false,
          consecutiveExceeded: false,
        }
        zs.excursions++
        this.emit('excursion_started', z.id, t, t, { startMs: t, tempCentiC: temp, limitCentiC: z.limitCentiC, seq })
        if (z.alarmDelayMs === 0) {
          zs.open.alarmed = true
          this.emit('excursion_alarm', z.id, t, t, {
            startMs: t,
            durationMs: 0,
            tempCentiC: temp,
            limitCentiC: z.limitCentiC,
          })
        }
      }
      const o = zs.open
      if (o) {
        zs.peakCentiC =
          zs.peakCentiC === null
            ? o.peakCentiC
            : z.side === 'above'
              ? Math.max(zs.peakCentiC, o.peakCentiC)
              : Math.min(zs.peakCentiC, o.peakCentiC)
        if (z.maxConsecutiveReadings !== null && !o.consecutiveExceeded && o.consecutive >= z.maxConsecutiveReadings) {
          o.consecutiveExceeded = true
          this.emit('consecutive_readings_exceeded', z.id, o.startMs, t, {
            startMs: o.startMs,
            count: o.consecutive,
            limitCentiC: z.limitCentiC,
            seq,
          })
        }
      }
    }
  }

  /** Attribute [last.t, b) to the held reading, on its judged pieces only. */
  attribute(last: { seq: number; t: number; temp: number }, b: number): void {
    const spans = this.ctx.spans
    let prevJudged = isJudged(spans, last.t)
    if (!cutInside(spans, last.t, b)) {
      // The usual interval: within one span or one gap, a single piece judged as its start is.
      if (prevJudged && b > last.t) this.accumulate(last.t, b, last.temp)
    } else
      for (const p of pieces(spans, last.t, b)) {
        if (p.judged && !prevJudged) this.observe(p.a, last.temp, last.seq, false)
        if (!p.judged && prevJudged) this.interrupt(p.a, 'not_judged')
        if (p.judged) this.accumulate(p.a, p.b, last.temp)
        prevJudged = p.judged
      }
    if (!isJudged(spans, b) && prevJudged) this.interrupt(b, 'not_judged')
  }

  /**
   * The last reading before a data gap or the end of the data holds its value for one
   * expected sampling interval (never past `until`), then nothing is known
   * (docs/COMPLIANCE.md, "How time is counted"). Returns where the hold ends.
   */
  hold(last: { seq: number; t: number; temp: number }, until: number): number {
    const end = Math.min(until, last.t + this.ctx.profile.expectedIntervalMs)
    this.attribute(last, end)
    return end
  }

  /** Attribute the judged interval [a, b) at the held temperature. */
  accumulate(a: number, b: number, temp: number): void {
    const { profile } = this.ctx
    const s = this.s
    const dt = b - a
    s.hist[temp] = (s.hist[temp] ?? 0) + dt
    s.coveredMs += dt
    const rc = rangeClass(profile, temp)
    if (rc === 'in') s.inRangeMs += dt
    else if (rc === 'above') s.aboveMs += dt
    else s.belowMs += dt
    for (let i = 0; i < profile.zones.length; i++) {
      const z = profile.zones[i]
      const zs = s.zones[i]
      const o = zs.open
      if (!o) continue
      if (isBeyond(z, temp)) {
        const area = Math.abs(temp - z.limitCentiC) * dt
        o.beyondMs += dt
        o.areaCentiCMs += area
        zs.totalBeyondMs += dt
        zs.totalAreaCentiCMs += area
      }
      const elapsed = b - o.startMs
      if (!o.alarmed && elapsed >= z.alarmDelayMs) {
        o.alarmed = true
        this.emit('excursion_alarm', z.id, o.startMs, b, {
          startMs: o.startMs,
          durationMs: elapsed,
          limitCentiC: z.limitCentiC,
          allowanceMs: z.alarmDelayMs,
        })
      }
      if (z.maxSingleEventMs !== null && !o.singleExceeded && elapsed > z.maxSingleEventMs) {
        o.singleExceeded = true
        this.emit('single_event_exceeded', z.id, o.startMs, b, {
          startMs: o.startMs,
          durationMs: elapsed,
          allowanceMs: z.maxSingleEventMs,
        })
      }
      if (z.cumulativeAllowanceMs !== null && !zs.cumulativeExceeded && zs.totalBeyondMs > z.cumulativeAllowanceMs) {
        zs.cumulativeExceeded = true
        this.emit('cumulative_allowance_exceeded', z.id, b, b, {
          totalMs: zs.totalBeyondMs,
          allowanceMs: z.cumulativeAllowanceMs,
        })
      }
      if (
        z.allowanceDegreeMinutes !== null &&
        !zs.areaExceeded &&
        zs.totalAreaCentiCMs > z.allowanceDegreeMinutes * DM_TO_CENTI_C_MS
      ) {
        zs.areaExceeded = true
        this.emit('degree_minutes_exceeded', z.id, b, b, {
          areaCentiCMs: zs.totalAreaCentiCMs,
          allowanceCentiCMs: z.allowanceDegreeMinutes * DM_TO_CENTI_C_MS,
        })
      }
    }
    const sb = profile.stabilityBudget
    if (sb && !s.stabilityExceeded && this.ctx.priorStabilityMs + s.aboveMs + s.belowMs > sb.allowanceMs) {
      s.stabilityExceeded = true
      this.emit('stability_budget_exceeded', '', b, b, {
        totalMs: s.aboveMs + s.belowMs,
        priorMs: this.ctx.priorStabilityMs,
        allowanceMs: sb.allowanceMs,
      })
    }
  }

  end(i: number, t: number, reason: EndReason, outcomeKnown: boolean): void {
    const zs = this.s.zones[i]
    const o = zs.open!
    const z = this.ctx.profile.zones[i]
    const durationMs = t - o.startMs
    zs.longestMs = Math.max(zs.longestMs, durationMs)
    this.emit('excursion_ended', z.id, o.startMs, t, {
      startMs: o.startMs,
      endMs: t,
      durationMs,
      beyondMs: o.beyondMs,
      peakCentiC: o.peakCentiC,
      areaCentiCMs: o.areaCentiCMs,
      limitCentiC: z.limitCentiC,
      endReason: reason,
      outcomeKnown,
    })
    zs.open = null
  }

  /** Judging stops (gap, unjudged time, end of data): open excursions end, hard-limit episodes reset. */
  interrupt(t: number, reason: EndReason): void {
    this.s.zones.forEach((zs, i) => {
      if (zs.open) this.end(i, t, reason, false)
    })
    this.s.hardInBreach.fill(false)
  }

  /**
   * Sensor faults are episodes: the first reading with a fault reason raises the
   * event (anchored at its seq, so the alarm id is stable), each following reading
   * with the same reason only extends the episode, and the first reading without
   * it ends the episode. A flapping clock or a stuck fault bit is one alarm, not
   * one per reading.
   */
  faultEpisode(rule: FaultReason | null, seq: number, t: number, temp: number, jumpMs: number | null): void {
    const s = this.s
    const open = s.openFault === null ? null : s.faultEpisodes[s.openFault]
    if (open && open.rule === rule) {
      open.lastSeq = seq
      open.lastMs = t
      open.count++
      return
    }
    s.openFault = null
    if (rule === null) return
    const fields: Partial<ComplianceEvent> =
      jumpMs === null ? { seq, tempCentiC: temp } : { seq, tempCentiC: temp, durationMs: jumpMs }
    this.emit('sensor_fault', rule, seq, t, fields)
    s.openFault = s.faultEpisodes.length
    s.faultEpisodes.push({
      eventId: this.out[this.out.length - 1].id,
      rule,
      firstSeq: seq,
      lastSeq: seq,
      firstMs: t,
      lastMs: t,
      count: 1,
    })
  }

  step(r: EngineReading): void {
    const { profile, spans } = this.ctx
    const s = this.s
    const { seq, deviceTimeMs: t, tempCentiC: temp } = r
    s.readings++
    const last = s.last
    const touchesJudged =
      isJudged(spans, t) || (last !== null && judgedLength(spans, Math.min(last.t, t), Math.max(last.t, t) + 1) > 0)
    if (s.lastSeq !== null && seq > s.lastSeq + 1 && touchesJudged) {
      // ARCHITECTURE.md decision 2: every signed reading counts; a missing sequence number is missing evidence.
      this.emit('missing_readings', '', s.lastSeq, t, { afterSeq: s.lastSeq, seq, count: seq - s.lastSeq - 1 })
    }
    if (s.lastSeq === null || seq > s.lastSeq) s.lastSeq = seq
    let fault: FaultReason | null = null
    if (r.status !== undefined && (r.status & STATUS.SENSOR_FAULT) !== 0) fault = 'status_fault'
    else if (temp < profile.plausibleCentiC.min || temp > profile.plausibleCentiC.max) fault = 'impossible_value'
    else if (last !== null && t <= last.t) fault = 'clock_backwards'
    // A forward step in device time, however long, is a silence: a data gap below,
    // never a clock fault. The data cannot tell a logger that was off from a clock
    // that jumped ahead, and reporting both says the same hours twice.
    const episodeRule: FaultReason | null = !touchesJudged ? null : fault
    this.faultEpisode(episodeRule, seq, t, temp, null)
    if (fault) {
      // The value (or its time) is not a measurement: the reading is left out and the previous one holds.
      s.faults++
      return
    }
    s.accepted++
    if (s.firstSeq === null) {
      s.firstSeq = seq
      s.firstMs = t
    }
    if (last !== null) {
      const dt = t - last.t
      s.longestIntervalMs = Math.max(s.longestIntervalMs, dt)
      if (dt > profile.expectedIntervalMs) s.intervalsOverExpected++
      if (dt > profile.maxDataGapMs) {
        // The reading before the gap holds for one expected interval; the rest is attributed to
        // nothing, neither in range nor out of it. An open excursion ends there, outcome unknown.
        const holdEnd = this.hold(last, t)
        this.interrupt(holdEnd, 'data_gap')
        if (judgedLength(spans, last.t, t) > profile.maxDataGapMs) {
          this.emit('data_gap', '', holdEnd, t, {
            startMs: holdEnd,
            endMs: t,
            durationMs: t - holdEnd,
            judgedMs: judgedLength(spans, holdEnd, t),
          })
        }
      } else this.attribute(last, t)
    }
    if (isJudged(spans, t)) this.observe(t, temp, seq, true)
    // In place once there is one: the state is cloned wherever it is kept (snapshots, result).
    if (last === null) s.last = { seq, t, temp }
    else {
      last.seq = seq
      last.t = t
      last.temp = temp
    }
  }
}

/**
 * Folds one reading into `state` in place and returns the events it raised.
 * Readings must come in ascending `seq` (the device chain order).
 */
export function stepInPlace(ctx: FoldContext, state: SensorState, reading: EngineReading): ComplianceEvent[] {
  const out: ComplianceEvent[] = []
  new Fold(ctx, state, out).step(reading)
  return out
}

/** The pure fold: step(state, reading) -> { state, events }. The input state is not modified. */
export function step(
  ctx: FoldContext,
  state: SensorState,
  reading: EngineReading,
): { state: SensorState; events: ComplianceEvent[] } {
  const next = structuredClone(state)
  return { state: next, events: stepInPlace(ctx, next, reading) }
}

/**
 * Closes what the end of the data leaves open (in place): once the window's end is known
 * (the shipment is closed), the last reading holds for one expected interval; then open
 * excursions end, outcome unknown. While the window is open the data has not ended, and
 * the next reading will attribute that time.
 */
export function finishInPlace(ctx: FoldContext, state: SensorState, windowEndKnown = true): ComplianceEvent[] {
  const out: ComplianceEvent[] = []
  if (state.last) {
    const f = new Fold(ctx, state, out)
    f.interrupt(windowEndKnown ? f.hold(state.last, Infinity) : state.last.t, 'end_of_data')
  }
  return out
}
