/**
 * One shipment: the temperature chart (range band, excursions, gaps, late
 * readings, alarm markers), the compliance summary (verdict, MKT, time in /
 * above / below range), sensors and how long each has been silent, alarms
 * with the acknowledgement form, excursions, late readings, downloads.
 * New readings arrive from the stream and are drawn at their device time.
 */
import { h, icon, replace } from '../dom.ts'
import {
  changeShipmentDevices,
  closeShipment,
  getShipment,
  listDevices,
  receiveShipment,
  ApiError,
  CLOSE_MEANINGS,
  RECEIVE_MEANINGS,
} from '../api.ts'
import { createTemperatureChart, type ChartInput } from '../chart.ts'
import {
  ago,
  alarmCard,
  badge,
  classLabel,
  humanize,
  rangeText,
  statusBadge,
  table,
  tempCell,
  toast,
  verdictBadge,
  type Column,
} from '../components.ts'
import {
  formatClock,
  formatDateTime,
  formatDateTimeSec,
  formatDuration,
  formatTemp,
  shortHash,
} from '../../common/format.ts'
import { lateReadings, lateThreshold } from '../series.ts'
import type { View } from '../context.ts'
import { profileOrigin } from '../../compliance/index.ts'
import type { AlarmView, ComplianceSummary, ExcursionView, ReadingView, SensorState, ShipmentDetail } from '../types.ts'

