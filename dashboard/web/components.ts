/**
 * Small UI pieces shared by the views: status badges (icon + word + colour, so
 * colour is never the only signal), live "3 min ago" labels, tables, the alarm
 * card with its acknowledgement form.
 */
import { h, icon, type Child } from './dom.ts'
import { formatDateTime, formatDuration, formatTemp, timeAgo } from '../common/format.ts'
import { ackAlarm } from './api/alarms.ts'
import { ApiError } from './api/request.ts'
import type { AlarmNotification, AlarmView, ShipmentStatus } from './types.ts'

export function badge(
  kind: 'ok' | 'alarm' | 'warn' | 'closed' | 'info' | 'late',
  glyph: string,
  text: string,
  title?: string,
): HTMLSpanElement {
  return h('span', { class: `badge badge-${kind}`, title: title ?? null }, icon(glyph), text)
}

export function statusBadge(s: ShipmentStatus): HTMLSpanElement {
  if (s === 'alarm') return badge('alarm', '▲', 'Alarm')
  if (s === 'closed') return badge('closed', '■', 'Closed')
  return badge('ok', '✓', 'In range')
}

/** The compliance engine's verdict (dashboard/compliance/verdict.ts), as a badge with icon and words. */
export function verdictBadge(verdict: string | null | undefined): HTMLSpanElement {
  const v = (verdict ?? 'pending').toUpperCase()
  const el =
    v === 'PASS'
      ? badge('ok', '✓', 'Pass')
      : v === 'PASS_WITH_EXCURSIONS_WITHIN_ALLOWANCE'
        ? badge('ok', '✓', 'Pass, excursions within allowance')
        : v === 'FAIL'
          ? badge('alarm', '✕', 'Fail')
          : v === 'INCOMPLETE_EVIDENCE'
            ? badge('warn', '?', 'Incomplete evidence')
            : v === 'PENDING'
              ? badge('info', '…', 'Pending')
              : badge('warn', '?', humanize(verdict ?? 'unknown'))
  el.classList.add('verdict')
  el.dataset.verdict = v
  return el
}

/** "excursion_alarm" -> "Excursion alarm" */
export function humanize(code: string): string {
  const s = code
    .replace(/[-_.]+/g, ' ')
    .trim()
    .toLowerCase()
  return s ? s[0].toUpperCase() + s.slice(1) : ''
}

export function alarmStateBadge(a: AlarmView): HTMLSpanElement {
  if (a.state === 'acknowledged') return badge('info', '✓', 'Acknowledged')
  if (a.state === 'resolved') return badge('closed', '■', 'Resolved')
  return badge('alarm', '▲', 'Open')
}

/** "2–8 °C", "≤ 25 °C", "≥ 15 °C" from a range in °C. */
export function rangeText(r: { minC: number | null; maxC: number | null }): string {
  const n = (v: number) => String(Number(v.toFixed(2))).replace('-', '−')
  if (r.minC !== null && r.maxC !== null)
    return `${n(r.minC)} to ${n(r.maxC)} °C`.replace(/^([^ ]+) to ([^ −]+) °C$/, '$1–$2 °C')
  if (r.maxC !== null) return `≤ ${n(r.maxC)} °C`
  if (r.minC !== null) return `≥ ${n(r.minC)} °C`
  return '—'
}

/**
 * The storage class word of a profile id, the numbers left to rangeText:
 * "refrigerated-2-8" -> "Refrigerated", "ultra-cold-90-60" -> "Ultra-cold",
 * "below-25" -> "Maximum only".
 */
export function classLabel(cls: string): string {
  const words = cls.split(/[-_]+/).filter(Boolean)
  while (words.length && /^\d+$/.test(words[words.length - 1])) words.pop()
  if (!words.length) return cls || '—'
  if (words.length === 1 && (words[0] === 'below' || words[0] === 'max')) return 'Do not store above'
  const s = words
    .join(' ')
    .replace(/^ultra cold$/, 'ultra-cold')
    .replace(/^controlled room$/, 'controlled room temperature')
  return s[0].toUpperCase() + s.slice(1)
}

/** A temperature, flagged (icon + class) when outside the range. */
export function tempCell(c: number | null, r: { minC: number | null; maxC: number | null }): HTMLSpanElement {
  const out = c !== null && ((r.maxC !== null && c > r.maxC) || (r.minC !== null && c < r.minC))
  const el = h(
    'span',
    { class: out ? 'temp is-out' : 'temp' },
    out ? icon(c !== null && r.maxC !== null && c > r.maxC ? '↑ ' : '↓ ') : null,
    formatTemp(c),
  )
  if (out) el.title = `Outside ${rangeText(r)}`
  return el
}

/** A "3 min ago" label kept current by startAgoTicker(); the exact time is in its title. */
export function ago(t: number | null | undefined, opts: { staleAfterMs?: number } = {}): HTMLSpanElement {
  const el = h('span', { class: 'ago' })
  setAgo(el, t, opts.staleAfterMs)
  return el
}

