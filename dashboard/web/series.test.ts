import t from 'tap'
import { findGaps, isLate, lateReadings, lateThreshold, toChartPoints, yRange, type SeriesReading } from './series.ts'

const r = (t: number, tempC: number, extra: Partial<SeriesReading> = {}): SeriesReading => ({ t, tempC, ...extra })

t.test('a gap longer than the allowed interval becomes a null point, never an interpolated segment', async (t) => {
  const pts = toChartPoints([r(0, 5), r(60_000, 5.5), r(600_000, 6), r(660_000, 6.1)], 300_000)
  t.same(
    pts.map((p) => p.y),
    [5, 5.5, null, 6, 6.1],
  )
  const gap = pts[2]
  t.ok(gap.x > 60_000 && gap.x < 600_000, 'the break lies inside the gap')
  t.same(findGaps([r(0, 5), r(60_000, 5.5), r(600_000, 6)], 300_000), [
    { from: 60_000, to: 600_000, durationMs: 540_000 },
  ])
})

t.test('an interval equal to the maximum gap is not a gap', async (t) => {
  t.same(
    toChartPoints([r(0, 1), r(300_000, 2)], 300_000).map((p) => p.y),
    [1, 2],
  )
  t.same(findGaps([r(0, 1), r(300_000, 2)], 300_000), [])
})

t.test('points are sorted by device time, whatever the arrival order', async (t) => {
  const pts = toChartPoints([r(120_000, 3), r(0, 1), r(60_000, 2)], 300_000)
  t.same(
    pts.map((p) => p.x),
    [0, 60_000, 120_000],
  )
})

t.test('sensor-fault readings are not drawn as temperatures', async (t) => {
  const pts = toChartPoints([r(0, 1), r(60_000, -273, { fault: true }), r(120_000, 2)], 300_000)
  t.same(
    pts.map((p) => p.y),
    [1, 2],
  )
})

t.test('late readings: the server flag wins, otherwise receive delay beyond the threshold', async (t) => {
  t.equal(isLate(r(0, 1, { receivedAt: 10 * 60_000 }), 60_000), true)
  t.equal(isLate(r(0, 1, { receivedAt: 30_000 }), 60_000), false)
  t.equal(isLate(r(0, 1, { receivedAt: 10 * 60_000, late: false }), 60_000), false)
  t.equal(isLate(r(0, 1, { late: true }), 60_000), true)
  t.equal(isLate(r(0, 1), 60_000), false, 'unknown receive time is not late')
  const pts = toChartPoints([r(0, 1, { receivedAt: 1000 }), r(60_000, 2, { receivedAt: 900_000 })], 300_000, 120_000)
  t.same(
    pts.map((p) => !!p.late),
    [false, true],
  )
  t.same(
    lateReadings([r(60_000, 2, { late: true }), r(0, 1, { late: true }), r(30_000, 1)], 60_000).map((x) => x.t),
    [0, 60_000],
  )
  t.equal(lateThreshold(undefined), 60_000)
  t.equal(lateThreshold(600_000), 600_000)
})

t.test('the y range covers every reading and the allowed band', async (t) => {
  const { min, max } = yRange([4, 5, 6], { minC: 2, maxC: 8 })
  t.ok(min < 2 && max > 8)
  const hot = yRange([4, 14.5], { minC: 2, maxC: 8 })
  t.ok(hot.max > 14.5)
  const frozen = yRange([-21, -19], { minC: null, maxC: -15 })
  t.ok(frozen.min < -21 && frozen.max > -15)
  t.same(yRange([], { minC: null, maxC: null }), { min: 0, max: 10 })
})
