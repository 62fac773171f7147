import t from 'tap'
import fc from 'fast-check'
import { createSensorEvaluator } from './sensor-evaluator.ts'
import {
  createFoldContext,
  initialState,
  step,
  finishInPlace,
  type EngineReading,
  type ComplianceEvent,
} from './engine.ts'
import { buildSensorResult } from './verdict.ts'
import { BUILTIN_PROFILES } from './builtin-profiles.ts'
import { profileWith, zone, T0, MIN, HOUR } from './test/helpers.ts'
import { canonicalJson } from '../../ledger/tlog/index.ts'
import type { RuleProfile } from './profile.ts'
import type { UnjudgedWindow } from './judged-time.ts'

/** A profile that exercises every rule kind at once. */
const everything: RuleProfile = profileWith({
  zones: [
    zone({
      id: 'above-8',
      side: 'above',
      limitCentiC: 800,
      alarmDelayMs: 15 * MIN,
      maxSingleEventMs: HOUR,
      cumulativeAllowanceMs: 2 * HOUR,
      maxConsecutiveReadings: 6,
      allowanceDegreeMinutes: 300,
    }),
    zone({ id: 'above-15', side: 'above', limitCentiC: 1500, alarmDelayMs: 0, cumulativeAllowanceMs: 20 * MIN }),
    zone({ id: 'below-2', side: 'below', limitCentiC: 200, alarmDelayMs: 10 * MIN, limitInclusive: false }),
  ],
  hysteresisCentiC: 30,
  stabilityBudget: {
    allowanceMs: 3 * HOUR,
    priorUsage: [{ leg: 'earlier', usedMs: 30 * MIN, recordedBy: 'qa', recordedAtMs: 0 }],
  },
  startDelayMs: 10 * MIN,
  stopDelayMs: 10 * MIN,
})

const profiles: RuleProfile[] = [everything, BUILTIN_PROFILES['refrigerated-2-8'], BUILTIN_PROFILES['ultra-cold-90-60']]

interface Case {
  snapshotEvery: number
  chunk: number
  profileIx: number
  readings: EngineReading[]
  order: number[]
  dupes: number[]
  endMs: number | null
  unjudged: UnjudgedWindow[]
}

/** Steps of a trace; `faultWeight` against 25 healthy: high values give runs of faults (fault episodes). */
const stepArbOf = (faultWeight: number, backWeight: number) =>
  fc.record({
    dt: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(5 * MIN, 5 * MIN, 2 * MIN, 10 * MIN) },
      { weight: 3, arbitrary: fc.integer({ min: 1, max: 30 * MIN }) },
      { weight: 1, arbitrary: fc.integer({ min: 30 * MIN, max: 3 * HOUR }) },
      { weight: backWeight, arbitrary: fc.integer({ min: -20 * MIN, max: 0 }) },
    ),
    dTemp: fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: -60, max: 60 }) },
      { weight: 1, arbitrary: fc.integer({ min: -1500, max: 1500 }) },
    ),
    seqSkip: fc.oneof(
      { weight: 20, arbitrary: fc.constant(1) },
      { weight: 1, arbitrary: fc.integer({ min: 2, max: 4 }) },
    ),
    fault: fc.oneof(
      { weight: 25, arbitrary: fc.constant(0) },
      { weight: faultWeight, arbitrary: fc.constantFrom(1, 8, 9) },
    ),
  })
const stepsArb = fc.oneof(
  fc.array(stepArbOf(1, 1), { minLength: 0, maxLength: 160, size: 'max' }),
  fc.array(stepArbOf(30, 4), { minLength: 0, maxLength: 160, size: 'max' }),
)

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    snapshotEvery: fc.constantFrom(1, 2, 7, 32, 256),
    chunk: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 40 })),
    profileIx: fc.integer({ min: 0, max: profiles.length - 1 }),
    startTemp: fc.integer({ min: -300, max: 1800 }),
    steps: stepsArb,
    keys: fc.array(fc.double({ noNaN: true }), { minLength: 160, maxLength: 160 }),
    dupes: fc.array(fc.nat({ max: 159 }), { maxLength: 5 }),
    endOffset: fc.option(fc.integer({ min: 0, max: 30 * HOUR })),
    unjudged: fc.array(
      fc.record({ a: fc.integer({ min: 0, max: 20 * HOUR }), len: fc.integer({ min: 1, max: 3 * HOUR }) }),
      { maxLength: 2 },
    ),
  })
  .map(({ snapshotEvery, chunk, profileIx, startTemp, steps, keys, dupes, endOffset, unjudged }) => {
    const offset = profileIx === 2 ? -8000 : 0 // ultra-cold profile: move the walk near its limits
    let time = T0
    let temp = startTemp + offset
    let seq = 1
    const readings: EngineReading[] = steps.map((s) => {
      time = Math.max(0, time + s.dt)
      temp = Math.max(-27315, Math.min(32767, temp + s.dTemp))
      const r: EngineReading = { deviceId: 'dev-p', seq, deviceTimeMs: time, tempCentiC: temp }
      if (s.fault) r.status = s.fault
      seq += s.seqSkip
      return r
    })
    const order = readings.map((_, i) => i).sort((a, b) => keys[a] - keys[b] || a - b)
    return {
      snapshotEvery,
      chunk,
      profileIx,
      readings,
      order,
      dupes: dupes.filter((d) => d < readings.length),
      endMs: endOffset === null ? null : T0 + endOffset,
      unjudged: unjudged.map((u) => ({ startMs: T0 + u.a, endMs: T0 + u.a + u.len, reason: 'leg' })),
    }
  })

