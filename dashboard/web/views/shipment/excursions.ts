/** The excursions table, earliest first. */
import { h, replace } from '../../dom.ts'
import { badge, humanize, table, tempCell, type Column } from '../../components.ts'
import { formatDateTime, formatDuration } from '../../../common/format.ts'
import type { ExcursionView, ShipmentDetail } from '../../types.ts'

export function renderExcursions(box: HTMLElement, d: ShipmentDetail): void {
  const cols: Column<ExcursionView>[] = [
    { label: 'Kind', cell: (e) => [humanize(e.kind), e.ruleId ? h('span', { class: 'sub mono' }, e.ruleId) : null] },
    { label: 'Sensor', cell: (e) => h('span', { class: 'id' }, e.deviceId ?? 'all') },
    { label: 'From', cell: (e) => formatDateTime(e.from) },
    { label: 'To', cell: (e) => (e.to === null ? badge('alarm', '▲', 'Ongoing') : formatDateTime(e.to)) },
    { label: 'Duration', className: 'num', cell: (e) => formatDuration(e.durationMs) },
    { label: 'Peak', className: 'num', cell: (e) => tempCell(e.peakC ?? null, d.range) },
  ]
  replace(
    box,
    h('h2', null, 'Excursions'),
    table(
      cols,
      [...d.excursions].sort((a, b) => a.from - b.from),
      { empty: 'No excursions: every reading so far is within the range.' },
    ),
  )
}
