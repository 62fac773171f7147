/**
 * Per-device sequence bookkeeping (DESIGN.md decisions 2 and 5): which
 * sequence numbers of a device the ledger holds, as the highest contiguous
 * sequence (what the receipt acknowledges), the highest seen, and the missing
 * ranges in between (what resend requests ask for). Pure.
 *
 * Invariant: every seq in 1..contiguous is stored; gaps are sorted, disjoint,
 * inclusive ranges inside (contiguous, highest]; every other seq in that
 * interval is stored; when a gap exists the first starts at contiguous + 1.
 */
export interface SeqState {
  contiguous: number
  highest: number
  gaps: [number, number][]
}

export const EMPTY_SEQ_STATE: SeqState = Object.freeze({ contiguous: 0, highest: 0, gaps: [] }) as SeqState

/** 'stored' when seq is held already, 'gap' when it fills a missing range, 'next' or 'ahead' when above highest. */
export function classifySeq(s: SeqState, seq: number): 'stored' | 'gap' | 'next' | 'ahead' {
  if (seq === s.highest + 1) return 'next'
  if (seq > s.highest) return 'ahead'
  for (const [a, b] of s.gaps) if (seq >= a && seq <= b) return 'gap'
  return 'stored'
}

/** The state after storing `seq` (which must not be stored yet). Does not modify `s`. */
export function applySeq(s: SeqState, seq: number): SeqState {
  if (!Number.isSafeInteger(seq) || seq < 1) throw new RangeError(`seq must be a positive integer, got ${seq}`)
  const kind = classifySeq(s, seq)
  if (kind === 'stored') throw new RangeError(`seq ${seq} is already stored`)
  let gaps = s.gaps
  let highest = s.highest
  if (kind === 'ahead') {
    gaps = [...gaps, [s.highest + 1, seq - 1]]
    highest = seq
  } else if (kind === 'next') {
    highest = seq
  } else {
    gaps = []
    for (const [a, b] of s.gaps) {
      if (seq < a || seq > b) { gaps.push([a, b]); continue }
      if (a <= seq - 1) gaps.push([a, seq - 1])
      if (seq + 1 <= b) gaps.push([seq + 1, b])
    }
  }
  const contiguous = gaps.length ? gaps[0][0] - 1 : highest
  return { contiguous, highest, gaps }
}

/**
 * The state after seqs from..to were declared lost for good: they leave the missing ranges, so the
 * contiguous head moves past them when they were the first hole. Only missing seqs are settled,
 * so the head always stays on a stored reading. Does not modify `s`.
 */
export function declareRange(s: SeqState, from: number, to: number): SeqState {
  const gaps: [number, number][] = []
  for (const [a, b] of s.gaps) {
    if (b < from || a > to) { gaps.push([a, b]); continue }
    if (a < from) gaps.push([a, from - 1])
    if (b > to) gaps.push([to + 1, b])
  }
  return { contiguous: gaps.length ? gaps[0][0] - 1 : s.highest, highest: s.highest, gaps }
}

/** Number of missing sequences. */
export function missingCount(s: SeqState): number {
  let n = 0
  for (const [a, b] of s.gaps) n += b - a + 1
  return n
}
