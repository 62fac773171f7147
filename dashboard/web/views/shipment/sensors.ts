/** The sensors card: each logger's temperature, last reading and state, and each logger's window once loggers changed. */
import { h, replace } from '../../dom.ts'
import { ago, badge, table, tempCell, type Column } from '../../components.ts'
import { formatDateTime, formatDuration } from '../../../common/format.ts'
import type { SensorState, ShipmentDetail } from '../../types.ts'
import { silentFor } from './lateness.ts'
import { smallTable } from './small-table.ts'

export function renderSensors(box: HTMLElement, d: ShipmentDetail): void {
  const now = Date.now()
  const cols: Column<SensorState>[] = [
    { label: 'Sensor', cell: (s) => h('span', { class: 'id' }, s.deviceId) },
    { label: 'Temperature', className: 'num', cell: (s) => tempCell(s.currentTempC ?? null, d.range) },
    { label: 'Last reading (device time)', cell: (s) => (s.lastReadingT ? formatDateTime(s.lastReadingT) : '—') },
    { label: 'Received', cell: (s) => ago(s.lastSeenAt) },
    {
      label: 'State',
      cell: (s) => {
        const silent = silentFor(s, d, now)
        if (s.lost) return badge('alarm', '⌁', 'Lost')
        if (silent !== null) return badge('warn', '⌁', `Silent ${formatDuration(silent)}`)
        if (s.late) return badge('late', '◆', 'Catching up (late data)')
        return d.status === 'closed' ? badge('closed', '■', 'Done') : badge('ok', '●', 'Reporting')
      },
    },
  ]
  // Loggers assigned after the start or removed: the device times each one counts for.
  const changed = d.loggers.some((l) => l.addedEntry !== null || l.removedEntry !== null)
  replace(
    box,
    h('h2', null, 'Sensors'),
    table(cols, d.sensors, { empty: 'No sensor state yet.' }),
    changed ? loggerWindows(d) : null,
  )
}

function loggerWindows(d: ShipmentDetail): HTMLElement {
  return smallTable(
    { class: 'table-wrap', id: 'logger-windows' },
    'small',
    ['Logger', 'Counts from', 'Until'],
    d.loggers.map((l) =>
      h(
        'tr',
        { 'data-logger': l.deviceId },
        h('td', { class: 'id' }, l.deviceId),
        h('td', null, formatDateTime(l.from)),
        h(
          'td',
          null,
          l.until === null
            ? d.closedAt
              ? formatDateTime(d.closedAt)
              : 'assigned'
            : `${formatDateTime(l.until)} (removed)`,
        ),
      ),
    ),
  )
}
