/**
 * The two judgements of docs/COMPLIANCE.md ("How time is counted") on random
 * traces, checked against a plain re-statement of the rules:
 * - each reading holds until the next; the last reading before a data gap, or
 *   before the close, holds for one expected interval (never past the close);
 * - a silence (a forward step in device time, however long) is a data gap,
 *   never a clock fault.
 */
import t from 'tap'
import fc from 'fast-check'
import { evaluateShipment } from './shipment.ts'
import { profileWith, zone, shipmentInput, T0, MIN, HOUR } from './test/helpers.ts'
import type { EngineReading } from './engine.ts'

const profile = profileWith({
  zones: [zone({ id: 'above-8', side: 'above', limitCentiC: 800, cumulativeAllowanceMs: 0 })],
  hardLimits: [],
  mktMaxCentiC: null,
  startDelayMs: 0,
  stopDelayMs: 0,
})
const H = profile.expectedIntervalMs
const G = profile.maxDataGapMs

const traceArb = fc.record({
  steps: fc.array(
    fc.record({
      dt: fc.oneof(
        { weight: 6, arbitrary: fc.integer({ min: 1, max: G }) },
        { weight: 2, arbitrary: fc.integer({ min: G + 1, max: 12 * HOUR }) },
      ),
      temp: fc.oneof(fc.constant(500), fc.constant(800), fc.constant(801), fc.integer({ min: -500, max: 3000 })),
    }),
    { minLength: 1, maxLength: 40 },
  ),
  // the close, after the last reading: inside the hold, or well past it
  tail: fc.oneof(fc.integer({ min: 1, max: H }), fc.integer({ min: H, max: 3 * HOUR })),
})

t.test(
  'the last reading before a gap or the close holds for one expected interval; a silence is a gap, not a clock fault',
  async (t) => {
    fc.assert(
      fc.property(traceArb, ({ steps, tail }) => {
        let ms = T0
        const readings: EngineReading[] = steps.map((s, i) => {
          if (i > 0) ms += s.dt
          return { deviceId: 'dev-a', seq: i + 1, deviceTimeMs: ms, tempCentiC: s.temp }
        })
        const endMs = ms + tail
        const r = evaluateShipment(shipmentInput(profile, readings, { startMs: T0, endMs }))
        const s = r.sensors[0]

        // The rules, restated: how long each reading stands for.
        let covered = 0
        let above = 0
        let gaps = 0
        readings.forEach((x, i) => {
          const next = readings[i + 1]
          const dt = next ? next.deviceTimeMs - x.deviceTimeMs : Math.min(H, endMs - x.deviceTimeMs)
          const span = next && dt > G ? H : dt
          if (next && dt > G) gaps++
          covered += span
          if (x.tempCentiC > 800) above += span
        })
        if (s.stats.coveredMs !== covered) throw new Error(`covered ${s.stats.coveredMs}, rule says ${covered}`)
        if (s.stats.aboveMs !== above) throw new Error(`above ${s.stats.aboveMs}, rule says ${above}`)
        const kinds = s.events.map((e) => e.kind)
        if (kinds.filter((k) => k === 'data_gap').length !== gaps)
          throw new Error(`data gaps ${kinds.filter((k) => k === 'data_gap').length}, rule says ${gaps}`)
        if (kinds.includes('sensor_fault'))
          throw new Error('a forward step in device time was reported as a sensor fault')
        // Zero allowance beyond 8 °C: any held time above it fails, including the last reading's.
        if (above > 0 !== (r.verdict === 'FAIL')) throw new Error(`verdict ${r.verdict} with ${above} ms above 8 °C`)
      }),
      { numRuns: 300, seed: 20261205 },
    )
    t.pass('300 random traces agree with the rules')
  },
)

t.test(
  "the issue's case: 30 °C read 25 minutes before the close fails a profile that allows no time out of range",
  async (t) => {
    const readings = [0, 5, 10].map((m, i) => ({
      deviceId: 'dev-a',
      seq: i + 1,
      deviceTimeMs: T0 + m * MIN,
      tempCentiC: i === 2 ? 3000 : 500,
    }))
    const closed = evaluateShipment(shipmentInput(profile, readings, { startMs: T0, endMs: T0 + 35 * MIN }))
    t.equal(closed.verdict, 'FAIL')
    t.equal(closed.sensors[0].stats.aboveMs, H, 'it holds for one expected interval, not up to the close')
    const open = evaluateShipment(shipmentInput(profile, readings, { startMs: T0 }))
    t.equal(
      open.sensors[0].stats.aboveMs,
      0,
      'while the shipment is open the next reading will tell, so nothing is assumed yet',
    )
  },
)
