import t from 'tap'
import { evaluateShipment } from './shipment.ts'
import { BUILTIN_PROFILES } from './builtin-profiles.ts'
import { createFoldContext, initialState, step, type EngineReading, type ComplianceEvent } from './engine.ts'
import { profileWith, zone, trace, shipmentInput, T0, MIN, HOUR } from './test/helpers.ts'
import { canonicalJson } from '../../ledger/tlog/index.ts'
import type { RuleProfile } from './profile.ts'
import { isComplianceError } from './errors.ts'

/** A 2–8 °C profile whose zones have no allowances unless a test sets them; no hard limit, no MKT limit. */
function rules(zones: Parameters<typeof zone>[0][], over: Partial<RuleProfile> = {}): RuleProfile {
  return profileWith({ zones: zones.map(zone), hardLimits: [], mktMaxCentiC: null, ...over })
}
const above8 = { id: 'above-8', side: 'above' as const, limitCentiC: 800 }
const below2 = { id: 'below-2', side: 'below' as const, limitCentiC: 200 }

/** Reading at T0 + ms. */
const at = (seq: number, ms: number, tempCentiC: number, deviceId = 'dev-a'): EngineReading => ({
  deviceId,
  seq,
  deviceTimeMs: T0 + ms,
  tempCentiC,
})
const seqd = (pairs: [number, number][], deviceId = 'dev-a') => pairs.map(([ms, c], i) => at(i + 1, ms, c, deviceId))

function run(
  profile: RuleProfile,
  readings: EngineReading[],
  window: { startMs: number; endMs?: number | null } = { startMs: T0 },
) {
  const r = evaluateShipment(shipmentInput(profile, readings, window))
  return { r, s: r.sensors[0], kinds: r.sensors[0].events.map((e) => e.kind), codes: r.reasons.map((x) => x.code) }
}
const ev = (events: ComplianceEvent[], kind: string, rule?: string) =>
  events.filter((e) => e.kind === kind && (rule === undefined || e.rule === rule))

t.test('limits per stated inclusivity: 8.00 °C is in range, 8.01 °C is not', async (t) => {
  const p = rules([{ ...above8, cumulativeAllowanceMs: 0 }])
  const ok = run(p, trace('dev-a', Array(13).fill(800)))
  t.equal(ok.r.verdict, 'PASS')
  t.equal(ok.s.stats.inRangeMs, HOUR)
  t.equal(ok.s.stats.aboveMs, 0)
  const bad = run(p, trace('dev-a', [800, 801, 800]))
  t.equal(bad.r.verdict, 'FAIL')
  t.same(
    ev(bad.s.events, 'excursion_started').map((e) => e.startMs),
    [T0 + 5 * MIN],
  )
  t.equal(bad.s.stats.aboveMs, 5 * MIN)

  const exclusive = rules([{ ...above8, limitInclusive: false }], {
    range: { lowCentiC: 200, highCentiC: 800, lowInclusive: true, highInclusive: false },
  })
  const ex = run(exclusive, trace('dev-a', [799, 800, 799]))
  t.equal(ex.kinds.filter((k) => k === 'excursion_started').length, 1, 'exclusive limit: 8.00 °C is beyond')
  t.equal(ex.s.stats.aboveMs, 5 * MIN, 'and counted above the range')
  const low = run(rules([below2]), trace('dev-a', [200, 199, 200]))
  t.same(
    ev(low.s.events, 'excursion_started').map((e) => e.tempCentiC),
    [199],
    '2.00 °C in range, 1.99 °C below',
  )
})

t.test('interval attribution: each reading holds until the next (irregular sampling)', async (t) => {
  const { s } = run(
    rules([above8]),
    seqd([
      [0, 500],
      [7 * MIN, 900],
      [10 * MIN, 950],
      [23 * MIN, 700],
    ]),
  )
  t.equal(s.stats.inRangeMs, 7 * MIN)
  t.equal(s.stats.aboveMs, 16 * MIN)
  t.equal(s.stats.coveredMs, 23 * MIN)
  const [end] = ev(s.events, 'excursion_ended')
  t.match(end, {
    startMs: T0 + 7 * MIN,
    endMs: T0 + 23 * MIN,
    durationMs: 16 * MIN,
    beyondMs: 16 * MIN,
    peakCentiC: 950,
    endReason: 'returned',
    outcomeKnown: true,
  })
  t.equal(end.areaCentiCMs, (100 * 3 + 150 * 13) * MIN, 'area = Σ (T - limit) x interval, exact')
  t.equal(s.stats.meanCentiC, 807, '(500·7 + 900·3 + 950·13) / 23 = 806.52')
  t.same([s.stats.minCentiC, s.stats.maxCentiC], [500, 950])
})

