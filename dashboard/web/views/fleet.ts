/**
 * Fleet: every shipment at a glance, filterable, updated live from the
 * stream (new readings move the temperature and the "last reading" time;
 * shipment events change status and alarm counts).
 */
import { h, replace } from '../dom.ts'
import { listDevices } from '../api/devices.ts'
import { listShipments } from '../api/shipment-list.ts'
import { ago, classLabel, fillRows, rangeText, statusBadge, tempCell, type Column } from '../components.ts'
import { formatDateTime } from '../../common/format.ts'
import type { View } from '../context.ts'
import type { ShipmentSummary } from '../types.ts'

const STATUS_ORDER = { alarm: 0, ok: 1, closed: 2 } as const
/** A shipment in transit with no reading for this long is flagged as quiet in the list. */
const QUIET_AFTER_MS = 15 * 60_000

export function matches(s: ShipmentSummary, f: { status: string; cls: string; q: string }): boolean {
  if (f.status && s.status !== f.status) return false
  if (f.cls && s.productClass !== f.cls) return false
  if (f.q) {
    const hay = [s.shipmentId, s.product, s.productClass, s.route.from, s.route.to, ...s.devices]
      .join('\n')
      .toLowerCase()
    if (
      !f.q
        .toLowerCase()
        .split(/\s+/)
        .filter(Boolean)
        .every((w) => hay.includes(w))
    )
      return false
  }
  return true
}