/** Reference: the pure fold over readings in sequence order, from scratch. */
function fromScratch(c: Case) {
  const profile = profiles[c.profileIx]
  const ctx = createFoldContext(profile, { startMs: T0, endMs: c.endMs }, c.unjudged)
  let state = initialState(ctx, 'dev-p')
  const events: ComplianceEvent[] = []
  for (const r of [...c.readings].sort((a, b) => a.seq - b.seq)) {
    const out = step(ctx, state, r)
    state = out.state
    events.push(...out.events)
  }
  const finished = structuredClone(state)
  const tail = finishInPlace(ctx, finished, c.endMs !== null)
  return { result: buildSensorResult(ctx, state, finished, [...events, ...tail], c.endMs !== null), liveEvents: events }
}

t.test('incremental evaluation in any arrival order equals folding in order from scratch', async (t) => {
  let withLate = 0
  let longEpisodes = 0
  fc.assert(
    fc.property(caseArb, (c) => {
      const ev = createSensorEvaluator({
        profile: profiles[c.profileIx],
        deviceId: 'dev-p',
        window: { startMs: T0, endMs: c.endMs },
        unjudged: c.unjudged,
        snapshotEvery: c.snapshotEvery,
      })
      const live = new Map<string, ComplianceEvent>()
      const arrivals = [...c.order.map((i) => c.readings[i]), ...c.dupes.map((i) => c.readings[i])]
      let maxSeq = 0
      for (let k = 0; k < arrivals.length; k += c.chunk) {
        // one at a time (add) or in bursts (addAll), as a store-and-forward resend delivers them
        const burst = arrivals.slice(k, k + c.chunk)
        for (const r of burst) {
          if (r.seq < maxSeq) withLate++
          maxSeq = Math.max(maxSeq, r.seq)
        }
        const { added, retracted } = c.chunk === 1 ? ev.add(burst[0]) : ev.addAll(burst)
        for (const id of retracted) {
          if (!live.delete(id)) throw new Error(`retracted an event never added: ${id}`)
        }
        for (const e of added) {
          if (live.has(e.id)) throw new Error(`added twice without retraction: ${e.id}`)
          live.set(e.id, e)
        }
      }
      const ref = fromScratch(c)
      if (ref.result.faultEpisodes.some((e) => e.count > 1)) longEpisodes++
      const got = canonicalJson(ev.result())
      const want = canonicalJson(ref.result)
      if (got !== want) throw new Error(`results differ\n got ${got}\nwant ${want}`)
      // the live stream of added / retracted events nets out to the events of the in-order fold
      const net = canonicalJson([...live.values()].sort((a, b) => (a.id < b.id ? -1 : 1)))
      const refLive = canonicalJson([...ref.liveEvents].sort((a, b) => (a.id < b.id ? -1 : 1)))
      if (net !== refLive) throw new Error(`live events differ\n got ${net}\nwant ${refLive}`)
      if (ev.size !== c.readings.length) throw new Error('size')
    }),
    { numRuns: 100, endOnFailure: true },
  )
  t.ok(withLate > 100, `late readings were exercised (${withLate})`)
  t.ok(longEpisodes > 10, `fault episodes of several readings were exercised (${longEpisodes} cases)`)
})

t.test('a backfilled reading re-evaluates: the gap it fills is retracted', async (t) => {
  const ev = createSensorEvaluator({
    profile: BUILTIN_PROFILES['refrigerated-2-8'],
    deviceId: 'dev-a',
    window: { startMs: T0 },
  })
  const r = (seq: number, min: number, c: number): EngineReading => ({
    deviceId: 'dev-a',
    seq,
    deviceTimeMs: T0 + min * MIN,
    tempCentiC: c,
  })
  t.same(ev.add(r(1, 0, 500)), { added: [], retracted: [] })
  const late = ev.add(r(4, 60, 500))
  t.same(late.added.map((e) => e.kind).sort(), ['data_gap', 'missing_readings'])
  const fill1 = ev.add(r(2, 20, 500))
  t.same(fill1.retracted.sort(), [`dev-a:data_gap:${T0 + 5 * MIN}`, 'dev-a:missing_readings:1'])
  t.same(
    fill1.added.map((e) => e.kind).sort(),
    ['data_gap', 'missing_readings'],
    'a shorter gap and one missing reading remain',
  )
  const fill2 = ev.add(r(3, 40, 900))
  t.same(
    fill2.added.map((e) => e.kind),
    ['excursion_started', 'excursion_alarm', 'cumulative_allowance_exceeded', 'excursion_ended'],
  )
  t.equal(ev.result().verdict, 'FAIL')
  t.equal(ev.result().events.filter((e) => e.kind === 'data_gap').length, 0)
})