t.test('alarm delay: just under, exactly, just over', async (t) => {
  const p = rules([{ ...above8, alarmDelayMs: 30 * MIN }])
  const S = 5 * MIN
  const under = run(
    p,
    seqd([
      [0, 500],
      [S, 900],
      [S + 30 * MIN - 1, 700],
    ]),
  )
  t.equal(ev(under.s.events, 'excursion_alarm').length, 0, '30 min - 1 ms: no alarm')
  t.equal(
    under.r.verdict,
    'PASS_WITH_EXCURSIONS_WITHIN_ALLOWANCE',
    'an excursion inside the allowances is still reported',
  )
  const exact = run(
    p,
    seqd([
      [0, 500],
      [S, 900],
      [S + 30 * MIN, 700],
    ]),
  )
  t.match(
    ev(exact.s.events, 'excursion_alarm'),
    [
      {
        atMs: T0 + S + 30 * MIN,
        startMs: T0 + S,
        durationMs: 30 * MIN,
        alarm: true,
        id: `dev-a:excursion_alarm:above-8:${T0 + S}`,
      },
    ],
    'reaching the delay alarms',
  )
  const over = run(
    p,
    seqd([
      [0, 500],
      [S, 900],
      [S + 20 * MIN, 900],
      [S + 30 * MIN + 1, 900],
    ]),
  )
  t.equal(ev(over.s.events, 'excursion_alarm').length, 1, '30 min + 1 ms: one alarm')
  t.equal(ev(over.s.events, 'excursion_alarm')[0].atMs, T0 + S + 30 * MIN + 1)
  const zero = run(rules([above8]), seqd([[0, 900]]))
  t.match(zero.kinds, ['excursion_started', 'excursion_alarm'], 'delay 0 alarms on the first reading')
})

t.test('single-event limit: exactly the maximum is allowed, 1 ms more fails', async (t) => {
  const p = rules([{ ...above8, alarmDelayMs: 10 * MIN, maxSingleEventMs: HOUR }])
  const hot = (endMs: number) =>
    seqd([
      [0, 900],
      [20 * MIN, 900],
      [40 * MIN, 900],
      [endMs, 700],
    ])
  const ok = run(p, hot(HOUR))
  t.equal(ok.r.verdict, 'PASS_WITH_EXCURSIONS_WITHIN_ALLOWANCE')
  const bad = run(p, hot(HOUR + 1))
  t.equal(bad.r.verdict, 'FAIL')
  t.ok(bad.codes.includes('SINGLE_EVENT_EXCEEDED'))
  t.match(ev(bad.s.events, 'single_event_exceeded'), [
    { startMs: T0, durationMs: HOUR + 1, allowanceMs: HOUR, atMs: T0 + HOUR + 1 },
  ])
})

t.test('cumulative allowance over the shipment counts time beyond the limit only', async (t) => {
  const p = rules([{ ...above8, cumulativeAllowanceMs: 20 * MIN }])
  const two = (second: number) =>
    seqd([
      [0, 500],
      [10 * MIN, 900],
      [20 * MIN, 500],
      [40 * MIN, 900],
      [40 * MIN + second, 500],
    ])
  const ok = run(p, two(10 * MIN))
  t.equal(ok.r.verdict, 'PASS_WITH_EXCURSIONS_WITHIN_ALLOWANCE', '10 + 10 min = allowance')
  t.equal(ok.s.zones[0].totalBeyondMs, 20 * MIN)
  t.equal(ok.s.zones[0].excursions, 2)
  const bad = run(p, two(10 * MIN + 1))
  t.equal(bad.r.verdict, 'FAIL')
  t.match(ev(bad.s.events, 'cumulative_allowance_exceeded'), [
    { totalMs: 20 * MIN + 1, allowanceMs: 20 * MIN, atMs: T0 + 50 * MIN + 1 },
  ])
  // hysteresis band (7.50..8.00 °C) keeps the excursion open but is not time beyond the limit
  const band = run(
    rules([{ ...above8, cumulativeAllowanceMs: 10 * MIN }]),
    seqd([
      [0, 900],
      [10 * MIN, 790],
      [20 * MIN, 700],
    ]),
  )
  t.equal(band.r.verdict, 'PASS_WITH_EXCURSIONS_WITHIN_ALLOWANCE')
  t.match(ev(band.s.events, 'excursion_ended'), [{ durationMs: 20 * MIN, beyondMs: 10 * MIN }])
})

t.test('N consecutive readings beyond a limit', async (t) => {
  const p = rules([{ ...above8, alarmDelayMs: HOUR, maxConsecutiveReadings: 3 }])
  t.equal(
    run(p, trace('dev-a', [900, 900, 700, 900, 900, 700])).r.verdict,
    'PASS_WITH_EXCURSIONS_WITHIN_ALLOWANCE',
    'two in a row, twice',
  )
  t.equal(
    run(p, trace('dev-a', [900, 790, 900, 900, 700])).r.verdict,
    'PASS_WITH_EXCURSIONS_WITHIN_ALLOWANCE',
    'a reading inside the limit (in the hysteresis band) breaks the run',
  )
  const bad = run(p, trace('dev-a', [500, 900, 900, 900, 700]))
  t.equal(bad.r.verdict, 'FAIL')
  t.match(ev(bad.s.events, 'consecutive_readings_exceeded'), [
    { count: 3, atMs: T0 + 15 * MIN, startMs: T0 + 5 * MIN, seq: 4 },
  ])
})