/** docs/API.md: the server marks a reading late after two sampling intervals (default 60 s each). */
function lateAfter(d: ShipmentDetail): number {
  return d.profile.expectedIntervalMs ? 2 * d.profile.expectedIntervalMs : lateThreshold(d.profile.maxGapMs)
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

/** A sensor is silent when nothing has been stored from it for longer than the allowed gap. */
function silentFor(s: SensorState, d: ShipmentDetail, now: number): number | null {
  if (d.status === 'closed') return null
  // Silence is wall-clock time since the ledger last stored a reading from it; it grows between fetches.
  const since = s.lastSeenAt !== null ? now - s.lastSeenAt : (s.silentForMs ?? null)
  const limit = d.profile.maxGapMs ?? 10 * 60_000
  return since !== null && since > limit ? since : null
}

export const shipmentView: View = (root, ctx, params) => {
  const id = decodeURIComponent(params[0] ?? '')
  let detail: ShipmentDetail | null = null
  let chart: ReturnType<typeof createTemperatureChart> | null = null
  let disposed = false

  const head = h('div', { class: 'page-head' })
  const notices = h('div', { id: 'shipment-notices' })
  const summary = h('div', { class: 'card', id: 'compliance' })
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
  const chartCard = h(
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
  const sensorsBox = h('section', { class: 'card', id: 'sensors' })
  const alarmsBox = h('section', { class: 'card', id: 'alarms' })
  const excursionsBox = h('section', { class: 'card', id: 'excursions' })
  const lateBox = h('section', { class: 'card', id: 'late-readings' })
  const downloadsBox = h('section', { class: 'card', id: 'downloads' })

  replace(root, h('p', { class: 'loading' }, 'Loading shipment…'))

  function renderHead(d: ShipmentDetail): void {
    // A reload (live events) must not pull an open dialog away from under the user's typing.
    if (head.querySelector('dialog[open]')) {
      reloadWhenClosed()
      return
    }
    replace(
      head,
      h(
        'div',
        null,
        h('div', { class: 'breadcrumb' }, h('a', { href: '#/fleet' }, '← Fleet')),
        h('h1', { id: 'shipment-title' }, h('span', { class: 'product' }, d.product)),
        h(
          'p',
          { class: 'muted' },
          h('span', { class: 'id' }, d.shipmentId),
          ' · ',
          d.route.from,
          ' → ',
          d.route.to,
          ' · ',
          `${classLabel(d.productClass)} (${rangeText(d.range)})`,
        ),
      ),
      h(
        'div',
        { class: 'downloads' },
        statusBadge(d.status),
        d.compliance ? verdictBadge(d.compliance.verdict) : null,
        ctx.can.operate && d.status !== 'closed' ? loggersButton(d) : null,
        ctx.can.operate && d.status !== 'closed' && !d.receipt ? receiveButton(d) : null,
        ctx.can.operate && d.status !== 'closed' ? closeButton(d) : null,
      ),
    )
  }

  /** Receiving at the destination, signed like the close (docs/API.md): meaning, reason, password again. */
  function receiveButton(d: ShipmentDetail): HTMLElement {
    const dialog = h('dialog', { id: 'receive-dialog' })
    const open = h('button', { type: 'button', class: 'btn btn-small', id: 'receive-shipment' }, 'Receive…')
    const err = h('p', { class: 'form-error', role: 'alert', hidden: true })
    const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel')
    const password = h('input', {
      id: 'receive-password',
      type: 'password',
      autocomplete: 'current-password',
      required: true,
      maxlength: '200',
    }) as HTMLInputElement
    const meaning = h(
      'select',
      { id: 'receive-meaning' },
      ...RECEIVE_MEANINGS.map((m) => h('option', { value: m }, m)),
    ) as HTMLSelectElement
    const reason = h('textarea', {
      id: 'receive-reason',
      rows: '2',
      maxlength: '500',
      required: true,
    }) as HTMLTextAreaElement
    const form = h(
      'form',
      { method: 'dialog', class: 'card' },
      h('h2', null, 'Receive ', h('span', { class: 'id' }, d.shipmentId)),
      h(
        'p',
        null,
        `The consignment has arrived at ${d.route.to}. Your signed receipt is written to the ledger; the shipment stays open until it is closed.`,
      ),
      h(
        'fieldset',
        { id: 'receive-signature' },
        h('legend', null, 'Electronic signature'),
        h('label', { for: 'receive-meaning' }, 'Meaning'),
        meaning,
        h('label', { for: 'receive-reason' }, 'Reason or remark (required)'),
        reason,
        h('label', { for: 'receive-password' }, 'Your password (re-enter to sign)'),
        password,
      ),
      err,
      h(
        'div',
        { class: 'downloads' },
        h('button', { type: 'submit', class: 'btn btn-primary', id: 'receive-submit' }, 'Sign receipt'),
        cancel,
      ),
    )
    cancel.addEventListener('click', () => dialog.close())
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault()
      err.hidden = true
      const fail = (m: string) => {
        err.textContent = m
        err.hidden = false
      }
      if (reason.value.trim() === '') return fail('Give the reason or remark for your signature.')
      if (password.value === '') return fail('Re-enter your password to sign.')
      try {
        await receiveShipment(d.shipmentId, {
          password: password.value,
          meaning: meaning.value,
          reason: reason.value.trim(),
        })
        password.value = ''
        dialog.close()
        toast(`${d.shipmentId} received and signed.`)
        void load(false)
      } catch (e) {
        password.value = ''
        fail(e instanceof ApiError ? e.message : 'Receiving failed.')
        if (e instanceof ApiError && e.code === 'ERR_SIGNATURE_PASSWORD') password.focus()
      }
    })
    dialog.append(form)
    open.addEventListener('click', () => dialog.showModal())
    return h('span', null, open, dialog)
  }

  /** Assign loggers to the open shipment or remove them, effective from a time (default now). */
  function loggersButton(d: ShipmentDetail): HTMLElement {
    const dialog = h('dialog', { id: 'loggers-dialog' })
    const open = h('button', { type: 'button', class: 'btn btn-small', id: 'change-loggers' }, 'Loggers…')
    const err = h('p', { class: 'form-error', role: 'alert', hidden: true })
    const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel')
    const current = d.loggers.filter((l) => l.until === null).map((l) => l.deviceId)
    const ever = new Set(d.loggers.map((l) => l.deviceId))
    const removeBox = h(
      'div',
      { class: 'logger-picks', id: 'loggers-remove' },
      ...current.map((id) =>
        h(
          'label',
          { class: 'check' },
          h('input', { type: 'checkbox', name: 'remove', value: id }),
          h('span', { class: 'id' }, id),
        ),
      ),
    )
    const addBox = h(
      'div',
      { class: 'logger-picks', id: 'loggers-add' },
      h('span', { class: 'muted small' }, 'Loading devices…'),
    )
    const at = h('input', { id: 'loggers-at', type: 'datetime-local' }) as HTMLInputElement
    const form = h(
      'form',
      { method: 'dialog', class: 'card' },
      h('h2', null, 'Loggers of ', h('span', { class: 'id' }, d.shipmentId)),
      h(
        'p',
        { class: 'small' },
        "An added logger's readings count from the time below; a removed logger's readings after it do not count. Written to the ledger under your name.",
      ),
      h('fieldset', null, h('legend', null, 'Remove'), removeBox),
      h('fieldset', null, h('legend', null, 'Add'), addBox),
      h('label', { for: 'loggers-at' }, 'Effective from (UTC; empty: now)'),
      at,
      err,
      h(
        'div',
        { class: 'downloads' },
        h('button', { type: 'submit', class: 'btn btn-primary', id: 'loggers-submit' }, 'Save'),
        cancel,
      ),
    )
    cancel.addEventListener('click', () => dialog.close())
    open.addEventListener('click', async () => {
      dialog.showModal()
      try {
        const devices = (await listDevices()).filter((x) => x.state === 'registered' && !ever.has(x.deviceId))
        replace(
          addBox,
          ...(devices.length
            ? devices.map((x) =>
                h(
                  'label',
                  { class: 'check' },
                  h('input', { type: 'checkbox', name: 'add', value: x.deviceId }),
                  h('span', { class: 'id' }, x.deviceId),
                  x.shipmentId ? h('span', { class: 'muted small' }, ` (now in ${x.shipmentId})`) : null,
                ),
              )
            : [h('span', { class: 'muted small' }, 'No other registered logger.')]),
        )
      } catch (e) {
        replace(addBox, h('span', { class: 'form-error' }, `Could not load devices: ${(e as Error).message}`))
      }
    })
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault()
      err.hidden = true
      const picked = (name: string) =>
        [...form.querySelectorAll<HTMLInputElement>(`input[name=${name}]:checked`)].map((x) => x.value)
      const add = picked('add'),
        remove = picked('remove')
      if (!add.length && !remove.length) {
        err.textContent = 'Choose a logger to add or remove.'
        err.hidden = false
        return
      }
      try {
        await changeShipmentDevices(d.shipmentId, add, remove, at.value ? Date.parse(`${at.value}:00Z`) : undefined)
        dialog.close()
        toast(`Loggers of ${d.shipmentId} changed.`)
        void load(false)
      } catch (e) {
        err.textContent = e instanceof ApiError ? e.message : 'Changing the loggers failed.'
        err.hidden = false
      }
    })
    dialog.append(form)
    return h('span', null, open, dialog)
  }

  /** Closing ends the shipment's window: its verdict becomes final (docs/API.md). */
  function closeButton(d: ShipmentDetail): HTMLElement {
    const dialog = h('dialog', { id: 'close-dialog' })
    const open = h('button', { type: 'button', class: 'btn btn-small', id: 'close-shipment' }, 'Close shipment…')
    const err = h('p', { class: 'form-error', role: 'alert', hidden: true })
    const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel')
    // Shown when the ledger refuses because a logger's chain does not reach now (ERR_EVIDENCE_ENDS_EARLY).
    const shortList = h('ul', { id: 'ends-early-devices' })
    const reason = h('textarea', {
      id: 'ends-early-reason',
      name: 'reason',
      rows: '2',
      maxlength: '500',
    }) as HTMLTextAreaElement
    const early = h(
      'fieldset',
      { id: 'ends-early', hidden: true },
      h('legend', null, 'Evidence ends early'),
      h(
        'p',
        null,
        'These loggers have no reading at or after now in the ledger. Closing anyway records that the evidence ends early: the verdict becomes INCOMPLETE_EVIDENCE and your reason is written to the ledger.',
      ),
      shortList,
      h('label', { for: 'ends-early-reason' }, 'Reason (required)'),
      reason,
    )
    // The electronic signature (EU GMP Annex 11 §14, 21 CFR 11.50/11.200): password again, meaning, reason.
    const password = h('input', {
      id: 'close-password',
      type: 'password',
      autocomplete: 'current-password',
      required: true,
      maxlength: '200',
    }) as HTMLInputElement
    const meaning = h(
      'select',
      { id: 'close-meaning' },
      ...CLOSE_MEANINGS.map((m) => h('option', { value: m }, m)),
    ) as HTMLSelectElement
    const sigReason = h('textarea', {
      id: 'close-reason',
      rows: '2',
      maxlength: '500',
      required: true,
    }) as HTMLTextAreaElement
    const signing = h(
      'fieldset',
      { id: 'close-signature' },
      h('legend', null, 'Electronic signature'),
      h('label', { for: 'close-meaning' }, 'Meaning'),
      meaning,
      h('label', { for: 'close-reason' }, 'Reason (required)'),
      sigReason,
      h('label', { for: 'close-password' }, 'Your password (re-enter to sign)'),
      password,
    )
    // Open critical alarms: acknowledge each (link to the alarms page) or override with a reason.
    const critical = d.alarms.filter((a) => a.state === 'open' && a.severity === 'critical')
    const overrideBox = h('input', { id: 'close-override', type: 'checkbox' }) as HTMLInputElement
    const overrideReason = h('textarea', {
      id: 'close-override-reason',
      rows: '2',
      maxlength: '500',
    }) as HTMLTextAreaElement
    const alarmsBox = h(
      'fieldset',
      { id: 'close-alarms', hidden: critical.length === 0 },
      h('legend', null, `Open critical alarms (${critical.length})`),
      h(
        'ul',
        null,
        ...critical.map((a) => h('li', null, a.message, ' — ', h('a', { href: '#/alarms' }, 'acknowledge'))),
      ),
      h('label', { class: 'check' }, overrideBox, ' Close anyway (override, recorded in the signature)'),
      h('label', { for: 'close-override-reason' }, 'Override reason'),
      overrideReason,
    )
    const form = h(
      'form',
      { method: 'dialog', class: 'card' },
      h('h2', null, 'Close ', h('span', { class: 'id' }, d.shipmentId), '?'),
      h(
        'p',
        null,
        'Readings measured after now no longer belong to this shipment, and its verdict becomes final. This is written to the ledger with your signature and cannot be undone.',
      ),
      alarmsBox,
      early,
      signing,
      err,
      h(
        'div',
        { class: 'downloads' },
        h('button', { type: 'submit', class: 'btn btn-primary', id: 'close-submit' }, 'Sign and close'),
        cancel,
      ),
    )
    cancel.addEventListener('click', () => dialog.close())
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault()
      err.hidden = true
      const fail = (m: string) => {
        err.textContent = m
        err.hidden = false
      }
      if (!early.hidden && reason.value.trim() === '') return fail('Give the reason the evidence ends early.')
      if (sigReason.value.trim() === '') return fail('Give the reason for your signature.')
      if (password.value === '') return fail('Re-enter your password to sign.')
      if (overrideBox.checked && overrideReason.value.trim() === '')
        return fail('Give the reason for closing over open critical alarms.')
      try {
        await closeShipment(
          d.shipmentId,
          { password: password.value, meaning: meaning.value, reason: sigReason.value.trim() },
          early.hidden ? undefined : reason.value.trim(),
          overrideBox.checked ? overrideReason.value.trim() : undefined,
        )
        password.value = ''
        dialog.close()
        toast(`${d.shipmentId} closed and signed.`)
        void load(false)
      } catch (e) {
        password.value = ''
        if (e instanceof ApiError && e.code === 'ERR_EVIDENCE_ENDS_EARLY') {
          const devices = (Array.isArray(e.details?.devices) ? e.details.devices : []) as {
            deviceId: string
            headSeq: number
            headDeviceTime: number | null
          }[]
          shortList.replaceChildren(
            ...devices.map((x) =>
              h(
                'li',
                null,
                h('span', { class: 'id' }, x.deviceId),
                x.headDeviceTime === null
                  ? ': no reading yet'
                  : `: last chained reading seq ${x.headSeq} at ${formatDateTime(x.headDeviceTime)}`,
              ),
            ),
          )
          early.hidden = false
          reason.focus()
          return
        }
        if (e instanceof ApiError && e.code === 'ERR_CLOSE_OPEN_ALARMS') alarmsBox.hidden = false
        fail(e instanceof ApiError ? e.message : 'Closing failed.')
      }
    })
    dialog.append(form)
    open.addEventListener('click', () => dialog.showModal())
    return h('span', null, open, dialog)
  }

  function renderNotices(d: ShipmentDetail): void {
    const now = Date.now()
    const items: HTMLElement[] = []
    const lostAlarms = d.alarms.filter((x) => x.sensorLost && x.state === 'open')
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
    if (d.postClose.length) {
      items.push(
        h(
          'div',
          { class: 'notice notice-alarm', id: 'post-close' },
          icon('▲ '),
          h('strong', null, `Post-close evidence (${d.postClose.length})`),
          ': readings logged after the close with device times inside the closed window. They are not part of the verdict; QA should review them.',
          h(
            'ul',
            null,
            ...d.postClose
              .slice(0, 50)
              .map((r) =>
                h(
                  'li',
                  { 'data-post-close': `${r.deviceId}:${r.seq}` },
                  h('span', { class: 'id' }, r.deviceId),
                  ` seq ${r.seq}, ${formatDateTime(r.t)}, ${formatTemp(r.tempC, 2)}`,
                ),
              ),
          ),
          d.postClose.length > 50
            ? h(
                'p',
                { class: 'muted small' },
                `… and ${d.postClose.length - 50} more (see the PDF report or the evidence bundle).`,
              )
            : null,
        ),
      )
    }
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
    replace(notices, ...items)
  }

  function renderSummary(d: ShipmentDetail): void {
    const c = d.compliance
    const facts: [string, Node | string][] = []
    const fact = (k: string, v: Node | string) => facts.push([k, v])
    if (c) {
      fact('Verdict', verdictBadge(c.verdict))
      fact('MKT', c.mktC === null ? '—' : formatTemp(c.mktC, 2))
      fact('In range', formatDuration(c.timeInRangeMs))
      fact('Above range', formatDuration(c.timeAboveMs))
      fact('Below range', formatDuration(c.timeBelowMs))
      if (c.readingCount !== null && c.readingCount !== undefined) fact('Readings', String(c.readingCount))
    }
    fact('Rule profile', d.profile.name ?? '—')
    if (d.profile.labelStatement) fact('Label', d.profile.labelStatement)
    if (d.profileHash && d.profile.raw)
      fact('Profile origin', originBadge(d.profile.raw as { id?: unknown; version?: unknown }, d.profileHash))
    if (d.profileHash)
      fact('Profile hash', h('span', { class: 'mono', title: d.profileHash }, shortHash(d.profileHash, 12, 6)))
    if (d.profile.maxGapMs) fact('Max gap', formatDuration(d.profile.maxGapMs))
    if (d.gs1) {
      fact('SSCC', h('span', { class: 'mono' }, d.gs1.sscc))
      fact('GTIN / lot', h('span', { class: 'mono' }, `${d.gs1.gtin} / ${d.gs1.lot}`))
      fact('Expiry', d.gs1.expiry)
    }
    fact('Started', formatDateTime(d.startAt))
    if (d.closedAt) fact('Closed', formatDateTime(d.closedAt))
    // Who created, received and closed it, with their signatures (EU GMP Annex 11 §14, 21 CFR 11.50).
    if (d.createdBy) fact('Created by', `${d.createdBy}${d.createdAt ? `, ${formatDateTime(d.createdAt)}` : ''}`)
    if (d.receipt)
      fact(
        'Received by',
        `${d.receipt.by}, "${d.receipt.meaning}", ${d.receipt.reason}; received ${formatDateTime(d.receipt.receivedAt)}, signed ${formatDateTime(d.receipt.at)}`,
      )
    else if (d.status !== 'closed') fact('Received by', h('span', { class: 'muted' }, 'not received yet'))
    if (d.closeSignature)
      fact(
        'Closed by',
        `${d.closeSignature.by}, "${d.closeSignature.meaning}", ${d.closeSignature.reason}; signed ${formatDateTime(d.closeSignature.at)}`,
      )
    replace(
      summary,
      h('h2', null, 'Compliance'),
      h('dl', { class: 'facts' }, ...facts.flatMap(([k, v]) => [h('dt', null, k), h('dd', { 'data-fact': k }, v)])),
      ...reasonLists(c),
      c?.loggers.length ? loggerTable(c.loggers) : null,
    )
  }

  /** Before the first live reading: say what the chart already shows, not "waiting" under a full chart or on a closed shipment. */
  function renderLiveLine(d: ShipmentDetail): void {
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
    replace(
      liveLine,
      'Latest: ',
      h('span', { class: 'id' }, last.deviceId),
      ` #${last.seq}: `,
      h('strong', null, last.fault ? 'sensor fault' : formatTemp(last.tempC, 2)),
      ` measured ${formatClock(last.t)} UTC; new readings appear here as they arrive.`,
    )
  }

  function renderSensors(d: ShipmentDetail): void {
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
    const assignments = changed
      ? h(
          'div',
          { class: 'table-wrap', id: 'logger-windows' },
          h(
            'table',
            { class: 'small' },
            h('thead', null, h('tr', null, ...['Logger', 'Counts from', 'Until'].map((x) => h('th', null, x)))),
            h(
              'tbody',
              null,
              ...d.loggers.map((l) =>
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
            ),
          ),
        )
      : null
    replace(
      sensorsBox,
      h('h2', null, 'Sensors'),
      table(cols, d.sensors, { empty: 'No sensor state yet.' }),
      assignments,
    )
  }

  function renderAlarms(d: ShipmentDetail): void {
    const sorted = [...d.alarms].sort(
      (a, b) => (a.state === 'open' ? 0 : 1) - (b.state === 'open' ? 0 : 1) || b.at - a.at,
    )
    const list = h('ul', { class: 'alarm-list', id: 'alarm-list' })
    const onAcked = (a: AlarmView) => {
      if (!detail) return
      detail.alarms = detail.alarms.map((x) => (x.alarmId === a.alarmId ? a : x))
      renderAlarms(detail)
      renderNotices(detail)
      chart?.update(chartInput(detail))
      ctx.refreshAlarmCount()
      // Status and counts are the server's to say: fetch them again.
      reloadSoon()
    }
    // Keep a half-filled acknowledgement form when the list is redrawn for another alarm.
    const existing = new Map(
      [...alarmsBox.querySelectorAll<HTMLLIElement>('li[data-alarm-id]')].map((li) => [li.dataset.alarmId, li]),
    )
    for (const a of sorted) {
      const old = existing.get(a.alarmId)
      list.append(
        old &&
          old.dataset.state === a.state &&
          old.dataset.kind === a.kind &&
          old.dataset.lost === String(!!a.sensorLost)
          ? old
          : mark(alarmCard(a, { canAck: ctx.can.operate, onAcked }), a),
      )
    }
    if (!sorted.length) list.append(h('li', { class: 'empty' }, 'No alarms on this shipment.'))
    replace(
      alarmsBox,
      h(
        'h2',
        null,
        'Alarms',
        h('span', { class: 'muted small' }, ` ${d.alarms.filter((a) => a.state === 'open').length} open`),
      ),
      list,
    )
  }

  const mark = (li: HTMLLIElement, a: AlarmView) => {
    li.dataset.kind = a.kind
    li.dataset.lost = String(!!a.sensorLost)
    return li
  }

  function renderExcursions(d: ShipmentDetail): void {
    const cols: Column<ExcursionView>[] = [
      { label: 'Kind', cell: (e) => [humanize(e.kind), e.ruleId ? h('span', { class: 'sub mono' }, e.ruleId) : null] },
      { label: 'Sensor', cell: (e) => h('span', { class: 'id' }, e.deviceId ?? 'all') },
      { label: 'From', cell: (e) => formatDateTime(e.from) },
      { label: 'To', cell: (e) => (e.to === null ? badge('alarm', '▲', 'Ongoing') : formatDateTime(e.to)) },
      { label: 'Duration', className: 'num', cell: (e) => formatDuration(e.durationMs) },
      { label: 'Peak', className: 'num', cell: (e) => tempCell(e.peakC ?? null, d.range) },
    ]
    replace(
      excursionsBox,
      h('h2', null, 'Excursions'),
      table(
        cols,
        [...d.excursions].sort((a, b) => a.from - b.from),
        { empty: 'No excursions: every reading so far is within the range.' },
      ),
    )
  }

  function renderLate(d: ShipmentDetail): void {
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
    const shown = late.slice(-200)
    const wasOpen = lateBox.querySelector('details')?.open
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
    list.open = wasOpen ?? late.length <= 20
    replace(
      lateBox,
      h('h2', null, badge('late', '◆', 'Late'), ' Late readings'),
      h(
        'p',
        { class: 'muted small' },
        'Readings a sensor buffered while out of coverage and delivered afterwards. They are drawn at the time they were measured, never as live data.',
      ),
      late.length ? list : h('p', { class: 'muted' }, 'None: every reading arrived on time.'),
    )
  }

  function renderDownloads(d: ShipmentDetail): void {
    replace(
      downloadsBox,
      h('h2', null, 'Reports and evidence'),
      h(
        'div',
        { class: 'downloads' },
        ...d.downloads.map((x) =>
          h('a', { class: 'btn', href: x.href, download: '', 'data-download': x.kind }, icon('⤓'), x.label),
        ),
      ),
      h(
        'p',
        { class: 'muted small' },
        'The evidence bundle can be checked offline on the Verify tab or with "coldproof verify".',
      ),
    )
  }

  function renderAll(d: ShipmentDetail): void {
    renderHead(d)
    renderNotices(d)
    renderSummary(d)
    renderSensors(d)
    renderAlarms(d)
    renderExcursions(d)
    renderLate(d)
    renderDownloads(d)
    renderLiveLine(d)
  }

  async function load(first: boolean): Promise<void> {
    try {
      const d = await getShipment(id)
      if (disposed) return
      // Keep readings that arrived over the stream while the request was in flight.
      if (detail && !first) {
        const seen = new Set(d.readings.map((r) => `${r.deviceId}/${r.seq}`))
        for (const r of detail.readings) if (!seen.has(`${r.deviceId}/${r.seq}`)) d.readings.push(r)
      }
      detail = d
      if (first) {
        replace(
          root,
          head,
          notices,
          h(
            'div',
            { class: 'grid grid-2' },
            h('div', null, chartCard, sensorsBox, alarmsBox),
            h('div', null, summary, downloadsBox),
          ),
          excursionsBox,
          lateBox,
        )
        chart = createTemperatureChart(canvas, chartInput(d))
        chart.onZoom((span) => {
          resetZoom.hidden = span === null
        })
      } else {
        chart?.update(chartInput(d))
      }
      renderAll(d)
    } catch (e) {
      if (!first) return
      const msg =
        e instanceof ApiError && e.status === 404
          ? `There is no shipment "${id}".`
          : `Could not load the shipment: ${(e as Error).message}`
      replace(
        root,
        h('div', { class: 'breadcrumb' }, h('a', { href: '#/fleet' }, '← Fleet')),
        h('div', { class: 'notice notice-alarm' }, msg),
      )
    }
  }

  /** Redraws the head once its open dialog closes (a reload happened meanwhile). */
  function reloadWhenClosed(): void {
    const dlg = head.querySelector('dialog[open]')
    if (dlg && !(dlg as HTMLElement).dataset.waiting) {
      ;(dlg as HTMLElement).dataset.waiting = '1'
      dlg.addEventListener(
        'close',
        () => {
          if (detail && !disposed) renderHead(detail)
        },
        { once: true },
      )
    }
  }

  let pending: ReturnType<typeof setTimeout> | null = null
  const reloadSoon = () => {
    if (!pending)
      pending = setTimeout(() => {
        pending = null
        void load(false)
      }, 300)
  }
  let redraw: ReturnType<typeof setTimeout> | null = null

  const unsub = ctx.stream.subscribe((e) => {
    if (!detail) return
    if (
      e.type === 'reading' &&
      (e.shipmentIds.includes(id) || (e.shipmentIds.length === 0 && detail.devices.includes(e.reading.deviceId)))
    ) {
      const r = e.reading
      if (detail.readings.some((x) => x.deviceId === r.deviceId && x.seq === r.seq)) return
      detail.readings.push(r)
      const s = detail.sensors.find((x) => x.deviceId === r.deviceId)
      if (s && !r.late && (s.lastReadingT ?? 0) <= r.t) {
        s.lastReadingT = r.t
        s.lastSeenAt = r.receivedAt ?? Date.now()
        s.silentForMs = 0
        if (!r.fault) s.currentTempC = r.tempC
      }
      replace(
        liveLine,
        r.late ? badge('late', '◆', 'Late') : badge('ok', '●', 'Live'),
        ' ',
        h('span', { class: 'id' }, r.deviceId),
        ` #${r.seq}: `,
        h('strong', null, r.fault ? 'sensor fault' : formatTemp(r.tempC, 2)),
        ` measured ${formatClock(r.t)} UTC`,
      )
      liveLine.dataset.seq = String(r.seq)
      // Batch redraws: a burst of buffered readings draws once.
      if (!redraw)
        redraw = setTimeout(() => {
          redraw = null
          if (detail) {
            chart?.update(chartInput(detail))
            renderSensors(detail)
            renderNotices(detail)
            renderLate(detail)
          }
        }, 150)
    } else if ((e.type === 'alarm' || e.type === 'ack') && e.alarm.shipmentId === id) {
      if (e.type === 'alarm' && e.alarm.state === 'open' && !detail.alarms.some((a) => a.alarmId === e.alarm.alarmId))
        toast(`New alarm on ${id}: ${e.alarm.message}`, 'alarm')
      reloadSoon()
    } else if (e.type === 'shipment' && e.shipment.shipmentId === id) {
      reloadSoon()
    }
  })
  const unre = ctx.stream.onReconnect(reloadSoon)
  // Silence grows while nothing arrives: re-check it every 15 s.
  const silenceTimer = setInterval(() => {
    if (detail) {
      renderNotices(detail)
      renderSensors(detail)
    }
  }, 15_000)
  void load(true)
  return () => {
    disposed = true
    unsub()
    unre()
    clearInterval(silenceTimer)
    if (pending) clearTimeout(pending)
    if (redraw) clearTimeout(redraw)
    chart?.destroy()
  }
}

