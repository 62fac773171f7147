import t from 'tap'
import { createRng, deriveSeed } from './rng.ts'

t.test('seeded streams repeat exactly and differ between seeds', async (t) => {
  const take = (seed: number) => {
    const r = createRng(seed)
    return Array.from({ length: 1000 }, () => r.next())
  }
  t.same(take(42), take(42))
  t.notSame(take(42), take(43))
  const xs = take(7)
  t.ok(
    xs.every((x) => x >= 0 && x < 1),
    'uniform values in [0, 1)',
  )
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length
  t.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean.toFixed(3)} near 0.5`)
})

t.test('gaussian has mean 0 and sd 1 (fixed seed, 20,000 draws)', async (t) => {
  const r = createRng(99)
  const g = Array.from({ length: 20_000 }, () => r.gaussian())
  const mean = g.reduce((a, b) => a + b, 0) / g.length
  const sd = Math.sqrt(g.reduce((a, b) => a + (b - mean) ** 2, 0) / g.length)
  t.ok(Math.abs(mean) < 0.03, `mean ${mean.toFixed(4)}`)
  t.ok(Math.abs(sd - 1) < 0.03, `sd ${sd.toFixed(4)}`)
  t.ok(g.every(Number.isFinite))
})

t.test('derived seeds depend on the run seed and the stream name', async (t) => {
  t.equal(deriveSeed(1, 'dev-1'), deriveSeed(1, 'dev-1'))
  t.not(deriveSeed(1, 'dev-1'), deriveSeed(2, 'dev-1'))
  t.not(deriveSeed(1, 'dev-1'), deriveSeed(1, 'dev-2'))
})
