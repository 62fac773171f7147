/**
 * The shipment temperature chart (chart.js v4, only the parts it uses are
 * registered so esbuild can drop the rest). The x axis is linear in device
 * time (ms) with our own tick labels, so no date adapter is needed. A small
 * plugin draws what chart.js has no element for: the allowed range as a band,
 * excursions as shaded spans, data gaps, and alarm markers.
 *
 * Zoom: drag across the plot with a mouse or pen to show only that span of
 * device time (the selection is drawn while dragging); `resetZoom()` shows
 * everything again. Small and our own: chartjs-plugin-zoom is not a dependency.
 * A touch drag is left to scroll the page.
 */
import {
  Chart,
  LineController,
  LineElement,
  PointElement,
  LinearScale,
  Tooltip,
  Legend,
  type ChartDataset,
  type Plugin,
  type TooltipItem,
} from 'chart.js'
import { formatDateTimeSec, formatDuration, formatTemp, formatTimeTick, timeTickStep } from '../common/format.ts'
import { findGaps, lateThreshold, toChartPoints, yRange, type ChartPoint, type Gap } from './series.ts'
import type { AlarmView, ExcursionView, ReadingView } from './types.ts'

Chart.register(LineController, LineElement, PointElement, LinearScale, Tooltip, Legend)

/** Okabe–Ito colours (vermillion is kept for excursions and alarms), each with its own dash so lines differ without colour. */
const SENSOR_STYLES: { color: string; dash: number[] }[] = [
  { color: '#0072b2', dash: [] },
  { color: '#e69f00', dash: [6, 3] },
  { color: '#009e73', dash: [2, 2] },
  { color: '#cc79a7', dash: [8, 3, 2, 3] },
  { color: '#56b4e9', dash: [] },
  { color: '#000000', dash: [4, 4] },
]
const BAND_FILL = 'rgba(0, 158, 115, 0.10)'
const BAND_LINE = 'rgba(0, 128, 92, 0.55)'
const EXCURSION_FILL = 'rgba(213, 94, 0, 0.14)'
const ALARM_COLOR = '#c2410c'
const GAP_FILL = 'rgba(107, 118, 132, 0.10)'
const LATE_COLOR = '#6a3d8f'
const FAULT_COLOR = 'rgba(200, 30, 30, 0.75)'

export interface ChartInput {
  readings: ReadingView[]
  minC: number | null
  maxC: number | null
  maxGapMs?: number
  lateAfterMs?: number
  excursions: ExcursionView[]
  alarms: AlarmView[]
}

interface Overlay {
  minC: number | null
  maxC: number | null
  excursions: ExcursionView[]
  alarms: AlarmView[]
  gaps: (Gap & { deviceId: string })[]
  /** Runs of consecutive SENSOR_FAULT readings of one device: their values are not temperatures. */
  faults: { from: number; to: number; deviceId: string }[]
}

interface LatePoint extends ChartPoint {
  receivedAt?: number
  seq?: number
}

const overlays = new WeakMap<Chart, Overlay>()
/** The x-pixel span being dragged out, while a zoom selection is in progress. */
const selections = new WeakMap<Chart, { from: number; to: number }>()
const SELECT_FILL = 'rgba(11, 92, 173, 0.12)'
const SELECT_LINE = 'rgba(11, 92, 173, 0.7)'
/** A drag shorter than this is a click (tooltips), not a zoom. */
const MIN_DRAG_PX = 8

