/**
 * The axes: x is linear in device time (ms) with our own tick labels on whole
 * UTC steps, so no date adapter is needed; y is °C around the allowed range.
 */
import type { ChartOptions } from 'chart.js'
import { formatTimeTick, timeTickStep } from '../../common/format.ts'
import { yRange } from '../series.ts'
import type { ChartInput } from './input.ts'
import { GRID_COLOR, TICK_COLOR } from './palette.ts'

/** A tick step on whole UTC minutes/hours (multiples since the epoch) for the data's span. */
export function xStep(b: { xMin: number; xMax: number }): number {
  return Number.isFinite(b.xMin) ? timeTickStep(Math.max(60_000, b.xMax - b.xMin), 8) : 3600_000
}

export function scaleBounds(input: ChartInput, values: number[]): { yMin: number; yMax: number } {
  const { min, max } = yRange(values, { minC: input.minC, maxC: input.maxC })
  return { yMin: min, yMax: max }
}

/** Widened to whole tick steps (UTC multiples), so the axis labels of a zoom are round times too. */
export function snapSpan(from: number, to: number): { from: number; to: number; step: number } {
  const step = timeTickStep(Math.max(60_000, to - from), 8)
  const f = Math.floor(from / step) * step
  return { from: f, to: Math.max(Math.ceil(to / step) * step, f + step), step }
}

export function scaleOptions(stepSize: number, y: { yMin: number; yMax: number }): ChartOptions<'line'>['scales'] {
  return {
    x: {
      type: 'linear',
      grid: { color: GRID_COLOR },
      // bounds 'ticks' (the default) widens the axis to whole steps, so labels fall on round times.
      ticks: {
        stepSize,
        maxTicksLimit: 12,
        color: TICK_COLOR,
        callback(value) {
          const span = (this.max as number) - (this.min as number)
          return formatTimeTick(Number(value), span)
        },
      },
      title: { display: true, text: 'Device time (UTC)', color: '#6b7684' },
    },
    y: {
      type: 'linear',
      min: y.yMin,
      max: y.yMax,
      grid: { color: GRID_COLOR },
      ticks: { color: TICK_COLOR, callback: (v) => `${Number(v).toFixed(0)} °C` },
    },
  }
}
