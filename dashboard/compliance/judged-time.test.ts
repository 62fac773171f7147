import t from 'tap'
import { judgedSpans, isJudged, judgedLength, pieces } from './judged-time.ts'

t.test('judged spans: window less delays less unjudged legs, half-open', async (t) => {
  const s = judgedSpans({ startMs: 0, endMs: 100 }, 10, 5, [
    { startMs: 40, endMs: 50, reason: 'warehouse' },
    { startMs: 90, endMs: 200, reason: 'x' },
  ])
  t.same(s, [
    [10, 40],
    [50, 90],
  ])
  t.same(
    [9, 10, 39, 40, 49, 50, 89, 90].map((x) => isJudged(s, x)),
    [false, true, true, false, false, true, true, false],
  )
  t.equal(judgedLength(s, 0, 100), 70)
  t.equal(judgedLength(s, 35, 55), 10)
  t.same(pieces(s, 35, 55), [
    { a: 35, b: 40, judged: true },
    { a: 40, b: 50, judged: false },
    { a: 50, b: 55, judged: true },
  ])
  t.same(judgedSpans({ startMs: 0 }, 0, 1000, []), [[0, Infinity]], 'no stop delay while the window is open')
  t.same(judgedSpans({ startMs: 0, endMs: 10 }, 6, 6, []), [], 'delays longer than the window leave nothing to judge')
})
