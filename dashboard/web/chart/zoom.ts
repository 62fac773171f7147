/**
 * Drag to zoom: drag across the plot with a mouse or pen to show only that
 * span of device time (the selection is drawn while dragging); reset() shows
 * everything again. Small and our own: chartjs-plugin-zoom is not a
 * dependency. A touch drag is left to scroll the page.
 */
import type { Chart } from 'chart.js'
import type { ChartPoint } from '../series.ts'
import { snapSpan } from './axes.ts'
import { selections } from './overlay.ts'

/** A drag shorter than this is a click (tooltips), not a zoom. */
const MIN_DRAG_PX = 8

export type ZoomSpan = { from: number; to: number } | null

export interface ZoomControl {
  /** The x tick step when not zoomed (the data's span changed); applied to the options, not yet drawn. */
  setDataStep(step: number): void
  zoom(from: number, to: number): void
  reset(): void
  onZoom(cb: (span: ZoomSpan) => void): void
  /** Removes the pointer listeners. */
  detach(): void
}

export function attachZoom(
  chart: Chart<'line', ChartPoint[]>,
  canvas: HTMLCanvasElement,
  dataStep: number,
): ZoomControl {
  let zoomed: { from: number; to: number; step: number } | null = null
  const zoomListeners: ((span: ZoomSpan) => void)[] = []
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
  const setZoom = (span: { from: number; to: number; step: number } | null) => {
    zoomed = span
    applyX()
    chart.update('none')
    for (const cb of zoomListeners) cb(span && { from: span.from, to: span.to })
  }

  // Pointer events, captured so the drag may end outside the canvas.
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
    setZoom(snapSpan(from, to))
  }
  const onCancel = () => {
    if (selections.delete(chart)) chart.draw()
  }
  canvas.addEventListener('pointerdown', onDown)
  canvas.addEventListener('pointermove', onMove)
  canvas.addEventListener('pointerup', onUp)
  canvas.addEventListener('pointercancel', onCancel)

  return {
    setDataStep(step) {
      dataStep = step
      applyX()
    },
    zoom(from, to) {
      if (to > from) setZoom(snapSpan(from, to))
    },
    reset() {
      setZoom(null)
    },
    onZoom(cb) {
      zoomListeners.push(cb)
    },
    detach() {
      canvas.removeEventListener('pointerdown', onDown)
      canvas.removeEventListener('pointermove', onMove)
      canvas.removeEventListener('pointerup', onUp)
      canvas.removeEventListener('pointercancel', onCancel)
    },
  }
}
