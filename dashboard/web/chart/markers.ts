/** What is drawn over the lines: alarm markers, and the zoom selection while dragging. */
import type { ChartArea, Scale } from 'chart.js'
import type { Overlay } from './input.ts'
import { ALARM_COLOR, SELECT_FILL, SELECT_LINE } from './palette.ts'

/** A dashed line at the time raised, topped by a triangle (filled while open, hollow once acknowledged). */
export function drawAlarms(ctx: CanvasRenderingContext2D, a: ChartArea, x: Scale, alarms: Overlay['alarms']): void {
  for (const al of alarms) {
    const px = x.getPixelForValue(al.at)
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
}

/** The x-pixel span being dragged out, kept inside the plot. */
export function drawSelection(ctx: CanvasRenderingContext2D, a: ChartArea, sel: { from: number; to: number }): void {
  const x0 = Math.max(a.left, Math.min(sel.from, sel.to))
  const x1 = Math.min(a.right, Math.max(sel.from, sel.to))
  ctx.fillStyle = SELECT_FILL
  ctx.fillRect(x0, a.top, x1 - x0, a.bottom - a.top)
  ctx.strokeStyle = SELECT_LINE
  ctx.lineWidth = 1
  ctx.strokeRect(x0 + 0.5, a.top + 0.5, x1 - x0 - 1, a.bottom - a.top - 1)
}
