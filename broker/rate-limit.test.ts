import t from 'tap'
import fc from 'fast-check'
import { TokenBucket } from './rate-limit.ts'

t.test('burst passes, then publishes are held, then refused', async (t) => {
  const b = new TokenBucket({ perSecond: 10, burst: 3, maxDelayMs: 250 }, 0)
  t.same([b.take(0), b.take(0), b.take(0)], [0, 0, 0], 'burst of 3 at once')
  t.equal(b.take(0), 100, 'the 4th waits one refill (100 ms)')
  t.equal(b.take(0), 200, 'the 5th waits two')
  t.equal(b.take(0), -1, 'the 6th would wait 300 ms > 250: refused')
  t.equal(b.take(0), -1, 'and a refusal reserves nothing')
  t.equal(b.take(200), 100, 'at 200 ms the two held ones are paid for: the next waits one refill again')
})

t.test('refills at perSecond, never above burst', async (t) => {
  const b = new TokenBucket({ perSecond: 2, burst: 2, maxDelayMs: 0 }, 0)
  t.equal(b.take(0), 0)
  t.equal(b.take(0), 0)
  t.equal(b.take(0), -1)
  t.equal(b.take(499), -1, 'not yet one token')
  t.equal(b.take(500), 0, 'one token after 500 ms')
  t.equal(b.take(10_000), 0, 'a long pause refills to burst')
  t.equal(b.take(10_000), 0)
  t.equal(b.take(10_000), -1, 'but no more than burst')
})

t.test('property: over any schedule, admitted publishes never exceed burst + rate * elapsed', async (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 100 }),
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 0, max: 2000 }),
      fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 200 }),
      (perSecond, burst, maxDelayMs, gaps) => {
        const b = new TokenBucket({ perSecond, burst, maxDelayMs }, 0)
        let now = 0
        let admittedBy = 0 // publishes that may proceed by time `now + their delay`
        let lastRelease = 0
        for (const g of gaps) {
          now += g
          const d = b.take(now)
          if (d >= 0) {
            admittedBy++
            lastRelease = Math.max(lastRelease, now + d)
            if (d > maxDelayMs) return false
          }
        }
        return admittedBy <= burst + (perSecond * lastRelease) / 1000 + 1e-9
      },
    ),
  )
  t.pass('held')
})

t.test('bad options are refused', async (t) => {
  t.throws(() => new TokenBucket({ perSecond: 0, burst: 1, maxDelayMs: 0 }, 0), RangeError)
  t.throws(() => new TokenBucket({ perSecond: 1, burst: 0, maxDelayMs: 0 }, 0), RangeError)
  t.throws(() => new TokenBucket({ perSecond: 1, burst: 1, maxDelayMs: -1 }, 0), RangeError)
})
