import t from 'tap'
import { figure, quantile } from './figures.ts'

const StageFailed = { name: 'StageFailed' }

t.test('a figure is built only from measured values', (t) => {
  t.throws(() => figure('x.y', 'x', 'y', 'ms', [], 'lower'), StageFailed, 'no value: the stage did not run')
  t.throws(() => figure('x.y', 'x', 'y', 'ms', [1, Number.NaN], 'lower'), StageFailed)
  t.throws(() => figure('x.y', 'x', 'y', 'ms', [Infinity], 'lower'), StageFailed)
  const f = figure('x.y', 'x', 'y', 'ms', [3, 1, 2, 10], 'lower')
  t.same([f.runs, f.min, f.median, f.max], [4, 1, 2.5, 10])
  t.end()
})

t.test('quantile is nearest rank', (t) => {
  const v = Array.from({ length: 100 }, (_, i) => i + 1)
  t.equal(quantile(v, 0.5), 50)
  t.equal(quantile(v, 0.99), 99)
  t.equal(quantile([7], 0.99), 7)
  t.throws(() => quantile([], 0.5))
  t.end()
})