t.test('several zones around the range, each with its own delay and allowance', async (t) => {
  const p = rules([
    { id: 'above-8', side: 'above', limitCentiC: 800, alarmDelayMs: 30 * MIN, cumulativeAllowanceMs: 2 * HOUR },
    { id: 'above-25', side: 'above', limitCentiC: 2500, alarmDelayMs: 0, cumulativeAllowanceMs: 0 },
  ])
  const warm = run(p, trace('dev-a', [500, 1000, 1000, 500]))
  t.equal(warm.r.verdict, 'PASS_WITH_EXCURSIONS_WITHIN_ALLOWANCE', '8–15 °C for 10 min is inside that zone’s allowance')
  t.same(
    ev(warm.s.events, 'excursion_started').map((e) => e.rule),
    ['above-8'],
  )
  const hot = run(p, trace('dev-a', [500, 2600, 500]))
  t.equal(hot.r.verdict, 'FAIL')
  t.same(
    ev(hot.s.events, 'excursion_started').map((e) => e.rule),
    ['above-8', 'above-25'],
    'a hot reading is beyond both zones',
  )
  t.same(
    ev(hot.s.events, 'excursion_alarm').map((e) => [e.rule, e.atMs]),
    [['above-25', T0 + 5 * MIN]],
    'only the zone without delay alarms at once',
  )
  t.same(
    ev(hot.s.events, 'cumulative_allowance_exceeded').map((e) => e.rule),
    ['above-25'],
  )
})

t.test('freezing hard limit fires at once on the reading', async (t) => {
  const p = BUILTIN_PROFILES['refrigerated-2-8']
  const frozen = run(p, seqd([[0, 0]]))
  t.equal(frozen.r.verdict, 'FAIL')
  t.match(
    ev(frozen.s.events, 'hard_limit_breached'),
    [{ rule: 'freezing', atMs: T0, tempCentiC: 0, alarm: true, id: `dev-a:hard_limit_breached:freezing:${T0}` }],
    '0.00 °C breaches "at or below 0 °C"',
  )
  const cold = run(p, seqd([[0, 1]]))
  t.equal(ev(cold.s.events, 'hard_limit_breached').length, 0, '0.01 °C does not freeze')
  t.equal(ev(cold.s.events, 'excursion_started', 'below-2').length, 1, 'but is below the range')
  const episodes = run(p, trace('dev-a', [500, -50, -100, 500, -10]))
  t.equal(ev(episodes.s.events, 'hard_limit_breached').length, 2, 'one event per breach episode')
  t.same(episodes.s.hardLimits, [{ id: 'freezing', breaches: 2 }])
})

t.test('degree-minutes allowance: area beyond the limit', async (t) => {
  const p = rules([{ ...above8, allowanceDegreeMinutes: 60 }])
  const ok = run(
    p,
    seqd([
      [0, 1000],
      [30 * MIN, 700],
    ]),
  )
  t.equal(ok.s.zones[0].totalAreaCentiCMs, 200 * 30 * MIN, '2 °C x 30 min = 60 °C·min')
  t.equal(ok.r.verdict, 'PASS_WITH_EXCURSIONS_WITHIN_ALLOWANCE')
  const bad = run(
    p,
    seqd([
      [0, 1001],
      [30 * MIN, 700],
    ]),
  )
  t.equal(bad.r.verdict, 'FAIL')
  t.match(ev(bad.s.events, 'degree_minutes_exceeded'), [
    { areaCentiCMs: 201 * 30 * MIN, allowanceCentiCMs: 60 * 100 * MIN },
  ])
})

t.test('stability budget with usage recorded from earlier legs', async (t) => {
  const budget = (usedMs: number) =>
    rules([above8, below2], {
      stabilityBudget: {
        allowanceMs: 2 * HOUR,
        priorUsage: [{ leg: 'factory to hub', usedMs, recordedBy: 'qa-anna', recordedAtMs: T0 - 86_400_000 }],
      },
    })
  const here = seqd([
    [0, 500],
    [10 * MIN, 1000],
    [25 * MIN, 100],
    [40 * MIN, 500],
  ])
  const ok = run(budget(90 * MIN), here)
  t.equal(ok.r.verdict, 'PASS_WITH_EXCURSIONS_WITHIN_ALLOWANCE', '90 + 30 min = 2 h budget')
  t.same(ok.s.stabilityBudget, { allowanceMs: 2 * HOUR, priorMs: 90 * MIN, usedMs: 30 * MIN, remainingMs: 0 })
  const bad = run(budget(90 * MIN + 1), here)
  t.equal(bad.r.verdict, 'FAIL')
  t.match(ev(bad.s.events, 'stability_budget_exceeded'), [
    { priorMs: 90 * MIN + 1, totalMs: 30 * MIN, allowanceMs: 2 * HOUR, atMs: T0 + 40 * MIN },
  ])
})

