import t from 'tap'
import fc from 'fast-check'
import { applySeq, classifySeq, EMPTY_SEQ_STATE, missingCount, type SeqState } from './device-chain.ts'

t.test('in-order sequences advance contiguous', async (t) => {
  let s: SeqState = EMPTY_SEQ_STATE
  for (let i = 1; i <= 5; i++) s = applySeq(s, i)
  t.same(s, { contiguous: 5, highest: 5, gaps: [] })
  t.equal(classifySeq(s, 3), 'stored')
  t.throws(() => applySeq(s, 3), RangeError)
})

t.test('a jump records a gap; backfill closes it', async (t) => {
  let s = applySeq(applySeq(EMPTY_SEQ_STATE, 1), 5)
  t.same(s, { contiguous: 1, highest: 5, gaps: [[2, 4]] })
  t.equal(classifySeq(s, 3), 'gap')
  t.equal(classifySeq(s, 7), 'ahead')
  s = applySeq(s, 3)
  t.same(s.gaps, [[2, 2], [4, 4]])
  t.equal(s.contiguous, 1)
  s = applySeq(s, 2)
  t.equal(s.contiguous, 3)
  s = applySeq(s, 4)
  t.same(s, { contiguous: 5, highest: 5, gaps: [] })
})

t.test('any arrival order of a permutation ends contiguous (property)', async (t) => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 40 }).chain((n) => fc.shuffledSubarray([...Array(n).keys()].map((i) => i + 1), { minLength: n, maxLength: n })), (order) => {
    let s: SeqState = EMPTY_SEQ_STATE
    const seen = new Set<number>()
    for (const seq of order) {
      s = applySeq(s, seq)
      seen.add(seq)
      // contiguous is exactly the longest stored prefix; missing = highest - stored count
      let c = 0
      while (seen.has(c + 1)) c++
      if (s.contiguous !== c) return false
      if (missingCount(s) !== s.highest - seen.size) return false
    }
    return s.contiguous === order.length && s.gaps.length === 0
  }))
  t.pass('property held')
})
