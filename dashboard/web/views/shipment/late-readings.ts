/** The late readings card: what sensors buffered out of coverage and delivered afterwards. */
import { h, replace } from '../../dom.ts'
import { badge, table, tempCell, type Column } from '../../components.ts'
import { formatDateTimeSec, formatDuration } from '../../../common/format.ts'
import { lateReadings } from '../../series.ts'
import type { ReadingView, ShipmentDetail } from '../../types.ts'
import { lateAfter } from './lateness.ts'

/** The latest late readings listed; older ones are only counted. */
const LATE_LISTED = 200
/** The list starts open while it is this short. */
const OPEN_UP_TO = 20

export function renderLate(box: HTMLElement, d: ShipmentDetail): void {
  const late = lateReadings(d.readings, lateAfter(d))
  const cols: Column<ReadingView>[] = [
    { label: 'Sensor', cell: (r) => h('span', { class: 'id' }, r.deviceId) },
    { label: 'Seq', className: 'num', cell: (r) => r.seq },
    { label: 'Measured (device time)', cell: (r) => formatDateTimeSec(r.t) },
    { label: 'Stored', cell: (r) => formatDateTimeSec(r.receivedAt) },
    // The delay the server's lateness rule measured (buffered time beyond the fleet's usual offset), as in the CSV:
    // with the demo's fast simulated clock, stored − measured is not how long a reading waited.
    {
      label: 'Delay',
      className: 'num',
      cell: (r) =>
        r.delayMs !== undefined ? formatDuration(r.delayMs) : r.receivedAt ? formatDuration(r.receivedAt - r.t) : '—',
    },
    { label: 'Temperature', className: 'num', cell: (r) => tempCell(r.tempC, d.range) },
  ]
  const shown = late.slice(-LATE_LISTED)
  const wasOpen = box.querySelector('details')?.open
  const list = h(
    'details',
    { class: 'late-list' },
    h(
      'summary',
      null,
      `${late.length} late reading${late.length === 1 ? '' : 's'}`,
      late.length > shown.length ? ` (the latest ${shown.length} listed)` : '',
    ),
    table(cols, shown, { empty: 'None: every reading arrived on time.' }),
  )
  // Open by default while the list is short enough to read; keep the user's choice on redraws.
  list.open = wasOpen ?? late.length <= OPEN_UP_TO
  replace(
    box,
    h('h2', null, badge('late', '◆', 'Late'), ' Late readings'),
    h(
      'p',
      { class: 'muted small' },
      'Readings a sensor buffered while out of coverage and delivered afterwards. They are drawn at the time they were measured, never as live data.',
    ),
    late.length ? list : h('p', { class: 'muted' }, 'None: every reading arrived on time.'),
  )
}