t.test('hysteresis: compressor cycling across the limit is one excursion', async (t) => {
  const cycling = trace('dev-a', [500, 790, 810, 790, 810, 790, 810, 700, 500])
  const withMargin = run(rules([above8], { hysteresisCentiC: 50 }), cycling)
  t.equal(withMargin.s.zones[0].excursions, 1)
  t.match(ev(withMargin.s.events, 'excursion_ended'), [
    { startMs: T0 + 10 * MIN, endMs: T0 + 35 * MIN, beyondMs: 15 * MIN },
  ])
  const noMargin = run(rules([above8], { hysteresisCentiC: 0 }), cycling)
  t.equal(noMargin.s.zones[0].excursions, 3)
})

t.test('start and stop delays: the logger is not judged while packed or unpacked', async (t) => {
  const p = rules([{ ...above8, cumulativeAllowanceMs: 0 }], { startDelayMs: 30 * MIN, stopDelayMs: 30 * MIN })
  const w = { startMs: T0, endMs: T0 + 3 * HOUR }
  const packing = seqd(
    [
      [0, 1500],
      [10 * MIN, 1500],
      [25 * MIN, 1200],
      [30 * MIN, 500],
      [2 * HOUR + 35 * MIN, 1200],
      [2 * HOUR + 55 * MIN, 1500],
    ].flatMap(([ms, c], i, a) => {
      // fill in 5-minute readings at 500 between the given points so there is no gap
      const out: [number, number][] = [[ms, c]]
      const next = a[i + 1]
      if (next && c === 500) for (let m = ms + 5 * MIN; m < next[0]; m += 5 * MIN) out.push([m, 500])
      return out
    }),
  )
  const r = run(p, packing, w)
  t.equal(r.r.verdict, 'PASS', 'warm readings inside the start and stop delays are not judged')
  t.equal(
    r.s.readings.judged,
    packing.filter((x) => x.deviceTimeMs >= T0 + 30 * MIN && x.deviceTimeMs < T0 + 2.5 * HOUR).length,
  )
  // a warm value held across the start of judged time is judged from that instant
  const held = run(
    p,
    seqd([
      [25 * MIN, 1200],
      [35 * MIN, 500],
    ]),
    w,
  )
  t.match(ev(held.s.events, 'excursion_ended'), [{ startMs: T0 + 30 * MIN, endMs: T0 + 35 * MIN, beyondMs: 5 * MIN }])
})

t.test('legs that are not judged (unjudged windows)', async (t) => {
  const p = rules([above8])
  const readings = trace('dev-a', [500, 900, 900, 1500, 1500, 500, 500])
  const r = evaluateShipment({
    ...shipmentInput(p, readings),
    unjudged: [{ startMs: T0 + 10 * MIN, endMs: T0 + 25 * MIN, reason: 'GDP warehouse, monitored by its own system' }],
  })
  const s = r.sensors[0]
  t.match(
    ev(s.events, 'excursion_ended'),
    [{ startMs: T0 + 5 * MIN, endMs: T0 + 10 * MIN, endReason: 'not_judged', outcomeKnown: false }],
    'an open excursion ends where judging stops',
  )
  t.equal(s.zones[0].excursions, 1, 'the 15 °C readings in the warehouse are not excursions')
  t.equal(s.zones[0].peakCentiC, 900)
  t.same(r.unjudged, [
    { startMs: T0 + 10 * MIN, endMs: T0 + 25 * MIN, reason: 'GDP warehouse, monitored by its own system' },
  ])
})

t.test('data gaps: longer than the maximum is its own event and counts as nothing', async (t) => {
  const p = rules([above8])
  const exact = run(
    p,
    seqd([
      [0, 500],
      [30 * MIN, 500],
    ]),
  )
  t.equal(exact.r.verdict, 'PASS', 'an interval of exactly maxDataGapMs is not a gap')
  const gap = run(
    p,
    seqd([
      [0, 500],
      [5 * MIN, 500],
      [36 * MIN, 500],
      [41 * MIN, 500],
    ]),
  )
  t.equal(gap.r.verdict, 'INCOMPLETE_EVIDENCE')
  // The reading before the gap (at 5 min) holds for one expected interval (5 min); the rest is the gap.
  t.match(ev(gap.s.events, 'data_gap'), [
    { startMs: T0 + 10 * MIN, endMs: T0 + 36 * MIN, durationMs: 26 * MIN, judgedMs: 26 * MIN, alarm: true },
  ])
  t.equal(gap.s.stats.coveredMs, 15 * MIN, 'the gap is neither in range nor out of range')
  t.equal(gap.s.stats.inRangeMs, 15 * MIN)
})