export function setAgo(el: HTMLElement, t: number | null | undefined, staleAfterMs?: number): void {
  if (t === null || t === undefined) {
    delete el.dataset.t
    el.textContent = 'never'
    el.title = ''
    return
  }
  el.dataset.t = String(t)
  if (staleAfterMs !== undefined) el.dataset.staleAfter = String(staleAfterMs)
  el.title = formatDateTime(t)
  tickOne(el, Date.now())
}

function tickOne(el: HTMLElement, now: number): void {
  const t = Number(el.dataset.t)
  if (!Number.isFinite(t)) return
  el.textContent = timeAgo(t, now)
  const stale = el.dataset.staleAfter ? now - t > Number(el.dataset.staleAfter) : false
  el.classList.toggle('stale', stale)
}

/** Refreshes every "ago" label once a second. */
export function startAgoTicker(): () => void {
  const id = setInterval(() => {
    const now = Date.now()
    for (const el of document.querySelectorAll<HTMLElement>('.ago[data-t]')) tickOne(el, now)
  }, 1000)
  return () => clearInterval(id)
}

export interface Column<T> {
  label: string
  cell: (row: T) => Child | Child[]
  className?: string
}

/** A table whose rows stack into labelled cards on narrow screens. */
export function table<T>(
  columns: Column<T>[],
  rows: T[],
  opts: { empty?: string; rowAttrs?: (row: T) => Record<string, string | null>; caption?: string } = {},
): HTMLDivElement {
  const thead = h(
    'thead',
    null,
    h('tr', null, ...columns.map((c) => h('th', { class: c.className ?? null, scope: 'col' }, c.label))),
  )
  const tbody = h('tbody')
  fillRows(tbody, columns, rows, opts)
  const t = h('table', null, opts.caption ? h('caption', { class: 'sr-only' }, opts.caption) : null, thead, tbody)
  return h('div', { class: 'table-wrap stack' }, t)
}

export function fillRows<T>(
  tbody: HTMLTableSectionElement,
  columns: Column<T>[],
  rows: T[],
  opts: { empty?: string; rowAttrs?: (row: T) => Record<string, string | null> } = {},
): void {
  tbody.replaceChildren()
  if (rows.length === 0) {
    tbody.append(h('tr', null, h('td', { class: 'empty', colspan: columns.length }, opts.empty ?? 'Nothing to show.')))
    return
  }
  for (const r of rows) {
    const tr = h('tr', opts.rowAttrs ? opts.rowAttrs(r) : null)
    for (const c of columns) {
      const v = c.cell(r)
      // One wrapper per cell keeps its parts together when rows stack on narrow screens.
      const td = h(
        'td',
        { class: c.className ?? null, 'data-label': c.label },
        h('div', { class: 'cell' }, ...(Array.isArray(v) ? v : [v])),
      )
      tr.append(td)
    }
    tbody.append(tr)
  }
}

/** Reasons offered when acknowledging an alarm (GDP 9.2: a deviation is documented and investigated). */
export const ACK_REASONS = [
  'Product quarantined pending QA assessment',
  'Within stability budget: product may be released',
  'Sensor or probe fault: product temperature not affected',
  'Data gap: device out of coverage, data to follow',
  'Handling event: door opened or loading',
  'Recipient and distributor informed',
  'Other (see comment)',
] as const

export function toast(message: string, kind: 'info' | 'alarm' = 'info'): void {
  const box = document.getElementById('toasts')
  if (!box) return
  const t = h('div', { class: kind === 'alarm' ? 'toast toast-alarm' : 'toast' }, message)
  box.append(t)
  setTimeout(() => t.remove(), 6000)
}

/**
 * One alarm as a card. When `canAck` and the alarm is open, it carries the
 * acknowledgement form; `onAcked` receives the updated alarm.
 */
