import t from 'tap'
import fc from 'fast-check'
import {
  mkt,
  timeWeightedMean,
  expDeterministic,
  lnDeterministic,
  roundHalfEven,
  mktKelvinOfHistogram,
  MKT_DELTA_H,
  MKT_GAS_CONSTANT,
  type TimedSample,
} from './mkt.ts'

const H = 3_600_000

t.test('worked example: 6 h at 5 °C, 10 h at 7 °C, 1.5 h at 11 °C, 30 h at 6 °C', async (t) => {
  const s: TimedSample[] = [
    { tempCentiC: 500, durationMs: 6 * H },
    { tempCentiC: 700, durationMs: 10 * H },
    { tempCentiC: 1100, durationMs: 1.5 * H },
    { tempCentiC: 600, durationMs: 30 * H },
  ]
  t.equal(mkt(s), 631, 'MKT 6.31 °C')
  t.equal(timeWeightedMean(s), 624, 'mean 6.24 °C')
  t.equal(mkt([...s].reverse()), 631, 'order does not matter')
})

/** Independent calculation, written differently: per sample, Arrhenius form, platform Math.exp/Math.log, no factoring. */
function mktIndependent(samples: TimedSample[]): number {
  const dHoverR = MKT_DELTA_H / MKT_GAS_CONSTANT
  let total = 0
  let weighted = 0
  for (const { tempCentiC, durationMs } of samples) {
    const kelvin = 273.15 + tempCentiC / 100
    weighted += (durationMs / H) * Math.exp(-dHoverR / kelvin)
    total += durationMs / H
  }
  return -dHoverR / Math.log(weighted / total) - 273.15
}

const samplesArb = fc.array(
  fc.record({ tempCentiC: fc.integer({ min: -9000, max: 6000 }), durationMs: fc.integer({ min: 1, max: 48 * H }) }),
  { minLength: 1, maxLength: 40 },
)

t.test('MKT agrees with an independent calculation (random samples)', async (t) => {
  fc.assert(
    fc.property(samplesArb, (s) => {
      const hist = new Map<number, number>()
      for (const x of s) hist.set(x.tempCentiC, (hist.get(x.tempCentiC) ?? 0) + x.durationMs)
      const ours = mktKelvinOfHistogram(hist)! - 273.15
      const theirs = mktIndependent(s)
      if (Math.abs(ours - theirs) > 1e-7) throw new Error(`ours ${ours} vs independent ${theirs}`)
      // the rounded value is within half a centi-degree plus float noise
      if (Math.abs(mkt(s)! - theirs * 100) > 0.5 + 1e-6) throw new Error(`rounded ${mkt(s)} vs ${theirs * 100}`)
    }),
    { numRuns: 500 },
  )
  t.pass('500 random sample sets')
})

t.test('MKT is never below the time-weighted mean (Jensen: exp is convex)', async (t) => {
  fc.assert(
    fc.property(samplesArb, (s) => {
      const m = mkt(s)!
      const mean = timeWeightedMean(s)!
      if (m < mean) throw new Error(`MKT ${m} < mean ${mean}`)
    }),
    { numRuns: 1000 },
  )
  t.pass('1000 random sample sets')
})

t.test('a constant temperature has MKT and mean equal to it', async (t) => {
  for (const c of [-8000, -1500, 0, 500, 2500]) {
    t.equal(
      mkt([
        { tempCentiC: c, durationMs: 5 * H },
        { tempCentiC: c, durationMs: 7 },
      ]),
      c,
    )
    t.equal(timeWeightedMean([{ tempCentiC: c, durationMs: 5 * H }]), c)
  }
  t.equal(mkt([]), null)
  t.equal(mkt([{ tempCentiC: 500, durationMs: 0 }]), null, 'zero duration carries no weight')
})

t.test('the time-weighted mean is exact and rounds half to even', async (t) => {
  t.equal(
    timeWeightedMean([
      { tempCentiC: 1, durationMs: 1 },
      { tempCentiC: 2, durationMs: 1 },
    ]),
    2,
    '1.5 -> 2',
  )
  t.equal(
    timeWeightedMean([
      { tempCentiC: 2, durationMs: 1 },
      { tempCentiC: 3, durationMs: 1 },
    ]),
    2,
    '2.5 -> 2',
  )
  t.equal(
    timeWeightedMean([
      { tempCentiC: -1, durationMs: 1 },
      { tempCentiC: -2, durationMs: 1 },
    ]),
    -2,
    '-1.5 -> -2',
  )
  t.equal(
    timeWeightedMean([
      { tempCentiC: -2, durationMs: 1 },
      { tempCentiC: -3, durationMs: 1 },
    ]),
    -2,
    '-2.5 -> -2',
  )
  t.equal(
    timeWeightedMean([
      { tempCentiC: 100, durationMs: 2 },
      { tempCentiC: 101, durationMs: 1 },
    ]),
    100,
    '100.33 -> 100',
  )
  t.equal(
    timeWeightedMean([
      { tempCentiC: 100, durationMs: 1 },
      { tempCentiC: 101, durationMs: 2 },
    ]),
    101,
    '100.67 -> 101',
  )
  t.throws(() => timeWeightedMean([{ tempCentiC: 1.5, durationMs: 1 }]), RangeError)
  t.throws(() => mkt([{ tempCentiC: 1, durationMs: -1 }]), RangeError)
})

t.test('roundHalfEven', async (t) => {
  t.same([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 2.5001, 7].map(roundHalfEven), [0, 2, 2, -0, -2, 2, 3, 7])
})

t.test('exp and ln from basic arithmetic match the platform within a few ulp (1e-15 relative)', async (t) => {
  fc.assert(
    fc.property(fc.double({ min: -700, max: 700, noNaN: true }), (x) => {
      const a = expDeterministic(x)
      const b = Math.exp(x)
      if (Math.abs(a - b) > 1e-15 * b) throw new Error(`exp(${x}): ${a} vs ${b}`)
    }),
    { numRuns: 2000 },
  )
  fc.assert(
    fc.property(fc.double({ min: 1e-300, max: 1e300, noNaN: true }), (y) => {
      const a = lnDeterministic(y)
      const b = Math.log(y)
      if (Math.abs(a - b) > 1e-15 * Math.max(1, Math.abs(b))) throw new Error(`ln(${y}): ${a} vs ${b}`)
    }),
    { numRuns: 2000 },
  )
  t.equal(lnDeterministic(1), 0)
  t.equal(expDeterministic(0), 1)
  t.equal(lnDeterministic(0), -Infinity)
  t.ok(Number.isNaN(lnDeterministic(-1)))
})