t.test('a gap straddling an excursion ends it with outcome unknown', async (t) => {
  const p = rules([above8])
  const { s, r } = run(
    p,
    seqd([
      [0, 500],
      [5 * MIN, 900],
      [10 * MIN, 950],
      [60 * MIN, 900],
      [65 * MIN, 500],
    ]),
  )
  const ended = ev(s.events, 'excursion_ended')
  t.match(ended, [
    // 9.50 °C at 10 min holds for one expected interval, then the gap ends the excursion.
    {
      startMs: T0 + 5 * MIN,
      endMs: T0 + 15 * MIN,
      durationMs: 10 * MIN,
      endReason: 'data_gap',
      outcomeKnown: false,
      beyondMs: 10 * MIN,
    },
    { startMs: T0 + 60 * MIN, endMs: T0 + 65 * MIN, endReason: 'returned', outcomeKnown: true },
  ])
  t.equal(ev(s.events, 'data_gap').length, 1)
  t.equal(r.verdict, 'INCOMPLETE_EVIDENCE', 'the gap outranks the excursions within allowance')
  t.equal(s.stats.aboveMs, 15 * MIN)
})

t.test(
  'sensor faults: status bit, impossible value, clock backwards; a silence is a gap, not a clock fault',
  async (t) => {
    const p = rules([above8])
    const status = run(p, [at(1, 0, 500), { ...at(2, 5 * MIN, 3000), status: 0x0001 }, at(3, 10 * MIN, 500)])
    t.equal(status.s.zones[0].excursions, 0, 'a faulty reading is not a measurement')
    t.match(ev(status.s.events, 'sensor_fault'), [
      { rule: 'status_fault', seq: 2, id: 'dev-a:sensor_fault:status_fault:2' },
    ])
    t.equal(status.r.verdict, 'INCOMPLETE_EVIDENCE')
    t.equal(status.s.stats.coveredMs, 10 * MIN, 'the previous reading holds across the fault')
    const lowBattery = run(p, [at(1, 0, 500), { ...at(2, 5 * MIN, 500), status: 0x0008 }])
    t.equal(lowBattery.r.verdict, 'PASS', 'other status bits are not faults')
    const impossible = run(p, trace('dev-a', [500, 9000, 500]))
    t.same(
      ev(impossible.s.events, 'sensor_fault').map((e) => e.rule),
      ['impossible_value'],
    )
    const back = run(p, [at(1, 10 * MIN, 500), at(2, 5 * MIN, 1200), at(3, 15 * MIN, 500)])
    t.same(
      ev(back.s.events, 'sensor_fault').map((e) => e.rule),
      ['clock_backwards'],
    )
    t.equal(back.s.zones[0].excursions, 0)
    // A logger that was off and one whose clock jumped ahead look the same: 7 h of nothing, reported once.
    const silence = run(p, [at(1, 0, 500), at(2, 7 * HOUR, 500)])
    t.same(ev(silence.s.events, 'sensor_fault'), [], 'no clock fault for a forward step')
    t.same(ev(silence.s.events, 'data_gap').length, 1, 'one data gap, not counted as time')
    t.same(silence.codes, ['DATA_GAP'])
  },
)

t.test('sensor faults are episodes: one alarm and one reason per run of faulty readings', async (t) => {
  const p = rules([above8])
  // a fault bit stuck for 12 readings (the demo's flood), then healthy again
  const readings = trace('dev-a', Array(20).fill(500)).map((r) =>
    r.seq >= 5 && r.seq <= 16 ? { ...r, status: 0x0001, tempCentiC: 32767 } : r,
  )
  const stuck = run(p, readings)
  t.match(
    ev(stuck.s.events, 'sensor_fault'),
    [{ rule: 'status_fault', seq: 5, id: 'dev-a:sensor_fault:status_fault:5', alarm: true }],
    'one alarm, anchored at the first faulty seq',
  )
  t.equal(ev(stuck.s.events, 'sensor_fault').length, 1)
  t.same(stuck.s.faultEpisodes, [
    {
      eventId: 'dev-a:sensor_fault:status_fault:5',
      rule: 'status_fault',
      firstSeq: 5,
      lastSeq: 16,
      firstMs: T0 + 20 * MIN,
      lastMs: T0 + 75 * MIN,
      count: 12,
    },
  ])
  t.equal(stuck.s.readings.faults, 12, 'every faulty reading is still counted and left out')
  t.same(
    stuck.codes,
    ['SENSOR_FAULT', 'DATA_GAP'],
    'one reason for the episode (and the 65 min the faulty readings left uncovered is a gap)',
  )
  t.equal(stuck.r.verdict, 'INCOMPLETE_EVIDENCE', 'a fault episode still makes the evidence incomplete')
  t.equal(
    stuck.r.reasons[0].message,
    'sensor fault "status_fault" (the logger flagged its sensor as faulty): 12 readings in a row, seq 5 (2026-01-01 00:20 UTC) to seq 16 (2026-01-01 01:15 UTC); first reading 327.67 °C',
  )

  // the clock jumps back 90 min: every reading until it passes the old maximum is clock_backwards, one episode
  const back = run(p, [
    ...trace('dev-a', Array(20).fill(500)),
    ...trace('dev-a', Array(20).fill(500), { startMs: T0 + 5 * MIN, firstSeq: 21 }),
  ])
  t.same(
    ev(back.s.events, 'sensor_fault').map((e) => e.id),
    ['dev-a:sensor_fault:clock_backwards:21'],
  )
  t.match(back.s.faultEpisodes, [{ rule: 'clock_backwards', firstSeq: 21, lastSeq: 39, count: 19 }])
  t.equal(back.r.reasons.length, 1)

  // a healthy reading ends an episode; a different reason starts a new one
  const flap = run(p, [
    at(1, 0, 500),
    { ...at(2, 5 * MIN, 500), status: 1 },
    at(3, 10 * MIN, 500),
    { ...at(4, 15 * MIN, 500), status: 1 },
    at(5, 20 * MIN, 9000),
    at(6, 25 * MIN, 9000),
    at(7, 30 * MIN, 500),
  ])
  t.same(
    ev(flap.s.events, 'sensor_fault').map((e) => `${e.rule}:${e.seq}`),
    ['status_fault:2', 'status_fault:4', 'impossible_value:5'],
  )
  t.same(
    flap.s.faultEpisodes.map((e) => e.count),
    [1, 1, 2],
  )
  t.equal(flap.r.reasons.filter((r) => r.code === 'SENSOR_FAULT').length, 3)
  t.equal(
    flap.r.reasons[0].message,
    'sensor fault "status_fault" (the logger flagged its sensor as faulty) at seq 2, 2026-01-01 00:05 UTC: reading 5.00 °C',
  )
})

