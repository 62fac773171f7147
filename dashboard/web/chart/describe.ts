import type { ChartDataset } from 'chart.js'
import type { ChartPoint } from '../series.ts'

/**
 * Says what the canvas shows in words (for screen readers, and for tests,
 * which cannot read pixels): sensors, readings, breaks for gaps, late readings.
 */
export function describe(
  canvas: HTMLCanvasElement,
  datasets: ChartDataset<'line', ChartPoint[]>[],
  faults: number,
): void {
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
