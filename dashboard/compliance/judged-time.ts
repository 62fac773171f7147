/**
 * Judged time: the part of the time line on which a sensor is held to the
 * rules. It is the shipment window [startMs, endMs) shortened by the profile's
 * start and stop delays (the logger is packed and unpacked), less the windows
 * in which it is not judged (legs where another system watches the goods, such
 * as a GDP-qualified warehouse). All intervals are half-open [a, b) in ms;
 * an open-ended window runs to +Infinity (never serialised).
 */
export interface TimeWindow {
  startMs: number
  endMs?: number | null
}
export interface UnjudgedWindow {
  startMs: number
  endMs: number
  reason: string
}
export type Span = readonly [number, number]

/** Sorted, disjoint, non-empty spans of judged time. */
export function judgedSpans(
  window: TimeWindow,
  startDelayMs: number,
  stopDelayMs: number,
  unjudged: readonly UnjudgedWindow[],
): Span[] {
  const a = window.startMs + startDelayMs
  const b = window.endMs === undefined || window.endMs === null ? Infinity : window.endMs - stopDelayMs
  let spans: Span[] = a < b ? [[a, b]] : []
  const cuts = [...unjudged].sort((x, y) => x.startMs - y.startMs || x.endMs - y.endMs)
  for (const c of cuts) {
    const next: Span[] = []
    for (const [s, e] of spans) {
      if (c.endMs <= s || c.startMs >= e) {
        next.push([s, e])
        continue
      }
      if (c.startMs > s) next.push([s, c.startMs])
      if (c.endMs < e) next.push([c.endMs, e])
    }
    spans = next
  }
  return spans
}

export function isJudged(spans: readonly Span[], t: number): boolean {
  for (const [s, e] of spans) {
    if (t < s) return false
    if (t < e) return true
  }
  return false
}

/** Length of judged time inside [a, b). */
export function judgedLength(spans: readonly Span[], a: number, b: number): number {
  let n = 0
  for (const [s, e] of spans) {
    const lo = Math.max(s, a)
    const hi = Math.min(e, b)
    if (hi > lo) n += hi - lo
  }
  return n
}

/** Whether a judged-span boundary lies strictly inside (a, b), i.e. `pieces` would cut [a, b). */
export function cutInside(spans: readonly Span[], a: number, b: number): boolean {
  for (const [s, e] of spans) if ((s > a && s < b) || (e > a && e < b)) return true
  return false
}

/** [a, b) cut at every judged-span boundary inside it, each piece marked judged or not. */
export function pieces(spans: readonly Span[], a: number, b: number): { a: number; b: number; judged: boolean }[] {
  const cuts = [a]
  for (const [s, e] of spans) {
    if (s > a && s < b) cuts.push(s)
    if (e > a && e < b) cuts.push(e)
  }
  cuts.push(b)
  const out: { a: number; b: number; judged: boolean }[] = []
  for (let i = 0; i + 1 < cuts.length; i++) {
    if (cuts[i + 1] > cuts[i]) out.push({ a: cuts[i], b: cuts[i + 1], judged: isJudged(spans, cuts[i]) })
  }
  return out
}