/** Built-in (by the hash ColdProof ships), custom, or a look-alike of a built-in logged before ids were reserved. */
function originBadge(profile: { id?: unknown; version?: unknown }, hash: string): HTMLSpanElement {
  const o = profileOrigin(profile, hash)
  if (o.kind === 'builtin') return badge('ok', '✓', `built-in ${o.id} v${o.version}, hash matches`)
  if (o.kind === 'custom') return badge('info', '✎', `CUSTOM profile ${o.id} v${o.version}`)
  return badge('alarm', '✕', `NOT the built-in ${o.id}: another hash`)
}

/** The reasons that decided the verdict first, apart from those only noted (a QA reader asks "why this verdict?"). */
function reasonLists(c: ComplianceSummary | null): (HTMLElement | null)[] {
  if (!c || c.reasons.length === 0) return []
  const deciding = c.reasons.slice(0, c.deciding)
  const noted = c.reasons.slice(c.deciding)
  return [
    deciding.length
      ? h('p', { class: 'small', 'data-reasons': 'deciding' }, h('strong', null, 'Decided by: '), deciding.join('; '))
      : null,
    noted.length
      ? h(
          'details',
          { class: 'small', 'data-reasons': 'noted', ...(deciding.length ? {} : { open: '' }) },
          h('summary', null, deciding.length ? `Also noted (${noted.length})` : `Noted (${noted.length})`),
          h('ul', null, ...noted.map((r) => h('li', null, r))),
        )
      : null,
  ]
}

/** Min, max and mean per logger over its judged time. */
function loggerTable(loggers: ComplianceSummary['loggers']): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'small logger-figures' },
      h('thead', null, h('tr', null, ...['Logger', 'Min', 'Max', 'Mean', 'Readings'].map((x) => h('th', null, x)))),
      h(
        'tbody',
        null,
        ...loggers.map((l) =>
          h(
            'tr',
            null,
            h('td', { class: 'id' }, l.deviceId),
            h('td', null, formatTemp(l.minC, 2)),
            h('td', null, formatTemp(l.maxC, 2)),
            h('td', null, formatTemp(l.meanC, 2)),
            h('td', null, String(l.readings)),
          ),
        ),
      ),
    ),
  )
}
