import t from 'tap'
import fc from 'fast-check'
import {
  chainNext,
  classifySeq,
  declarableGap,
  declareLost,
  EMPTY_SEQ_STATE,
  heldCount,
  holdSeq,
  missingCount,
  unholdSeq,
  type SeqState,
} from './device-chain.ts'

t.test('in-order sequences advance the head', async (t) => {
  let s: SeqState = EMPTY_SEQ_STATE
  for (let i = 1; i <= 5; i++) s = chainNext(s, i)
  t.same(s, { contiguous: 5, highest: 5, gaps: [] })
  t.equal(classifySeq(s, 3), 'chained')
  t.equal(classifySeq(s, 6), 'next')
  t.throws(() => chainNext(s, 7), RangeError)
  t.throws(() => holdSeq(s, 6), RangeError, 'the next seq is chained, never held')
})

t.test('a jump holds the reading above a gap; the fill chains, the head passes the held ones one by one', async (t) => {
  let s = holdSeq(chainNext(EMPTY_SEQ_STATE, 1), 5)
  t.same(s, { contiguous: 1, highest: 5, gaps: [[2, 4]] })
  t.equal(classifySeq(s, 3), 'ahead')
  t.equal(classifySeq(s, 5), 'held')
  t.equal(classifySeq(s, 7), 'ahead')
  s = holdSeq(s, 3)
  t.same(s.gaps, [
    [2, 2],
    [4, 4],
  ])
  t.equal(heldCount(s), 2)
  s = chainNext(s, 2)
  t.same(s, { contiguous: 2, highest: 5, gaps: [[4, 4]] }, 'held 3 is not chained by the state alone')
  s = chainNext(s, 3)
  t.same(declarableGap(s), [4, 4])
  s = chainNext(s, 4)
  s = chainNext(s, 5)
  t.same(s, { contiguous: 5, highest: 5, gaps: [] })
})

t.test('a refused held reading is missing again; a declared gap moves the head', async (t) => {
  let s = holdSeq(holdSeq(chainNext(EMPTY_SEQ_STATE, 1), 4), 6)
  t.same(s.gaps, [
    [2, 3],
    [5, 5],
  ])
  s = unholdSeq(s, 4)
  t.same(s, { contiguous: 1, highest: 6, gaps: [[2, 5]] })
  s = unholdSeq(s, 6)
  t.same(s, { contiguous: 1, highest: 1, gaps: [] }, 'a trailing missing range is trimmed')
  s = holdSeq(s, 9)
  t.same(declarableGap(s), [2, 8])
  t.throws(() => declareLost(s, 2, 7), RangeError, 'only the whole first range')
  s = declareLost(s, 2, 8)
  t.same(s, { contiguous: 8, highest: 9, gaps: [] })
  t.equal(classifySeq(s, 9), 'held')
  t.equal(declarableGap(s), undefined)
})

t.test('any arrival order, chaining what reaches the head, ends contiguous (property)', async (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }).chain((n) =>
        fc.shuffledSubarray(
          [...Array(n).keys()].map((i) => i + 1),
          { minLength: n, maxLength: n },
        ),
      ),
      (order) => {
        let s: SeqState = EMPTY_SEQ_STATE
        const seen = new Set<number>()
        for (const seq of order) {
          if (classifySeq(s, seq) === 'next') {
            s = chainNext(s, seq)
            while (classifySeq(s, s.contiguous + 1) === 'held') s = chainNext(s, s.contiguous + 1)
          } else s = holdSeq(s, seq)
          seen.add(seq)
          let c = 0
          while (seen.has(c + 1)) c++
          if (s.contiguous !== c) return false
          if (missingCount(s) + heldCount(s) + s.contiguous !== s.highest) return false
          if (heldCount(s) !== seen.size - c) return false
        }
        return s.contiguous === order.length && s.gaps.length === 0
      },
    ),
  )
  t.pass('property held')
})