t.test('reason messages are written for people: units, degrees, UTC times', async (t) => {
  const cum = run(rules([{ ...above8, cumulativeAllowanceMs: 0 }]), trace('dev-a', [500, 801, 500]))
  t.equal(
    cum.r.reasons.find((r) => r.code === 'CUMULATIVE_ALLOWANCE_EXCEEDED')!.message,
    'zone "above-8": total time beyond the limit passed the allowance of 0 s at 2026-01-01 00:10 UTC (5 min by then)',
  )
  const gap = run(rules([above8]), [at(1, 0, 500), at(2, 6 * HOUR + 10 * MIN, 500)])
  t.equal(
    gap.r.reasons.find((r) => r.code === 'DATA_GAP')!.message,
    'no reading covers 6 h 5 min from 2026-01-01 00:05 UTC to 2026-01-01 06:10 UTC (6 h 5 min of it judged)',
  )
  const back = run(rules([above8]), [at(1, 10 * MIN, 500), at(2, 5 * MIN, 500)])
  t.match(
    back.r.reasons.find((r) => r.code === 'SENSOR_FAULT')!.message,
    /^sensor fault "clock_backwards" \(device clock went backwards\) at seq 2, 2026-01-01 00:05 UTC: reading 5.00 °C$/,
  )
  for (const r of [...cum.r.reasons, ...gap.r.reasons, ...back.r.reasons]) {
    t.notMatch(r.message, /\d{4,} ms|centi-°C|T\d\d:\d\d:\d\d\.\d{3}Z/, `no raw units in: ${r.message}`)
  }
})

t.test('missing sequence numbers are missing evidence', async (t) => {
  const { s, r } = run(rules([above8]), [at(1, 0, 500), at(2, 5 * MIN, 500), at(5, 10 * MIN, 500)])
  t.match(ev(s.events, 'missing_readings'), [{ afterSeq: 2, seq: 5, count: 2 }])
  t.equal(r.verdict, 'INCOMPLETE_EVIDENCE')
})

t.test('missing readings at the start or end of the shipment window', async (t) => {
  const p = rules([above8])
  const late = run(p, trace('dev-a', [500, 500], { startMs: T0 + 31 * MIN }))
  t.ok(late.codes.includes('MISSING_START'))
  const early = run(p, trace('dev-a', [500, 500], { startMs: T0 - 10 * MIN, stepMs: 40 * MIN }))
  t.notOk(early.codes.includes('MISSING_START'), 'a reading before the window covers its start')
  const closed = run(p, trace('dev-a', Array(13).fill(500)), { startMs: T0, endMs: T0 + 2 * HOUR })
  t.ok(closed.codes.includes('MISSING_END'), 'last reading 1 h before the end')
  t.equal(closed.r.verdict, 'INCOMPLETE_EVIDENCE')
  const open = run(p, trace('dev-a', Array(13).fill(500)), { startMs: T0 })
  t.equal(open.r.verdict, 'PASS', 'an open shipment has no end to miss')
  const full = run(p, trace('dev-a', Array(25).fill(500)), { startMs: T0, endMs: T0 + 2 * HOUR })
  t.equal(full.r.verdict, 'PASS')
})