t.test('addAll refolds once and reports the net change', async (t) => {
  const ev = createSensorEvaluator({
    profile: BUILTIN_PROFILES['refrigerated-2-8'],
    deviceId: 'dev-a',
    window: { startMs: T0 },
  })
  const r = (seq: number, min: number, c: number): EngineReading => ({
    deviceId: 'dev-a',
    seq,
    deviceTimeMs: T0 + min * MIN,
    tempCentiC: c,
  })
  ev.addAll([r(1, 0, 500), r(10, 45, 500)])
  t.same(
    ev
      .result()
      .events.map((e) => e.kind)
      .sort(),
    ['data_gap', 'missing_readings'],
  )
  const burst = ev.addAll([
    r(5, 20, 500),
    r(3, 10, 500),
    r(2, 5, 500),
    r(4, 15, 500),
    r(6, 25, 500),
    r(7, 30, 500),
    r(8, 35, 500),
    r(9, 40, 500),
    r(9, 40, 500),
  ])
  t.same(burst.added, [])
  t.same(burst.retracted.sort(), [`dev-a:data_gap:${T0 + 5 * MIN}`, 'dev-a:missing_readings:1'])
  t.equal(ev.result().verdict, 'PASS')
  t.throws(() => ev.addAll([r(11, 50, 500), { ...r(12, 55, 500), seq: -1 }]), {
    code: 'ERR_INPUT_INVALID',
    path: '$[1].seq',
  })
  t.equal(ev.size, 10, 'a refused burst adds nothing')
  t.throws(() => ev.addAll([r(11, 50, 500), { ...r(1, 0, 501) }]), { code: 'ERR_READING_CONFLICT' })
  t.throws(() => ev.addAll([r(11, 50, 500), r(11, 50, 502)]), { code: 'ERR_READING_CONFLICT' })
  t.equal(ev.size, 10, 'nor does a conflicting one')
})

t.test('resends are idempotent; conflicting readings and other devices are refused', async (t) => {
  const ev = createSensorEvaluator({
    profile: BUILTIN_PROFILES['refrigerated-2-8'],
    deviceId: 'dev-a',
    window: { startMs: T0 },
  })
  const r: EngineReading = { deviceId: 'dev-a', seq: 1, deviceTimeMs: T0, tempCentiC: 900 }
  t.same(
    ev.add(r).added.map((e) => e.kind),
    ['excursion_started'],
  )
  t.same(ev.add({ ...r }), { added: [], retracted: [] })
  t.equal(ev.size, 1)
  t.throws(() => ev.add({ ...r, tempCentiC: 901 }), { code: 'ERR_READING_CONFLICT', path: '$.seq' })
  t.throws(() => ev.add({ ...r, deviceId: 'dev-b' }), { code: 'ERR_INPUT_INVALID', path: '$.deviceId' })
  t.throws(() => ev.add({ ...r, seq: 0 }), { code: 'ERR_INPUT_INVALID', path: '$.seq' })
  t.throws(() => ev.add(null as unknown as EngineReading), { code: 'ERR_INPUT_INVALID', path: '$' })
})

t.test(
  'live: a stuck fault raises one alarm; a late healthy reading that splits the run raises the second',
  async (t) => {
    const ev = createSensorEvaluator({
      profile: BUILTIN_PROFILES['refrigerated-2-8'],
      deviceId: 'dev-a',
      window: { startMs: T0 },
    })
    const r = (seq: number, fault: boolean): EngineReading => ({
      deviceId: 'dev-a',
      seq,
      deviceTimeMs: T0 + seq * MIN,
      tempCentiC: 500,
      ...(fault ? { status: 1 } : {}),
    })
    const added: ComplianceEvent[] = []
    ev.add(r(1, false))
    for (let seq = 2; seq <= 13; seq++) if (seq !== 7) added.push(...ev.add(r(seq, true)).added)
    t.same(
      added.filter((e) => e.kind === 'sensor_fault').map((e) => e.id),
      ['dev-a:sensor_fault:status_fault:2'],
      'one alarm for eleven faulty readings',
    )
    t.same(
      added.map((e) => e.kind),
      ['sensor_fault', 'missing_readings'],
      'and the hole at seq 7 is its own event',
    )
    t.match(
      ev.result().faultEpisodes,
      [{ firstSeq: 2, lastSeq: 13, count: 11 }],
      'the hole at seq 7 does not end the episode',
    )
    const late = ev.add(r(7, false))
    t.same(
      late.added.map((e) => e.id),
      ['dev-a:sensor_fault:status_fault:8'],
      'the run is now two episodes',
    )
    t.same(late.retracted, ['dev-a:missing_readings:6'], 'the hole is filled')
    t.match(ev.result().faultEpisodes, [
      { firstSeq: 2, lastSeq: 6, count: 5 },
      { firstSeq: 8, lastSeq: 13, count: 6 },
    ])
    t.equal(ev.result().reasons.filter((x) => x.code === 'SENSOR_FAULT').length, 2)
  },
)
