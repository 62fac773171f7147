/** The legend (one entry per sensor, toggles it) and the tooltip's words for a point. */
import type { ChartOptions, TooltipItem } from 'chart.js'
import { formatDateTimeSec, formatDuration, formatTemp } from '../../common/format.ts'
import type { ChartPoint } from '../series.ts'
import type { LatePoint } from './input.ts'

export function legendAndTooltip(): ChartOptions<'line'>['plugins'] {
  return {
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
  }
}