/** Draws band, gaps and excursions under the lines, alarm markers above them. */
const overlayPlugin: Plugin<'line'> = {
  id: 'coldproofOverlay',
  beforeDatasetsDraw(chart) {
    const o = overlays.get(chart)
    if (!o) return
    const { ctx, chartArea: a, scales } = chart
    const x = scales.x
    const y = scales.y
    ctx.save()
    ctx.beginPath()
    ctx.rect(a.left, a.top, a.right - a.left, a.bottom - a.top)
    ctx.clip()
    // The allowed range (label statement): a band; an open side runs to the edge.
    const top = o.maxC === null ? a.top : y.getPixelForValue(o.maxC)
    const bottom = o.minC === null ? a.bottom : y.getPixelForValue(o.minC)
    ctx.fillStyle = BAND_FILL
    ctx.fillRect(a.left, top, a.right - a.left, bottom - top)
    ctx.strokeStyle = BAND_LINE
    ctx.setLineDash([5, 4])
    ctx.lineWidth = 1
    for (const lim of [o.minC, o.maxC]) {
      if (lim === null) continue
      const py = Math.round(y.getPixelForValue(lim)) + 0.5
      ctx.beginPath()
      ctx.moveTo(a.left, py)
      ctx.lineTo(a.right, py)
      ctx.stroke()
    }
    ctx.setLineDash([])
    // Data gaps: greyed, labelled; the lines themselves break there (spanGaps false).
    ctx.fillStyle = GAP_FILL
    const several = chart.data.datasets.length > 1
    ctx.font = '11px system-ui, sans-serif'
    ctx.textAlign = 'center'
    for (const g of o.gaps) {
      const x0 = x.getPixelForValue(g.from)
      const x1 = x.getPixelForValue(g.to)
      ctx.fillRect(x0, a.top, x1 - x0, a.bottom - a.top)
      // With several sensors, say whose data is missing: the others may have data there.
      const long = several ? `no data: ${g.deviceId}` : 'no data'
      const label =
        ctx.measureText(long).width + 8 < x1 - x0
          ? long
          : ctx.measureText('no data').width + 8 < x1 - x0
            ? 'no data'
            : ''
      if (label) {
        ctx.fillStyle = '#4a5565'
        ctx.fillText(label, (x0 + x1) / 2, a.bottom - 8)
        ctx.fillStyle = GAP_FILL
      }
    }
    // Excursions: the span of device time beyond a limit.
    ctx.fillStyle = EXCURSION_FILL
    const end = x.max
    for (const e of o.excursions) {
      const x0 = x.getPixelForValue(e.from)
      const x1 = x.getPixelForValue(e.to ?? end)
      ctx.fillRect(x0, a.top, Math.max(2, x1 - x0), a.bottom - a.top)
    }
    // Sensor faults: a red hatched column (legend "Sensor fault"); the line breaks there.
    ctx.strokeStyle = FAULT_COLOR
    ctx.lineWidth = 1
    for (const f of o.faults) {
      const x0 = x.getPixelForValue(f.from) - 2
      const x1 = Math.max(x0 + 4, x.getPixelForValue(f.to) + 2)
      ctx.save()
      ctx.beginPath()
      ctx.rect(x0, a.top, x1 - x0, a.bottom - a.top)
      ctx.clip()
      ctx.beginPath()
      for (let d = -(a.bottom - a.top); d < x1 - x0; d += 6) {
        ctx.moveTo(x0 + d, a.bottom)
        ctx.lineTo(x0 + d + (a.bottom - a.top), a.top)
      }
      ctx.stroke()
      ctx.restore()
    }
    ctx.restore()
  },
  afterDatasetsDraw(chart) {
    const o = overlays.get(chart)
    if (!o) return
    const { ctx, chartArea: a, scales } = chart
    ctx.save()
    for (const al of o.alarms) {
      const px = scales.x.getPixelForValue(al.at)
      if (px < a.left - 1 || px > a.right + 1) continue
      ctx.strokeStyle = ALARM_COLOR
      ctx.lineWidth = 1.5
      ctx.setLineDash([3, 3])
      ctx.beginPath()
      ctx.moveTo(px, a.top + 10)
      ctx.lineTo(px, a.bottom)
      ctx.stroke()
      ctx.setLineDash([])
      // A filled triangle with "!" on top: the marker reads as an alarm without colour.
      ctx.fillStyle = al.state === 'open' ? ALARM_COLOR : '#ffffff'
      ctx.beginPath()
      ctx.moveTo(px, a.top + 12)
      ctx.lineTo(px - 7, a.top)
      ctx.lineTo(px + 7, a.top)
      ctx.closePath()
      ctx.fill()
      ctx.strokeStyle = ALARM_COLOR
      ctx.stroke()
    }
    const sel = selections.get(chart)
    if (sel) {
      const x0 = Math.max(a.left, Math.min(sel.from, sel.to))
      const x1 = Math.min(a.right, Math.max(sel.from, sel.to))
      ctx.fillStyle = SELECT_FILL
      ctx.fillRect(x0, a.top, x1 - x0, a.bottom - a.top)
      ctx.strokeStyle = SELECT_LINE
      ctx.lineWidth = 1
      ctx.strokeRect(x0 + 0.5, a.top + 0.5, x1 - x0 - 1, a.bottom - a.top - 1)
    }
    ctx.restore()
  },
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

function datasetsFor(input: ChartInput): {
  datasets: ChartDataset<'line', ChartPoint[]>[]
  gaps: Overlay['gaps']
  faults: Overlay['faults']
  values: number[]
  xMin: number
  xMax: number
} {
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

/** A tick step on whole UTC minutes/hours (multiples since the epoch) for the data's span. */
function xStep(b: { xMin: number; xMax: number }): number {
  return Number.isFinite(b.xMin) ? timeTickStep(Math.max(60_000, b.xMax - b.xMin), 8) : 3600_000
}

function scaleBounds(input: ChartInput, values: number[]): { yMin: number; yMax: number } {
  const { min, max } = yRange(values, { minC: input.minC, maxC: input.maxC })
  return { yMin: min, yMax: max }
}

/**
 * Says what the canvas shows in words (for screen readers, and for tests,
 * which cannot read pixels): sensors, readings, breaks for gaps, late readings.
 */
function describe(canvas: HTMLCanvasElement, datasets: ChartDataset<'line', ChartPoint[]>[], faults: number): void {
  let readings = 0
  let gaps = 0
  let late = 0
  for (const d of datasets) {
    for (const p of d.data) {
      if (p.y === null) gaps++
      else readings++
      if (p.late) late++
    }
  }
  canvas.dataset.sensors = String(datasets.length)
  canvas.dataset.readings = String(readings)
  canvas.dataset.gaps = String(gaps)
  canvas.dataset.late = String(late)
  canvas.dataset.faults = String(faults)
  canvas.setAttribute(
    'aria-label',
    `Temperature of ${datasets.length} sensor${datasets.length === 1 ? '' : 's'} over device time: ${readings} readings, ${gaps} gap${gaps === 1 ? '' : 's'} shown as breaks, ${late} late reading${late === 1 ? '' : 's'}, ${faults} sensor-fault period${faults === 1 ? '' : 's'} (hatched red); the allowed range is drawn as a band.`,
  )
}

export interface TemperatureChart {
  chart: Chart<'line', ChartPoint[]>
  update(next: ChartInput): void
  /** Shows only device times [from, to] (ms); the x ticks follow the span. */
  zoom(from: number, to: number): void
  resetZoom(): void
  /** Called with the shown span after every zoom, null after a reset. */
  onZoom(cb: (span: { from: number; to: number } | null) => void): void
  destroy(): void
}

/** Creates the chart on `canvas`. Call update() with new input for live readings; a zoom survives them. */
export function createTemperatureChart(canvas: HTMLCanvasElement, input: ChartInput): TemperatureChart {
  const built = datasetsFor(input)
  const b = scaleBounds(input, built.values)
  const chart = new Chart<'line', ChartPoint[]>(canvas, {
    type: 'line',
    data: { datasets: built.datasets },
    plugins: [overlayPlugin],
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'nearest', intersect: false, axis: 'x' },
      scales: {
        x: {
          type: 'linear',
          grid: { color: '#eef1f5' },
          // bounds 'ticks' (the default) widens the axis to whole steps, so labels fall on round times.
          ticks: {
            stepSize: xStep(built),
            maxTicksLimit: 12,
            color: '#4a5565',
            callback(value) {
              const span = (this.max as number) - (this.min as number)
              return formatTimeTick(Number(value), span)
            },
          },
          title: { display: true, text: 'Device time (UTC)', color: '#6b7684' },
        },
        y: {
          type: 'linear',
          min: b.yMin,
          max: b.yMax,
          grid: { color: '#eef1f5' },
          ticks: { color: '#4a5565', callback: (v) => `${Number(v).toFixed(0)} °C` },
        },
      },
      plugins: {
        legend: { position: 'top', align: 'end', labels: { boxWidth: 18, boxHeight: 2, color: '#17202c' } },
        tooltip: {
          callbacks: {
            title: (items: TooltipItem<'line'>[]) =>
              items.length ? formatDateTimeSec((items[0].raw as ChartPoint).x) : '',
            label: (item: TooltipItem<'line'>) => {
              const p = item.raw as LatePoint
              const base = `${item.dataset.label}: ${formatTemp(p.y, 2)}`
              return p.late
                ? `${base} — late, stored ${p.receivedAt !== undefined ? formatDuration(p.receivedAt - p.x) + ' after sampling' : 'after a dead zone'}`
                : base
            },
          },
        },
      },
    },
  })
  overlays.set(chart, {
    minC: input.minC,
    maxC: input.maxC,
    excursions: input.excursions,
    alarms: input.alarms,
    gaps: built.gaps,
    faults: built.faults,
  })
  describe(canvas, built.datasets, built.faults.length)
  chart.update('none')

  let zoomed: { from: number; to: number; step: number } | null = null
  let dataStep = xStep(built)
  const zoomListeners: ((span: { from: number; to: number } | null) => void)[] = []
  const applyX = () => {
    const x = chart.options.scales?.x
    if (!x) return
    x.min = zoomed?.from
    x.max = zoomed?.to
    if (x.ticks) (x.ticks as { stepSize?: number }).stepSize = zoomed ? zoomed.step : dataStep
    // For tests and screen readers: the device-time span on show.
    if (zoomed) {
      canvas.dataset.zoomFrom = String(Math.round(zoomed.from))
      canvas.dataset.zoomTo = String(Math.round(zoomed.to))
    } else {
      delete canvas.dataset.zoomFrom
      delete canvas.dataset.zoomTo
    }
  }
  // Widened to whole tick steps (UTC multiples), so the axis labels of a zoom are round times too.
  const snap = (from: number, to: number) => {
    const step = timeTickStep(Math.max(60_000, to - from), 8)
    const f = Math.floor(from / step) * step
    return { from: f, to: Math.max(Math.ceil(to / step) * step, f + step), step }
  }
  const setZoom = (span: { from: number; to: number; step: number } | null) => {
    zoomed = span
    applyX()
    chart.update('none')
    for (const cb of zoomListeners) cb(span && { from: span.from, to: span.to })
  }

  // Drag to zoom: pointer events, captured so the drag may end outside the canvas.
  const pxOf = (ev: PointerEvent) => ev.clientX - canvas.getBoundingClientRect().left
  const inArea = (px: number, py: number) =>
    px >= chart.chartArea.left &&
    px <= chart.chartArea.right &&
    py >= chart.chartArea.top &&
    py <= chart.chartArea.bottom
  const onDown = (ev: PointerEvent) => {
    if (ev.pointerType === 'touch' || ev.button !== 0) return
    const px = pxOf(ev)
    if (!inArea(px, ev.clientY - canvas.getBoundingClientRect().top)) return
    selections.set(chart, { from: px, to: px })
    canvas.setPointerCapture(ev.pointerId)
  }
  const onMove = (ev: PointerEvent) => {
    const sel = selections.get(chart)
    if (!sel) return
    sel.to = pxOf(ev)
    chart.draw()
  }
  const onUp = (ev: PointerEvent) => {
    const sel = selections.get(chart)
    if (!sel) return
    selections.delete(chart)
    if (canvas.hasPointerCapture(ev.pointerId)) canvas.releasePointerCapture(ev.pointerId)
    const a = chart.chartArea
    const p0 = Math.max(a.left, Math.min(sel.from, sel.to))
    const p1 = Math.min(a.right, Math.max(sel.from, sel.to))
    if (p1 - p0 < MIN_DRAG_PX) {
      chart.draw()
      return
    }
    const from = chart.scales.x.getValueForPixel(p0)
    const to = chart.scales.x.getValueForPixel(p1)
    if (from === undefined || to === undefined || !(to > from)) {
      chart.draw()
      return
    }
    setZoom(snap(from, to))
  }
  const onCancel = () => {
    if (selections.delete(chart)) chart.draw()
  }
  canvas.addEventListener('pointerdown', onDown)
  canvas.addEventListener('pointermove', onMove)
  canvas.addEventListener('pointerup', onUp)
  canvas.addEventListener('pointercancel', onCancel)

  return {
    chart,
    zoom(from, to) {
      if (to > from) setZoom(snap(from, to))
    },
    resetZoom() {
      setZoom(null)
    },
    onZoom(cb) {
      zoomListeners.push(cb)
    },
    update(next: ChartInput) {
      const nb = datasetsFor(next)
      const bounds = scaleBounds(next, nb.values)
      // Reuse dataset objects by label so chart.js keeps the legend state (hidden sensors stay hidden).
      const old = new Map(chart.data.datasets.map((d) => [d.label, d]))
      chart.data.datasets = nb.datasets.map((d) => {
        const o = old.get(d.label)
        if (o) {
          o.data = d.data
          return o
        }
        return d
      })
      const y = chart.options.scales?.y
      if (y) {
        y.min = bounds.yMin
        y.max = bounds.yMax
      }
      dataStep = xStep(nb)
      applyX()
      overlays.set(chart, {
        minC: next.minC,
        maxC: next.maxC,
        excursions: next.excursions,
        alarms: next.alarms,
        gaps: nb.gaps,
        faults: nb.faults,
      })
      describe(canvas, nb.datasets, nb.faults.length)
      chart.update('none')
    },
    destroy() {
      canvas.removeEventListener('pointerdown', onDown)
      canvas.removeEventListener('pointermove', onMove)
      canvas.removeEventListener('pointerup', onUp)
      canvas.removeEventListener('pointercancel', onCancel)
      chart.destroy()
    },
  }
}
