/**
 * The shipment temperature chart (chart.js v4, only the parts it uses are
 * registered so esbuild can drop the rest). This file puts it together; the
 * parts live in chart/: datasets (a line per sensor), axes (device-time ticks,
 * °C range), legend (legend and tooltip), overlay with bands and markers (the
 * allowed range, gaps, excursions, faults, alarms), zoom (drag to zoom),
 * describe (the canvas in words).
 */
import { Chart, LineController, LineElement, PointElement, LinearScale, Tooltip, Legend } from 'chart.js'
import type { ChartPoint } from './series.ts'
import { scaleBounds, scaleOptions, xStep } from './chart/axes.ts'
import { datasetsFor, type BuiltSeries } from './chart/datasets.ts'
import { describe } from './chart/describe.ts'
import type { ChartInput } from './chart/input.ts'
import { legendAndTooltip } from './chart/legend.ts'
import { overlayPlugin, overlays } from './chart/overlay.ts'
import { attachZoom } from './chart/zoom.ts'

export type { ChartInput } from './chart/input.ts'

Chart.register(LineController, LineElement, PointElement, LinearScale, Tooltip, Legend)

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

/** Hands the overlay plugin what it draws beside the lines, and says it in words on the canvas. */
function setOverlay(
  chart: Chart<'line', ChartPoint[]>,
  canvas: HTMLCanvasElement,
  input: ChartInput,
  built: BuiltSeries,
): void {
  overlays.set(chart, {
    minC: input.minC,
    maxC: input.maxC,
    excursions: input.excursions,
    alarms: input.alarms,
    gaps: built.gaps,
    faults: built.faults,
  })
  describe(canvas, built.datasets, built.faults.length)
}

/** Creates the chart on `canvas`. Call update() with new input for live readings; a zoom survives them. */
export function createTemperatureChart(canvas: HTMLCanvasElement, input: ChartInput): TemperatureChart {
  const built = datasetsFor(input)
  const chart = new Chart<'line', ChartPoint[]>(canvas, {
    type: 'line',
    data: { datasets: built.datasets },
    plugins: [overlayPlugin],
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'nearest', intersect: false, axis: 'x' },
      scales: scaleOptions(xStep(built), scaleBounds(input, built.values)),
      plugins: legendAndTooltip(),
    },
  })
  setOverlay(chart, canvas, input, built)
  chart.update('none')
  const zoom = attachZoom(chart, canvas, xStep(built))

  return {
    chart,
    zoom: zoom.zoom,
    resetZoom: zoom.reset,
    onZoom: zoom.onZoom,
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
      zoom.setDataStep(xStep(nb))
      setOverlay(chart, canvas, next, nb)
      chart.update('none')
    },
    destroy() {
      zoom.detach()
      chart.destroy()
    },
  }
}
