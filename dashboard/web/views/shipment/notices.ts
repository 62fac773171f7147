/** The notices above the page: silent and lost sensors, the close signature, an early end, post-close evidence. */
import { h, icon, replace } from '../../dom.ts'
import { humanize } from '../../components.ts'
import { formatDateTime, formatDuration, formatTemp } from '../../../common/format.ts'
import type { AlarmView, ShipmentDetail } from '../../types.ts'
import { silentFor } from './lateness.ts'

/** Post-close readings listed by name before "… and N more". */
const POST_CLOSE_LISTED = 50

export function renderNotices(box: HTMLElement, d: ShipmentDetail): void {
  const lostAlarms = d.alarms.filter((x) => x.sensorLost && x.state === 'open')
  const items: HTMLElement[] = [...silentNotices(d, lostAlarms, Date.now())]
  if (d.closeSignature) {
    const c = d.closeSignature
    items.push(
      h(
        'div',
        { class: 'notice', id: 'close-signature-notice' },
        h('strong', null, 'Closed and signed by '),
        c.by,
        `, meaning "${c.meaning}", reason: ${c.reason}, at ${formatDateTime(c.at)}`,
        c.override ? `; ${c.override.alarms.length} open critical alarm(s) overridden: ${c.override.reason}` : '',
      ),
    )
  }
  if (d.endsEarly)
    items.push(
      h(
        'div',
        { class: 'notice notice-warn', id: 'ends-early-notice' },
        icon('⚠ '),
        'Closed with the evidence ending early: ',
        d.endsEarly,
        '. The verdict is INCOMPLETE_EVIDENCE.',
      ),
    )
  // Final once closed: post-close readings are listed apart and never change the verdict.
  if (d.postClose.length) items.push(postCloseNotice(d))
  // A lost-sensor alarm for a device without sensor state still gets said.
  for (const a of lostAlarms.filter((x) => !d.sensors.some((s) => s.deviceId === x.deviceId))) {
    items.push(
      h(
        'div',
        { class: 'notice notice-alarm' },
        icon('▲ '),
        'Alarm on a lost sensor: ',
        h('span', { class: 'id' }, a.deviceId ?? '?'),
        ` stopped reporting during "${humanize(a.kind)}"; the product temperature since then is unknown.`,
      ),
    )
  }
  replace(box, ...items)
}

/** One notice per sensor that is lost, silent, or has an open lost-sensor alarm. */
function silentNotices(d: ShipmentDetail, lostAlarms: AlarmView[], now: number): HTMLElement[] {
  const items: HTMLElement[] = []
  for (const s of d.sensors) {
    const silent = silentFor(s, d, now)
    const lost = lostAlarms.filter((a) => a.deviceId === s.deviceId)
    if (!s.lost && silent === null && lost.length === 0) continue
    items.push(
      h(
        'div',
        { class: lost.length ? 'notice notice-alarm' : 'notice notice-warn', 'data-silent-device': s.deviceId },
        icon('⌁ '),
        h('strong', { class: 'id' }, s.deviceId),
        ' is silent: no reading for ',
        h('strong', null, formatDuration(silent ?? s.silentForMs ?? 0)),
        s.lastReadingT ? ` (last reading ${formatDateTime(s.lastReadingT)})` : '',
        '. ',
        lost.length
          ? `Alarm on a lost sensor: "${lost.map((a) => humanize(a.kind)).join('", "')}" stays open; the product temperature since then is unknown, not back in range. `
          : '',
        'Readings it buffered will be shown as late when they arrive.',
      ),
    )
  }
  return items
}

function postCloseNotice(d: ShipmentDetail): HTMLElement {
  return h(
    'div',
    { class: 'notice notice-alarm', id: 'post-close' },
    icon('▲ '),
    h('strong', null, `Post-close evidence (${d.postClose.length})`),
    ': readings logged after the close with device times inside the closed window. They are not part of the verdict; QA should review them.',
    h(
      'ul',
      null,
      ...d.postClose
        .slice(0, POST_CLOSE_LISTED)
        .map((r) =>
          h(
            'li',
            { 'data-post-close': `${r.deviceId}:${r.seq}` },
            h('span', { class: 'id' }, r.deviceId),
            ` seq ${r.seq}, ${formatDateTime(r.t)}, ${formatTemp(r.tempC, 2)}`,
          ),
        ),
    ),
    d.postClose.length > POST_CLOSE_LISTED
      ? h(
          'p',
          { class: 'muted small' },
          `… and ${d.postClose.length - POST_CLOSE_LISTED} more (see the PDF report or the evidence bundle).`,
        )
      : null,
  )
}
