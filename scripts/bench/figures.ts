/**
 * A measured figure: every value the benchmark prints comes from here, with
 * its unit, its run count and its spread (min / median / max over the runs).
 * A figure is only ever built from measured values; an empty or non-finite
 * list is a stage that did not run, and throws.
 */
export interface Figure {
  /** Stable key in the JSON file, e.g. "limits.verify_one_core". */
  id: string
  section: string
  name: string
  unit: string
  /** How many runs (or samples) the spread is taken over. */
  runs: number
  min: number
  median: number
  max: number
  /** Higher is better (rates) or lower is better (times, memory); decides the target check. */
  better: 'higher' | 'lower'
  note?: string
}

export class StageFailed extends Error {
  override name = 'StageFailed'
  constructor(
    readonly stage: string,
    message: string,
  ) {
    super(`bench stage "${stage}" did not run: ${message}`)
  }
}

export function median(sorted: number[]): number {
  const n = sorted.length
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
}

/** The q-quantile (0..1) of a sorted list, nearest rank. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('quantile of an empty list')
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}

export function figure(
  id: string,
  section: string,
  name: string,
  unit: string,
  values: number[],
  better: Figure['better'],
  note?: string,
): Figure {
  if (values.length === 0) throw new StageFailed(id, 'no value was measured')
  const bad = values.find((v) => !Number.isFinite(v) || v < 0)
  if (bad !== undefined) throw new StageFailed(id, `measured a non-finite or negative value (${bad})`)
  const sorted = [...values].sort((a, b) => a - b)
  return {
    id,
    section,
    name,
    unit,
    runs: values.length,
    min: sorted[0],
    median: median(sorted),
    max: sorted[sorted.length - 1],
    better,
    ...(note ? { note } : {}),
  }
}

/** Runs `body` `runs` times and returns each run's value. */
export async function repeat<T = number>(runs: number, body: (run: number) => Promise<T> | T): Promise<T[]> {
  const out: T[] = []
  for (let r = 0; r < runs; r++) out.push(await body(r))
  return out
}

/** Ops per second of a synchronous body run for `budgetMs` (after a short warm-up). */
export function rateSync(budgetMs: number, body: (i: number) => void): number {
  for (let i = 0; i < 50; i++) body(i)
  const start = performance.now()
  let ops = 0
  while (performance.now() - start < budgetMs) for (let k = 0; k < 20; k++) body(ops++)
  return (ops * 1000) / (performance.now() - start)
}

/** Milliseconds per call of an async body, one sample per call. */
export async function timeEach(samples: number, body: (i: number) => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < Math.min(20, samples); i++) await body(i)
  const out: number[] = []
  for (let i = 0; i < samples; i++) {
    const t = performance.now()
    await body(i)
    out.push(performance.now() - t)
  }
  return out
}

/** Wall-clock ms comparable across the processes of one machine (publishers stamp, the server reads). */
export const wallMs = (): number => performance.timeOrigin + performance.now()
