/** One chart.js line per sensor, with the gaps and fault runs the overlay draws. */
import type { ChartDataset } from 'chart.js'
import { findGaps, lateThreshold, toChartPoints, type ChartPoint } from '../series.ts'
import type { ReadingView } from '../types.ts'
import type { ChartInput, LatePoint, Overlay } from './input.ts'
import { LATE_COLOR, SENSOR_STYLES } from './palette.ts'

export interface BuiltSeries {
  datasets: ChartDataset<'line', ChartPoint[]>[]
  gaps: Overlay['gaps']
  faults: Overlay['faults']
  values: number[]
  xMin: number
  xMax: number
}

/** Consecutive fault readings (by seq) of each device merged into runs. */
function faultRuns(deviceId: string, list: readonly ReadingView[]): Overlay['faults'] {
  const out: Overlay['faults'] = []
  let run: Overlay['faults'][number] | null = null
  for (const r of [...list].sort((a, b) => a.t - b.t)) {
    if (!r.fault) {
      run = null
      continue
    }
    if (run) run.to = r.t
    else {
      run = { from: r.t, to: r.t, deviceId }
      out.push(run)
    }
  }
  return out
}

export function datasetsFor(input: ChartInput): BuiltSeries {
  const lateMs = input.lateAfterMs ?? lateThreshold(input.maxGapMs)
  const byDevice = new Map<string, ReadingView[]>()
  for (const r of input.readings) {
    const list = byDevice.get(r.deviceId) ?? []
    list.push(r)
    byDevice.set(r.deviceId, list)
  }
  const datasets: ChartDataset<'line', ChartPoint[]>[] = []
  const gaps: Overlay['gaps'] = []
  const faults: Overlay['faults'] = []
  const values: number[] = []
  let xMin = Infinity
  let xMax = -Infinity
  let i = 0
  for (const [deviceId, list] of [...byDevice.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const style = SENSOR_STYLES[i++ % SENSOR_STYLES.length]
    const points: LatePoint[] = toChartPoints(list, input.maxGapMs, lateMs)
    // Keep receive time and seq on late points for the tooltip.
    const byT = new Map(list.map((r) => [r.t, r]))
    for (const p of points) {
      if (p.y !== null) values.push(p.y)
      if (p.x < xMin) xMin = p.x
      if (p.x > xMax) xMax = p.x
      if (p.late) {
        const r = byT.get(p.x)
        p.receivedAt = r?.receivedAt
        p.seq = r?.seq
      }
    }
    for (const g of findGaps(
      list.filter((r) => !r.fault),
      input.maxGapMs,
    ))
      gaps.push({ ...g, deviceId })
    faults.push(...faultRuns(deviceId, list))
    const dense = points.length > 150
    datasets.push({
      label: deviceId,
      data: points,
      parsing: false,
      normalized: true,
      spanGaps: false, // a gap is never interpolated
      borderColor: style.color,
      backgroundColor: style.color,
      borderDash: style.dash,
      borderWidth: 2,
      tension: 0,
      pointStyle: (ctx) => ((ctx.raw as ChartPoint | undefined)?.late ? 'rectRot' : 'circle'),
      pointRadius: (ctx) => ((ctx.raw as ChartPoint | undefined)?.late ? 4.5 : dense ? 0 : 2.5),
      pointHoverRadius: 5,
      pointBackgroundColor: (ctx) => ((ctx.raw as ChartPoint | undefined)?.late ? '#ffffff' : style.color),
      pointBorderColor: (ctx) => ((ctx.raw as ChartPoint | undefined)?.late ? LATE_COLOR : style.color),
      pointBorderWidth: (ctx) => ((ctx.raw as ChartPoint | undefined)?.late ? 2 : 1),
    })
  }
  return { datasets, gaps, faults, values, xMin, xMax }
}
