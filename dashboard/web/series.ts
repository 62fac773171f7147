/**
 * Turns a sensor's readings into chart points. Pure (no DOM, no chart.js), so
 * the rules are tested in Node: a gap longer than the profile's allowed
 * interval becomes a break in the line (a null point, drawn with spanGaps
 * false), never an interpolated segment; readings are placed at their device
 * time; a reading stored long after it was measured (a buffer emptying after a
 * dead zone) is marked late, never shown as live.
 */

export interface SeriesReading {
  /** Device time of the sample, ms UTC: where it is drawn. */
  t: number
  /** °C */
  tempC: number
  /** Ledger receive time, ms UTC, when known. */
  receivedAt?: number
  /** Set by the server when it already classified the reading. */
  late?: boolean
  /** The device flagged the probe as faulty: the value is not a measurement. */
  fault?: boolean
}

export interface ChartPoint {
  x: number
  /** null breaks the line (a gap). */
  y: number | null
  late?: boolean
  fault?: boolean
}

/**
 * A reading is late when the ledger stored it more than `thresholdMs` after
 * the device measured it. The server's own flag wins when it sent one.
 */
export function isLate(r: SeriesReading, thresholdMs: number): boolean {
  if (typeof r.late === 'boolean') return r.late
  return r.receivedAt !== undefined && r.receivedAt - r.t > thresholdMs
}

/**
 * Default lateness threshold: a reading that took longer than the allowed gap
 * (or a minute, if the profile allows less) to reach the ledger did not arrive
 * live. A gap shorter than the profile's is not a dead zone.
 */
export function lateThreshold(maxGapMs: number | undefined): number {
  return Math.max(60_000, maxGapMs ?? 0)
}

/**
 * Sorted chart points for one sensor, with a null point inserted in every
 * interval longer than `maxGapMs` (so chart.js with spanGaps:false leaves a
 * hole there). Fault readings are dropped from the line (a fault value is not
 * a temperature) and reported separately by `faultTimes`.
 */
export function toChartPoints(
  readings: readonly SeriesReading[],
  maxGapMs: number | undefined,
  lateMs = lateThreshold(maxGapMs),
): ChartPoint[] {
  const sorted = readings
    .filter((r) => !r.fault && Number.isFinite(r.t) && Number.isFinite(r.tempC))
    .sort((a, b) => a.t - b.t)
  const out: ChartPoint[] = []
  let prev: number | undefined
  for (const r of sorted) {
    if (prev !== undefined && maxGapMs !== undefined && maxGapMs > 0 && r.t - prev > maxGapMs) {
      out.push({ x: prev + (r.t - prev) / 2, y: null })
    }
    const p: ChartPoint = { x: r.t, y: r.tempC }
    if (isLate(r, lateMs)) p.late = true
    out.push(p)
    prev = r.t
  }
  return out
}

export interface Gap {
  from: number
  to: number
  durationMs: number
}

/** The intervals longer than `maxGapMs` between consecutive readings (device time). */
export function findGaps(readings: readonly SeriesReading[], maxGapMs: number | undefined): Gap[] {
  if (maxGapMs === undefined || maxGapMs <= 0) return []
  const ts = readings
    .map((r) => r.t)
    .filter(Number.isFinite)
    .sort((a, b) => a - b)
  const gaps: Gap[] = []
  for (let i = 1; i < ts.length; i++) {
    if (ts[i] - ts[i - 1] > maxGapMs) gaps.push({ from: ts[i - 1], to: ts[i], durationMs: ts[i] - ts[i - 1] })
  }
  return gaps
}

/** The readings that arrived late, in device-time order. */
export function lateReadings<R extends SeriesReading>(readings: readonly R[], lateMs: number): R[] {
  return readings.filter((r) => isLate(r, lateMs)).sort((a, b) => a.t - b.t)
}

/** The [min, max] of the y axis: every reading and the allowed band, with a margin. */
export function yRange(
  values: Iterable<number>,
  band: { minC?: number | null; maxC?: number | null },
): { min: number; max: number } {
  let lo = Infinity
  let hi = -Infinity
  for (const v of values) {
    if (!Number.isFinite(v)) continue
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  for (const b of [band.minC, band.maxC]) {
    if (typeof b === 'number' && Number.isFinite(b)) {
      if (b < lo) lo = b
      if (b > hi) hi = b
    }
  }
  if (!Number.isFinite(lo)) return { min: 0, max: 10 }
  const margin = Math.max(1, (hi - lo) * 0.12)
  return { min: Math.floor(lo - margin), max: Math.ceil(hi + margin) }
}