t.test('MKT is reported and may fail, but never hides an excursion', async (t) => {
  const p = rules([above8], { mktMaxCentiC: 800 })
  const excursion = run(p, trace('dev-a', [...Array(20).fill(500), 1000, ...Array(20).fill(500)]))
  t.ok(excursion.s.stats.mktCentiC! < 800, 'MKT is compliant')
  t.equal(excursion.r.verdict, 'PASS_WITH_EXCURSIONS_WITHIN_ALLOWANCE', 'yet the excursion shows')
  const warm = run(rules([above8], { mktMaxCentiC: 600 }), trace('dev-a', Array(10).fill(700)))
  t.equal(warm.r.verdict, 'FAIL')
  t.same(warm.codes, ['MKT_ABOVE_LIMIT'])
  t.equal(warm.s.stats.mktCentiC, 700)
})

t.test('the engine refuses a profile that does not match the logged hash', async (t) => {
  const p = BUILTIN_PROFILES['refrigerated-2-8']
  const input = shipmentInput(p, trace('dev-a', [500]))
  t.throws(() => evaluateShipment({ ...input, profileHash: '00'.repeat(32) }), {
    code: 'ERR_PROFILE_HASH_MISMATCH',
    path: '$.profileHash',
  })
  t.throws(
    () => evaluateShipment({ ...input, profile: { ...p, mktMaxCentiC: 900 } }),
    { code: 'ERR_PROFILE_HASH_MISMATCH' },
    'an edited profile no longer matches',
  )
  t.throws(() => evaluateShipment({ ...input, profile: { ...p, extra: 1 } }), {
    code: 'ERR_PROFILE_INVALID',
    path: '$.extra',
  })
  t.throws(() => evaluateShipment({ ...input, readings: [{ ...at(1, 0, 500), tempCentiC: 5.5 }] }), {
    code: 'ERR_INPUT_INVALID',
    path: '$.readings[0].tempCentiC',
  })
  t.throws(() => evaluateShipment({ ...input, window: { startMs: 10, endMs: 5 } }), {
    code: 'ERR_INPUT_INVALID',
    path: '$.window.endMs',
  })
})

t.test('hostile input gets a typed error, never a crash', async (t) => {
  const p = BUILTIN_PROFILES['refrigerated-2-8']
  const good = shipmentInput(p, trace('dev-a', [500]))
  const hostile: [string, unknown][] = [
    ['input null', null],
    ['input a string', 'shipment'],
    ['profile undefined', { ...good, profile: undefined }],
    ['profile an array', { ...good, profile: [] }],
    ['hash a number', { ...good, profileHash: 42 }],
    ['window null', { ...good, window: null }],
    ['window start a float', { ...good, window: { startMs: 1.5 } }],
    ['readings an object', { ...good, readings: {} }],
    ['reading null', { ...good, readings: [null] }],
    ['reading a string', { ...good, readings: ['x'] }],
    ['reading empty', { ...good, readings: [{}] }],
    ['seq NaN', { ...good, readings: [{ ...at(1, 0, 500), seq: NaN }] }],
    ['seq a string', { ...good, readings: [{ ...at(1, 0, 500), seq: '1' }] }],
    ['time huge', { ...good, readings: [{ ...at(1, 0, 500), deviceTimeMs: 2 ** 60 }] }],
    ['temp Infinity', { ...good, readings: [{ ...at(1, 0, 500), tempCentiC: Infinity }] }],
    ['status negative', { ...good, readings: [{ ...at(1, 0, 500), status: -1 }] }],
    ['devices a string', { ...good, devices: 'dev-a' }],
    ['unjudged not an array', { ...good, unjudged: {} }],
    ['unjudged entry null', { ...good, unjudged: [null] }],
    ['unjudged reversed', { ...good, unjudged: [{ startMs: 10, endMs: 5, reason: 'x' }] }],
    ['chainBroken entry bad', { ...good, chainBroken: [{ deviceId: 'dev-a' }] }],
    ['conflicting duplicate', { ...good, readings: [at(1, 0, 500), at(1, 0, 600)] }],
  ]
  for (const [desc, input] of hostile) {
    try {
      evaluateShipment(input as never)
      t.fail(`${desc}: accepted`)
    } catch (e) {
      t.ok(isComplianceError(e), `${desc}: ${(e as Error).message}`)
    }
  }
})

