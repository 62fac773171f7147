/** What the chart is drawn from, and what its overlay plugin draws beside the lines. */
import type { ChartPoint, Gap } from '../series.ts'
import type { AlarmView, ExcursionView, ReadingView } from '../types.ts'

export interface ChartInput {
  readings: ReadingView[]
  minC: number | null
  maxC: number | null
  maxGapMs?: number
  lateAfterMs?: number
  excursions: ExcursionView[]
  alarms: AlarmView[]
}

export interface Overlay {
  minC: number | null
  maxC: number | null
  excursions: ExcursionView[]
  alarms: AlarmView[]
  gaps: (Gap & { deviceId: string })[]
  /** Runs of consecutive SENSOR_FAULT readings of one device: their values are not temperatures. */
  faults: { from: number; to: number; deviceId: string }[]
}

/** A point that keeps receive time and seq when late, for the tooltip. */
export interface LatePoint extends ChartPoint {
  receivedAt?: number
  seq?: number
}
