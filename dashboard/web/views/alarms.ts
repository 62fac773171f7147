/**
 * Alarms across the fleet: open first, then acknowledged, each with its
 * shipment, and the acknowledgement form for roles that may acknowledge.
 */
import { h, replace } from '../dom.ts'
import { listAlarms } from '../api/alarms.ts'
import { listShipments } from '../api/shipment-list.ts'
import { alarmCard } from '../components.ts'
import type { View } from '../context.ts'
import type { AlarmView } from '../types.ts'

export const alarmsView: View = (root, ctx) => {
  let alarms: AlarmView[] = []
  const products = new Map<string, string>()
  const filter = h(
    'select',
    { id: 'alarm-filter' },
    h('option', { value: 'open' }, 'Open'),
    h('option', { value: 'acknowledged' }, 'Acknowledged'),
    h('option', { value: 'all' }, 'All'),
  )
  const q = h('input', { id: 'alarm-q', type: 'search', placeholder: 'Shipment, device, kind…', autocomplete: 'off' })
  const list = h('ul', { class: 'alarm-list', id: 'fleet-alarms' })
  const summary = h('p', { class: 'muted' })

  function render(): void {
    const state = filter.value
    const words = q.value.trim().toLowerCase().split(/\s+/).filter(Boolean)
    const shown = alarms
      .filter((a) => state === 'all' || a.state === state)
      .filter((a) =>
        words.every((w) => [a.shipmentId, a.deviceId ?? '', a.kind, a.message].join('\n').toLowerCase().includes(w)),
      )
      .sort((a, b) => (a.state === 'open' ? 0 : 1) - (b.state === 'open' ? 0 : 1) || b.at - a.at)
    const open = alarms.filter((a) => a.state === 'open').length
    summary.textContent = `${open} open · ${alarms.filter((a) => a.state === 'acknowledged').length} acknowledged`
    // Keep forms someone is typing into.
    const existing = new Map(
      [...list.querySelectorAll<HTMLLIElement>('li[data-alarm-id]')].map((li) => [
        `${li.dataset.alarmId}|${li.dataset.state}`,
        li,
      ]),
    )
    replace(
      list,
      ...shown.map(
        (a) =>
          existing.get(`${a.alarmId}|${a.state}`) ??
          alarmCard(a, {
            canAck: ctx.can.operate,
            showShipment: true,
            product: products.get(a.shipmentId),
            onAcked: (u) => {
              alarms = alarms.map((x) => (x.alarmId === u.alarmId ? u : x))
              render()
              ctx.refreshAlarmCount()
            },
          }),
      ),
    )
    if (!shown.length)
      list.append(
        h(
          'li',
          { class: 'empty' },
          state === 'open' ? 'No open alarms. All shipments are within their rules.' : 'No alarms match.',
        ),
      )
  }

  async function load(): Promise<void> {
    try {
      const [list, shipments] = await Promise.all([listAlarms('all'), listShipments().catch(() => [])])
      for (const s of shipments) products.set(s.shipmentId, s.product)
      alarms = list
      render()
    } catch (e) {
      replace(list, h('li', { class: 'notice notice-alarm' }, `Could not load alarms: ${(e as Error).message}`))
    }
  }

  filter.addEventListener('change', render)
  q.addEventListener('input', render)
  replace(
    root,
    h(
      'div',
      { class: 'page-head' },
      h('div', null, h('h1', null, 'Alarms'), summary),
      h(
        'div',
        { class: 'filters' },
        h('div', { class: 'field' }, h('label', { for: filter.id }, 'Show'), filter),
        h('div', { class: 'field' }, h('label', { for: q.id }, 'Search'), q),
      ),
    ),
    ctx.can.operate ? null : h('p', { class: 'notice' }, 'Your role can view alarms; operators acknowledge them.'),
    list,
  )
  let pending: ReturnType<typeof setTimeout> | null = null
  const unsub = ctx.stream.subscribe((e) => {
    if (e.type === 'alarm' || e.type === 'ack') {
      const i = alarms.findIndex((a) => a.alarmId === e.alarm.alarmId)
      if (i >= 0) alarms[i] = e.alarm
      else alarms.push(e.alarm)
      if (!pending)
        pending = setTimeout(() => {
          pending = null
          render()
        }, 200)
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
