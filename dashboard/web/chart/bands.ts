/**
 * What is drawn under the lines, clipped to the plot: the allowed range as a
 * band with its limits, data gaps, excursions, and sensor-fault columns.
 * Called in this order by the overlay plugin on one saved context.
 */
import type { ChartArea, Scale } from 'chart.js'
import type { Overlay } from './input.ts'
import { BAND_FILL, BAND_LINE, EXCURSION_FILL, FAULT_COLOR, GAP_FILL } from './palette.ts'

/** The allowed range (label statement): a band; an open side runs to the edge. */
export function drawLimitBand(ctx: CanvasRenderingContext2D, a: ChartArea, y: Scale, o: Overlay): void {
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
}

/** Data gaps: greyed, labelled; the lines themselves break there (spanGaps false). */
export function drawGaps(ctx: CanvasRenderingContext2D, a: ChartArea, x: Scale, o: Overlay, several: boolean): void {
  ctx.fillStyle = GAP_FILL
  ctx.font = '11px system-ui, sans-serif'
  ctx.textAlign = 'center'
  for (const g of o.gaps) {
    const x0 = x.getPixelForValue(g.from)
    const x1 = x.getPixelForValue(g.to)
    ctx.fillRect(x0, a.top, x1 - x0, a.bottom - a.top)
    // With several sensors, say whose data is missing: the others may have data there.
    const long = several ? `no data: ${g.deviceId}` : 'no data'
    const label =
      ctx.measureText(long).width + 8 < x1 - x0 ? long : ctx.measureText('no data').width + 8 < x1 - x0 ? 'no data' : ''
    if (label) {
      ctx.fillStyle = '#4a5565'
      ctx.fillText(label, (x0 + x1) / 2, a.bottom - 8)
      ctx.fillStyle = GAP_FILL
    }
  }
}

/** Excursions: the span of device time beyond a limit (an open one runs to the axis end). */
export function drawExcursions(ctx: CanvasRenderingContext2D, a: ChartArea, x: Scale, o: Overlay): void {
  ctx.fillStyle = EXCURSION_FILL
  const end = x.max
  for (const e of o.excursions) {
    const x0 = x.getPixelForValue(e.from)
    const x1 = x.getPixelForValue(e.to ?? end)
    ctx.fillRect(x0, a.top, Math.max(2, x1 - x0), a.bottom - a.top)
  }
}

/** Sensor faults: a red hatched column (legend "Sensor fault"); the line breaks there. */
export function drawFaults(ctx: CanvasRenderingContext2D, a: ChartArea, x: Scale, o: Overlay): void {
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
}
