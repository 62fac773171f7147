/**
 * The temperature card: the chart (range band, excursions, gaps, late
 * readings, alarm markers) with its zoom reset and legend, and the line under
 * it that names the latest reading.
 */
import { h, replace } from '../../dom.ts'
import { createTemperatureChart, type ChartInput } from '../../chart.ts'
import { badge } from '../../components.ts'
import { formatClock, formatTemp } from '../../../common/format.ts'
import type { Child } from '../../dom.ts'
import type { ReadingView, ShipmentDetail } from '../../types.ts'
import { lateAfter } from './lateness.ts'

export interface ChartPanel {
  card: HTMLElement
  /** Draws the chart once the card is on the page. */
  mount(d: ShipmentDetail): void
  /** Redraws a mounted chart. */
  update(d: ShipmentDetail): void
  /** Before the first live reading: says what the chart already shows. */
  renderLiveLine(d: ShipmentDetail): void
  /** A reading that came over the stream. */
  showLive(r: ReadingView): void
  destroy(): void
}

function chartInput(d: ShipmentDetail): ChartInput {
  return {
    readings: d.readings,
    minC: d.profile.minC,
    maxC: d.profile.maxC,
    maxGapMs: d.profile.maxGapMs,
    lateAfterMs: lateAfter(d),
    excursions: d.excursions,
    alarms: d.alarms,
  }
}

/** "<device> #<seq>: <temperature> measured <clock> UTC" */
function readingWords(r: ReadingView): Child[] {
  return [
    h('span', { class: 'id' }, r.deviceId),
    ` #${r.seq}: `,
    h('strong', null, r.fault ? 'sensor fault' : formatTemp(r.tempC, 2)),
    ` measured ${formatClock(r.t)} UTC`,
  ]
}

export function chartPanel(): ChartPanel {
  let chart: ReturnType<typeof createTemperatureChart> | null = null
  const canvas = h('canvas', {
    id: 'temp-chart',
    role: 'img',
    'aria-label': 'Temperature of every sensor over device time, with the allowed range',
  })
  const liveLine = h('p', { class: 'muted small', id: 'live-reading', 'aria-live': 'polite' })
  const resetZoom = h(
    'button',
    { type: 'button', class: 'btn btn-small', id: 'reset-zoom', hidden: true },
    'Reset zoom',
  )
  resetZoom.addEventListener('click', () => chart?.resetZoom())
  const card = h(
    'section',
    { class: 'card', 'aria-labelledby': 'chart-title' },
    h(
      'div',
      { class: 'chart-head' },
      h('h2', { id: 'chart-title' }, 'Temperature'),
      h('span', { class: 'muted small zoom-hint', id: 'zoom-hint' }, 'Drag across the chart to zoom in.'),
      resetZoom,
    ),
    h('div', { class: 'chart-box' }, canvas),
    h(
      'div',
      { class: 'legend-note' },
      h('span', null, h('span', { class: 'swatch swatch-band' }), 'Allowed range'),
      h('span', null, h('span', { class: 'swatch swatch-exc' }), 'Excursion'),
      h('span', null, h('span', { class: 'swatch swatch-alarm' }), 'Alarm (▼ marker)'),
      h('span', null, h('span', { class: 'swatch swatch-late' }), 'Late reading (from device buffer)'),
      h('span', null, h('span', { class: 'swatch swatch-gap' }), 'Gap: no data, never interpolated'),
      h(
        'span',
        { class: 'legend-fault' },
        h('span', { class: 'swatch swatch-fault' }),
        'Sensor fault (hatched red: the value is not a temperature)',
      ),
    ),
    liveLine,
  )

  return {
    card,
    mount(d) {
      chart = createTemperatureChart(canvas, chartInput(d))
      chart.onZoom((span) => {
        resetZoom.hidden = span === null
      })
    },
    update(d) {
      chart?.update(chartInput(d))
    },
    // Not "waiting" under a full chart or on a closed shipment.
    renderLiveLine(d) {
      if (liveLine.dataset.seq) return
      if (d.status === 'closed') {
        replace(liveLine, 'Closed: the verdict is final and no live readings are shown here.')
        return
      }
      const last = d.readings.reduce<ReadingView | null>((a, r) => (a === null || r.t > a.t ? r : a), null)
      if (!last) {
        replace(liveLine, 'Waiting for the first reading…')
        return
      }
      replace(liveLine, 'Latest: ', ...readingWords(last), '; new readings appear here as they arrive.')
    },
    showLive(r) {
      replace(liveLine, r.late ? badge('late', '◆', 'Late') : badge('ok', '●', 'Live'), ' ', ...readingWords(r))
      liveLine.dataset.seq = String(r.seq)
    },
    destroy() {
      chart?.destroy()
    },
  }
}
