/**
 * Per-device sequence bookkeeping: which sequence numbers of a device the
 * ledger has, as the chain head (`contiguous`: what the receipt acknowledges),
 * the highest seq it has (chained or held), and the missing ranges in between
 * (what resend requests ask for). Pure.
 *
 * Invariant (between batches): every seq in 1..contiguous is chained in the
 * log or inside a declared gap; gaps are sorted, disjoint, inclusive ranges
 * inside (contiguous, highest); every other seq in (contiguous, highest] is
 * *held* (verified, stored outside the log, waiting for the gap below it);
 * when a gap exists the first starts at contiguous + 1 (a held reading right
 * above the head is chained or refused in the batch that reaches it).
 */
export interface SeqState {
  contiguous: number
  highest: number
  gaps: [number, number][]
}

export const EMPTY_SEQ_STATE: SeqState = Object.freeze({ contiguous: 0, highest: 0, gaps: [] }) as SeqState

/**
 * 'chained': at or below the head (in the log, or declared lost);
 * 'next': the seq right above the head (chained if it links);
 * 'held': above the head and held already;
 * 'ahead': above the head, missing, not the next one (held if it verifies).
 */
export type SeqKind = 'chained' | 'next' | 'held' | 'ahead'

export function classifySeq(s: SeqState, seq: number): SeqKind {
  if (seq <= s.contiguous) return 'chained'
  const missing = seq > s.highest || s.gaps.some(([a, b]) => seq >= a && seq <= b)
  if (!missing) return 'held'
  return seq === s.contiguous + 1 ? 'next' : 'ahead'
}

function checkSeq(seq: number): void {
  if (!Number.isSafeInteger(seq) || seq < 1) throw new RangeError(`seq must be a positive integer, got ${seq}`)
}

/** Removes one seq from the missing ranges. */
function withoutMissing(gaps: [number, number][], seq: number): [number, number][] {
  const out: [number, number][] = []
  for (const [a, b] of gaps) {
    if (seq < a || seq > b) {
      out.push([a, b])
      continue
    }
    if (a <= seq - 1) out.push([a, seq - 1])
    if (seq + 1 <= b) out.push([seq + 1, b])
  }
  return out
}

/** The state after holding `seq` (missing, above the next seq). */
export function holdSeq(s: SeqState, seq: number): SeqState {
  checkSeq(seq)
  if (classifySeq(s, seq) !== 'ahead')
    throw new RangeError(`seq ${seq} cannot be held: it is ${classifySeq(s, seq)} (head ${s.contiguous})`)
  if (seq > s.highest) {
    const gaps: [number, number][] = s.highest + 1 <= seq - 1 ? [...s.gaps, [s.highest + 1, seq - 1]] : [...s.gaps]
    return { contiguous: s.contiguous, highest: seq, gaps }
  }
  return { contiguous: s.contiguous, highest: s.highest, gaps: withoutMissing(s.gaps, seq) }
}

/** The state after chaining the reading right above the head (missing or held). */
export function chainNext(s: SeqState, seq: number): SeqState {
  checkSeq(seq)
  if (seq !== s.contiguous + 1) throw new RangeError(`seq ${seq} is not the next seq above the head ${s.contiguous}`)
  return { contiguous: seq, highest: Math.max(s.highest, seq), gaps: withoutMissing(s.gaps, seq) }
}

/** The state after a held reading is refused: its seq is missing again (trailing missing seqs are trimmed). */
export function unholdSeq(s: SeqState, seq: number): SeqState {
  checkSeq(seq)
  if (seq <= s.contiguous || seq > s.highest || classifySeq(s, seq) !== 'held')
    throw new RangeError(`seq ${seq} is not held`)
  const gaps: [number, number][] = []
  let placed = false
  for (const [a, b] of s.gaps) {
    if (!placed && seq < a) {
      gaps.push([seq, seq])
      placed = true
    }
    gaps.push([a, b])
  }
  if (!placed) gaps.push([seq, seq])
  // Merge neighbours.
  const merged: [number, number][] = []
  for (const g of gaps) {
    const last = merged[merged.length - 1]
    if (last && last[1] + 1 >= g[0]) last[1] = Math.max(last[1], g[1])
    else merged.push([g[0], g[1]])
  }
  let highest = s.highest
  const end = merged[merged.length - 1]
  if (end && end[1] >= highest) {
    highest = end[0] - 1
    merged.pop()
  }
  return { contiguous: s.contiguous, highest: Math.max(highest, s.contiguous), gaps: merged }
}

/**
 * The first missing range, when a held reading sits right above it: the only
 * range a gap may declare lost (fromSeq = head + 1, toSeq = lowest held - 1).
 */
export function declarableGap(s: SeqState): [number, number] | undefined {
  const g = s.gaps[0]
  return g && g[0] === s.contiguous + 1 && g[1] < s.highest ? [g[0], g[1]] : undefined
}

/** The state after declaring the first missing range lost: the head moves to its end. */
export function declareLost(s: SeqState, fromSeq: number, toSeq: number): SeqState {
  const g = declarableGap(s)
  if (!g || g[0] !== fromSeq || g[1] !== toSeq)
    throw new RangeError(`only ${g ? `${g[0]}..${g[1]}` : 'no range'} can be declared lost, not ${fromSeq}..${toSeq}`)
  return { contiguous: toSeq, highest: s.highest, gaps: s.gaps.slice(1) }
}

/**
 * The state after seqs from..to were declared lost for good: they leave the missing ranges, so the
 * contiguous head moves past them when they were the first hole. Only missing seqs are settled,
 * so the head always stays on a stored reading. Does not modify `s`.
 */
export function declareRange(s: SeqState, from: number, to: number): SeqState {
  const gaps: [number, number][] = []
  for (const [a, b] of s.gaps) {
    if (b < from || a > to) {
      gaps.push([a, b])
      continue
    }
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

/** Number of held sequences (neither chained nor missing). */
export function heldCount(s: SeqState): number {
  return s.highest - s.contiguous - missingCount(s)
}
