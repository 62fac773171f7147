/**
 * A small chart.js plugin for what chart.js has no element for: bands, gaps,
 * excursions and faults under the lines; alarm markers and the zoom selection
 * above them. Its state is kept per chart, beside it.
 */
import type { Chart, Plugin } from 'chart.js'
import { drawExcursions, drawFaults, drawGaps, drawLimitBand } from './bands.ts'
import type { Overlay } from './input.ts'
import { drawAlarms, drawSelection } from './markers.ts'

export const overlays = new WeakMap<Chart, Overlay>()
/** The x-pixel span being dragged out, while a zoom selection is in progress. */
export const selections = new WeakMap<Chart, { from: number; to: number }>()

export const overlayPlugin: Plugin<'line'> = {
  id: 'coldproofOverlay',
  beforeDatasetsDraw(chart) {
    const o = overlays.get(chart)
    if (!o) return
    const { ctx, chartArea: a, scales } = chart
    ctx.save()
    ctx.beginPath()
    ctx.rect(a.left, a.top, a.right - a.left, a.bottom - a.top)
    ctx.clip()
    drawLimitBand(ctx, a, scales.y, o)
    drawGaps(ctx, a, scales.x, o, chart.data.datasets.length > 1)
    drawExcursions(ctx, a, scales.x, o)
    drawFaults(ctx, a, scales.x, o)
    ctx.restore()
  },
  afterDatasetsDraw(chart) {
    const o = overlays.get(chart)
    if (!o) return
    const { ctx, chartArea: a, scales } = chart
    ctx.save()
    drawAlarms(ctx, a, scales.x, o.alarms)
    const sel = selections.get(chart)
    if (sel) drawSelection(ctx, a, sel)
    ctx.restore()
  },
}
