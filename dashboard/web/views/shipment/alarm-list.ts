/** The alarms card: open alarms first, each with the acknowledgement form for those who may operate. */
import { h, replace } from '../../dom.ts'
import { alarmCard } from '../../components.ts'
import type { AlarmView, ShipmentDetail } from '../../types.ts'

export function renderAlarms(
  box: HTMLElement,
  d: ShipmentDetail,
  opts: { canAck: boolean; onAcked: (a: AlarmView) => void },
): void {
  const sorted = [...d.alarms].sort(
    (a, b) => (a.state === 'open' ? 0 : 1) - (b.state === 'open' ? 0 : 1) || b.at - a.at,
  )
  const list = h('ul', { class: 'alarm-list', id: 'alarm-list' })
  // Keep a half-filled acknowledgement form when the list is redrawn for another alarm.
  const existing = new Map(
    [...box.querySelectorAll<HTMLLIElement>('li[data-alarm-id]')].map((li) => [li.dataset.alarmId, li]),
  )
  for (const a of sorted) {
    const old = existing.get(a.alarmId)
    list.append(
      old && old.dataset.state === a.state && old.dataset.kind === a.kind && old.dataset.lost === String(!!a.sensorLost)
        ? old
        : mark(alarmCard(a, opts), a),
    )
  }
  if (!sorted.length) list.append(h('li', { class: 'empty' }, 'No alarms on this shipment.'))
  replace(
    box,
    h(
      'h2',
      null,
      'Alarms',
      h('span', { class: 'muted small' }, ` ${d.alarms.filter((a) => a.state === 'open').length} open`),
    ),
    list,
  )
}

/** What decides whether a redraw may keep the card: its kind and whether the sensor was lost. */
function mark(li: HTMLLIElement, a: AlarmView): HTMLLIElement {
  li.dataset.kind = a.kind
  li.dataset.lost = String(!!a.sensorLost)
  return li
}