export const fleetView: View = (root, ctx) => {
  let shipments: ShipmentSummary[] = []
  const byId = new Map<string, ShipmentSummary>()

  const status = h(
    'select',
    { id: 'filter-status', name: 'status' },
    h('option', { value: '' }, 'All statuses'),
    h('option', { value: 'alarm' }, 'Alarm'),
    h('option', { value: 'ok' }, 'In range'),
    h('option', { value: 'closed' }, 'Closed'),
  )
  const cls = h('select', { id: 'filter-class', name: 'class' }, h('option', { value: '' }, 'All classes'))
  const q = h('input', {
    id: 'filter-q',
    type: 'search',
    name: 'q',
    placeholder: 'Shipment, product, route, device…',
    autocomplete: 'off',
  })
  const count = h('p', { class: 'muted', id: 'fleet-count' })
  const stats = h('dl', { class: 'stats' })
  const tbody = h('tbody', { id: 'fleet-rows' })

  const columns: Column<ShipmentSummary>[] = [
    {
      label: 'Shipment',
      cell: (s) => [
        h('a', { href: `#/shipment/${encodeURIComponent(s.shipmentId)}`, class: 'id' }, s.shipmentId),
        h('span', { class: 'sub product' }, s.product),
      ],
    },
    {
      label: 'Class',
      cell: (s) => [h('span', null, rangeText(s.range)), h('span', { class: 'sub' }, classLabel(s.productClass))],
    },
    {
      label: 'Route',
      cell: (s) => [h('span', null, s.route.from), h('span', { class: 'muted' }, ' → '), h('span', null, s.route.to)],
    },
    { label: 'Status', cell: (s) => statusBadge(s.status) },
    { label: 'Temperature', className: 'num', cell: (s) => tempCell(s.currentTempC, s.range) },
    { label: 'Last reading', cell: lastReadingCell },
    {
      label: 'Open alarms',
      className: 'num',
      cell: (s) =>
        s.openAlarms > 0
          ? h('strong', { class: 'alarm-count' }, `▲ ${s.openAlarms}`)
          : h('span', { class: 'muted' }, '0'),
    },
  ]

  function lastReadingCell(s: ShipmentSummary): HTMLElement {
    // A closed shipment's devices may be on another trip now: show when its own data ended.
    if (s.status === 'closed')
      return h('span', { class: 'muted', title: 'Device time of the last reading' }, formatDateTime(s.lastReadingAt))
    const el = ago(s.lastReceivedAt ?? s.lastReadingAt, { staleAfterMs: QUIET_AFTER_MS })
    el.title = `Received ${formatDateTime(s.lastReceivedAt ?? null)}; measured ${formatDateTime(s.lastReadingAt)} (device time)`
    return el
  }

  const filters = () => ({ status: status.value, cls: cls.value, q: q.value.trim() })

  function renderStats(): void {
    const active = shipments.filter((s) => s.status !== 'closed')
    const inAlarm = shipments.filter((s) => s.status === 'alarm').length
    const open = shipments.reduce((n, s) => n + s.openAlarms, 0)
    const stat = (label: string, value: string | number, cls = '') =>
      h('div', { class: `stat ${cls}` }, h('dt', null, label), h('dd', null, String(value)))
    replace(
      stats,
      stat('In transit', active.length),
      stat('In alarm', inAlarm, inAlarm ? 'is-alarm' : 'is-ok'),
      stat('Open alarms', open, open ? 'is-alarm' : 'is-ok'),
      stat('Closed', shipments.length - active.length),
    )
  }

  function renderClasses(): void {
    const current = cls.value
    const classes = [...new Set(shipments.map((s) => s.productClass))].sort()
    const rangeOf = (c: string) =>
      rangeText(shipments.find((s) => s.productClass === c)?.range ?? { minC: null, maxC: null })
    replace(
      cls,
      h('option', { value: '' }, 'All classes'),
      ...classes.map((c) => h('option', { value: c }, `${classLabel(c)} (${rangeOf(c)})`)),
    )
    cls.value = classes.includes(current) ? current : ''
  }

  function renderRows(): void {
    const f = filters()
    const rows = shipments
      .filter((s) => matches(s, f))
      .sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || a.shipmentId.localeCompare(b.shipmentId))
    fillRows(tbody, columns, rows, {
      empty: shipments.length ? 'No shipment matches these filters.' : 'No shipments yet.',
      rowAttrs: (s) => ({ class: `row-link row-${s.status}`, 'data-shipment-id': s.shipmentId }),
    })
    count.textContent =
      rows.length === shipments.length
        ? `${shipments.length} shipments`
        : `${rows.length} of ${shipments.length} shipments`
  }

  function setAll(list: ShipmentSummary[]): void {
    shipments = list
    byId.clear()
    for (const s of list) byId.set(s.shipmentId, s)
    renderStats()
    renderClasses()
    renderRows()
  }

  async function load(): Promise<void> {
    try {
      const [list, devices] = await Promise.all([listShipments(), listDevices().catch(() => [])])
      const seen = new Map(devices.map((d) => [d.deviceId, d.lastSeenAt]))
      for (const s of list) {
        const times = s.devices.map((d) => seen.get(d)).filter((x): x is number => typeof x === 'number')
        s.lastReceivedAt = times.length ? Math.max(...times) : null
      }
      setAll(list)
    } catch (e) {
      replace(
        tbody,
        h(
          'tr',
          null,
          h('td', { colspan: columns.length, class: 'empty' }, `Could not load shipments: ${(e as Error).message}`),
        ),
      )
    }
  }

  // Clicking anywhere on a row opens the shipment (the id is also a real link for keyboard users).
  tbody.addEventListener('click', (ev) => {
    const target = ev.target as HTMLElement
    if (target.closest('a')) return
    const tr = target.closest<HTMLTableRowElement>('tr[data-shipment-id]')
    if (tr?.dataset.shipmentId) location.hash = `#/shipment/${encodeURIComponent(tr.dataset.shipmentId)}`
  })
  for (const el of [status, cls]) el.addEventListener('change', renderRows)
  q.addEventListener('input', renderRows)

  replace(
    root,
    h(
      'div',
      { class: 'page-head' },
      h('div', null, h('h1', null, 'Fleet'), count),
      ctx.can.operate
        ? h('a', { class: 'btn btn-primary', href: '#/new-shipment', id: 'new-shipment' }, '+ New shipment')
        : null,
    ),
    stats,
    h(
      'div',
      { class: 'filters', role: 'search' },
      h('div', { class: 'field' }, h('label', { for: status.id }, 'Status'), status),
      h('div', { class: 'field' }, h('label', { for: cls.id }, 'Product class'), cls),
      h('div', { class: 'field grow' }, h('label', { for: q.id }, 'Search'), q),
    ),
    h(
      'div',
      { class: 'table-wrap stack' },
      h(
        'table',
        { id: 'fleet-table' },
        h(
          'thead',
          null,
          h('tr', null, ...columns.map((c) => h('th', { class: c.className ?? null, scope: 'col' }, c.label))),
        ),
        tbody,
      ),
    ),
  )

  let pending: ReturnType<typeof setTimeout> | null = null
  const reloadSoon = () => {
    if (!pending)
      pending = setTimeout(() => {
        pending = null
        void load()
      }, 400)
  }
  const unsub = ctx.stream.subscribe((e) => {
    if (e.type === 'shipment') {
      const prev = byId.get(e.shipment.shipmentId)
      if (prev) {
        // The event carries device times only; keep the receive time we know.
        e.shipment.lastReceivedAt = prev.lastReceivedAt
        shipments = shipments.map((s) => (s.shipmentId === e.shipment.shipmentId ? e.shipment : s))
        byId.set(e.shipment.shipmentId, e.shipment)
        renderStats()
        renderRows()
      } else {
        setAll([...shipments, e.shipment])
      }
    } else if (e.type === 'reading') {
      let changed = false
      for (const id of e.shipmentIds) {
        const s = byId.get(id)
        // A late (backfilled) reading is history: it does not become the "current" temperature.
        if (!s || e.reading.late || e.reading.fault) continue
        if (s.lastReadingAt === null || e.reading.t >= s.lastReadingAt) {
          s.currentTempC = e.reading.tempC
          s.lastReadingAt = e.reading.t
          s.lastReceivedAt = e.reading.receivedAt ?? Date.now()
          changed = true
        }
      }
      if (changed) renderRows()
    } else if (e.type === 'alarm' || e.type === 'ack') {
      reloadSoon()
    }
  })
  const unre = ctx.stream.onReconnect(() => void load())
  void load()
  return () => {
    unsub()
    unre()
    if (pending) clearTimeout(pending)
  }
}