t.test('several sensors: each judged, the worst decides', async (t) => {
  const p = rules([above8, below2])
  const ok = trace('dev-ok', [500, 500, 500])
  const exc = trace('dev-warm', [500, 900, 500])
  const gap = trace('dev-gap', [500, 500], { stepMs: HOUR })
  const base = { profile: p, profileHash: shipmentInput(p, []).profileHash, window: { startMs: T0 } }
  const r1 = evaluateShipment({ ...base, readings: [...exc, ...ok] })
  t.equal(r1.verdict, 'PASS_WITH_EXCURSIONS_WITHIN_ALLOWANCE')
  t.same(
    r1.sensors.map((s) => [s.deviceId, s.verdict]),
    [
      ['dev-ok', 'PASS'],
      ['dev-warm', 'PASS_WITH_EXCURSIONS_WITHIN_ALLOWANCE'],
    ],
  )
  const r2 = evaluateShipment({ ...base, readings: [...ok, ...exc, ...gap] })
  t.equal(r2.verdict, 'INCOMPLETE_EVIDENCE')
  const r3 = evaluateShipment({
    ...base,
    readings: [...ok, ...gap, ...trace('dev-frozen', [500, 0, 500])],
    profile: BUILTIN_PROFILES['refrigerated-2-8'],
    profileHash: shipmentInput(BUILTIN_PROFILES['refrigerated-2-8'], []).profileHash,
  })
  t.equal(r3.verdict, 'FAIL')
  t.same(
    r3.reasons.filter((x) => x.verdict === 'FAIL').map((x) => [x.deviceId, x.code]),
    [
      ['dev-frozen', 'HARD_LIMIT_BREACHED'],
      ['dev-frozen', 'CUMULATIVE_ALLOWANCE_EXCEEDED'],
    ],
  )
  const silent = evaluateShipment({ ...base, readings: ok, devices: ['dev-ok', 'dev-silent'] })
  t.equal(silent.verdict, 'INCOMPLETE_EVIDENCE')
  t.same(
    silent.reasons.map((x) => [x.deviceId, x.code]),
    [['dev-silent', 'NO_READINGS']],
  )
  t.throws(() => evaluateShipment({ ...base, readings: [...ok, ...exc], devices: ['dev-ok'] }), {
    code: 'ERR_INPUT_INVALID',
    path: '$.readings[3].deviceId',
  })
  const broken = evaluateShipment({
    ...base,
    readings: ok,
    chainBroken: [{ deviceId: 'dev-ok', atSeq: 2, reason: 'prevHash mismatch' }],
  })
  t.equal(broken.verdict, 'INCOMPLETE_EVIDENCE')
  t.same(
    broken.sensors[0].reasons.map((x) => x.code),
    ['CHAIN_BROKEN'],
  )
  const none = evaluateShipment({ ...base, readings: [] })
  t.equal(none.verdict, 'INCOMPLETE_EVIDENCE')
})

const classes: Record<string, { inside: number; beyond: number[] }> = {
  'refrigerated-2-8': { inside: 500, beyond: [801, 199, 0] },
  'controlled-room-15-25': { inside: 2000, beyond: [2501, 1499] },
  'below-25': { inside: 2000, beyond: [2501] },
  'below-30': { inside: 2900, beyond: [3001] },
  'frozen-15': { inside: -1800, beyond: [-1499] },
  'frozen-20': { inside: -2500, beyond: [-1999] },
  'ultra-cold-90-60': { inside: -7500, beyond: [-5999, -9001] },
}

t.test('every built-in class: in range passes, beyond its limits fails', async (t) => {
  t.same(Object.keys(classes).sort(), Object.keys(BUILTIN_PROFILES).sort(), 'every class is covered')
  for (const [id, c] of Object.entries(classes)) {
    const p = BUILTIN_PROFILES[id as keyof typeof BUILTIN_PROFILES]
    const pass = run(p, trace('dev-a', Array(25).fill(c.inside)), { startMs: T0, endMs: T0 + 2 * HOUR })
    t.equal(pass.r.verdict, 'PASS', `${id}: ${c.inside} passes`)
    t.equal(pass.s.stats.inRangeMs, 2 * HOUR)
    for (const b of c.beyond) {
      const fail = run(p, trace('dev-a', [c.inside, b, b, c.inside]))
      t.equal(fail.r.verdict, 'FAIL', `${id}: ${b} fails`)
    }
    const edge = p.range.highCentiC ?? p.range.lowCentiC!
    t.equal(
      run(p, trace('dev-a', [edge, edge, edge])).r.verdict,
      'PASS',
      `${id}: the limit itself (${edge}) is in range`,
    )
  }
})

t.test('results are canonical JSON and deterministic', async (t) => {
  const p = BUILTIN_PROFILES['refrigerated-2-8']
  const readings = trace('dev-a', [500, 900, 1200, 790, 700, 0, 500, 9000, 500])
  const a = canonicalJson(evaluateShipment(shipmentInput(p, readings, { startMs: T0, endMs: T0 + HOUR })))
  const b = canonicalJson(
    evaluateShipment(shipmentInput(p, [...readings].reverse(), { startMs: T0, endMs: T0 + HOUR })),
  )
  t.equal(a, b)
})

t.test('step is pure: the input state is not modified', async (t) => {
  const p = BUILTIN_PROFILES['refrigerated-2-8']
  const ctx = createFoldContext(p, { startMs: T0 })
  const s0 = initialState(ctx, 'dev-a')
  const before = canonicalJson(s0)
  const { state, events } = step(ctx, s0, at(1, 0, 900))
  t.equal(canonicalJson(s0), before)
  t.same(
    events.map((e) => e.kind),
    ['excursion_started'],
  )
  const next = step(ctx, state, at(2, 20 * MIN, 900))
  t.same(
    next.events.map((e) => e.kind),
    ['excursion_alarm', 'cumulative_allowance_exceeded'],
  )
  t.equal(state.zones[0].totalBeyondMs, 0)
  t.equal(next.state.zones[0].totalBeyondMs, 20 * MIN)
})