export function alarmCard(
  a: AlarmView,
  opts: { canAck: boolean; showShipment?: boolean; product?: string; onAcked?: (a: AlarmView) => void },
): HTMLLIElement {
  const li = h('li', { class: `alarm-item is-${a.state}`, 'data-alarm-id': a.alarmId, 'data-state': a.state })
  const head = h(
    'div',
    { class: 'alarm-head' },
    alarmStateBadge(a),
    a.sensorLost ? badge('warn', '⌁', 'Sensor lost', 'The sensor stopped reporting while this alarm was open') : null,
    h('strong', null, humanize(a.kind)),
    a.severity
      ? h('span', { class: `severity severity-${a.severity === 'critical' ? 'critical' : 'other'}` }, a.severity)
      : null,
    opts.showShipment
      ? h('a', { href: `#/shipment/${encodeURIComponent(a.shipmentId)}`, class: 'id' }, a.shipmentId)
      : null,
    opts.showShipment && opts.product ? h('span', { class: 'muted product' }, opts.product) : null,
    a.deviceId ? h('span', { class: 'id muted' }, a.deviceId) : null,
  )
  const when = h(
    'p',
    { class: 'muted small' },
    `Raised ${formatDateTime(a.at)} (device time)`,
    a.endedAt
      ? ` · ended ${formatDateTime(a.endedAt)}, ${formatDuration(a.endedAt - a.at)} after it was raised`
      : a.state === 'open'
        ? ' · ongoing'
        : '',
  )
  li.append(
    head,
    h('p', a.rule ? { class: 'alarm-msg', title: `Rule ${a.rule}` } : { class: 'alarm-msg' }, a.message),
    when,
  )
  if (a.sensorLost) {
    li.append(
      h(
        'p',
        { class: 'small' },
        icon('⌁ '),
        'The sensor went silent while this alarm was open: the product temperature since then is unknown, not back in range.',
      ),
    )
  }
  if (a.ack) {
    li.append(
      h(
        'div',
        { class: 'ack-note' },
        h('strong', null, 'Acknowledged'),
        ' by ',
        h('span', null, a.ack.by),
        a.ack.at ? ` on ${formatDateTime(a.ack.at)}` : '',
        ': ',
        h('span', { class: 'ack-reason' }, a.ack.reason),
        a.ack.comment ? h('p', { class: 'comment-text' }, a.ack.comment) : null,
      ),
    )
  }
  if (a.notifications?.length) li.append(notificationList(a.notifications))
  if (a.state === 'open' && opts.canAck) {
    // The form opens on demand, so a list of open alarms stays scannable.
    const form = ackForm(a, opts.onAcked)
    form.hidden = true
    const open = h(
      'button',
      { type: 'button', class: 'btn btn-small', 'data-ack-open': a.alarmId, 'aria-expanded': 'false' },
      'Acknowledge…',
    )
    open.addEventListener('click', () => {
      form.hidden = false
      open.hidden = true
      open.setAttribute('aria-expanded', 'true')
      form.querySelector('select')?.focus()
    })
    form.addEventListener('reset', () => {
      form.hidden = true
      open.hidden = false
      open.setAttribute('aria-expanded', 'false')
    })
    li.append(open, form)
  }
  return li
}

let formSeq = 0

function ackForm(a: AlarmView, onAcked?: (a: AlarmView) => void): HTMLFormElement {
  const n = ++formSeq
  const reason = h(
    'select',
    { id: `ack-reason-${n}`, name: 'reason', required: true },
    h('option', { value: '' }, 'Choose a reason…'),
    ...ACK_REASONS.map((r) => h('option', { value: r }, r)),
  )
  const comment = h('textarea', {
    id: `ack-comment-${n}`,
    name: 'comment',
    maxlength: 2000,
    rows: 2,
    placeholder: 'What was done, who was informed (optional unless "Other")',
  })
  const err = h('p', { class: 'form-error', role: 'alert', hidden: true })
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Acknowledge alarm')
  const cancel = h('button', { type: 'reset', class: 'btn btn-quiet' }, 'Cancel')
  // novalidate: the checks below say what is missing in words, in the form itself.
  const form = h(
    'form',
    { class: 'ack-form', 'data-alarm-id': a.alarmId, novalidate: true },
    h(
      'div',
      { class: 'form-grid' },
      h('div', { class: 'form-row' }, h('label', { for: reason.id }, 'Reason'), reason),
      h('div', { class: 'form-row' }, h('label', { for: comment.id }, 'Comment'), comment),
    ),
    err,
    h('div', { class: 'downloads' }, submit, cancel),
  )
  const clear = () => {
    err.hidden = true
  }
  reason.addEventListener('change', clear)
  comment.addEventListener('input', clear)
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    err.hidden = true
    if (!reason.value) {
      err.textContent = 'Choose a reason.'
      err.hidden = false
      return
    }
    if (reason.value.startsWith('Other') && !comment.value.trim()) {
      err.textContent = 'Describe the reason in the comment.'
      err.hidden = false
      return
    }
    submit.disabled = true
    try {
      const updated = await ackAlarm(a.shipmentId, a.alarmId, reason.value, comment.value.trim())
      toast(`Alarm acknowledged on ${a.shipmentId}.`)
      onAcked?.(updated)
    } catch (e) {
      err.textContent = e instanceof ApiError ? e.message : 'Acknowledgement failed.'
      err.hidden = false
      submit.disabled = false
    }
  })
  return form
}

/** Who was told about an alarm, how, and whether it went out (a failed send is shown as such). */
function notificationList(list: readonly AlarmNotification[]): HTMLElement {
  return h(
    'details',
    { class: 'notifications small' },
    h(
      'summary',
      null,
      `Notified ${list.filter((n) => n.status === 'sent').length} of ${list.length}`,
      list.some((n) => n.status === 'failed') ? ' · some failed' : '',
    ),
    h(
      'ul',
      null,
      ...list.map((n) =>
        h(
          'li',
          { 'data-status': n.status },
          n.status === 'sent' ? badge('info', '✓', 'Sent') : badge('alarm', '✗', 'Failed'),
          ' ',
          n.level > 0 ? h('strong', null, `Escalation ${n.level}: `) : null,
          `${n.channel} to `,
          h('span', { class: 'id' }, n.to),
          ` · ${formatDateTime(n.at)} · ${n.attempts} attempt${n.attempts === 1 ? '' : 's'}`,
          n.error ? h('span', { class: 'muted' }, ` · ${n.error}`) : null,
        ),
      ),
    ),
  )
}
