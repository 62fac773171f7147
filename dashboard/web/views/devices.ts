/**
 * Devices: every registered logger with when it was last heard from, its
 * battery, what it still has buffered, its calibration due date (GDP 9.3 /
 * 3.3.1: monitoring equipment is calibrated at least yearly, so an overdue
 * date is flagged) and its registration state. Admins register and revoke.
 */
import { h, replace } from '../dom.ts'
import { listDevices, registerDevice, revokeDevice } from '../api/devices.ts'
import { ApiError } from '../api/request.ts'
import { ago, badge, table, toast, type Column } from '../components.ts'
import { formatDate, formatDuration, shortHash } from '../../common/format.ts'
import type { View } from '../context.ts'
import type { DeviceView } from '../types.ts'

const DAY = 86_400_000
const DUE_SOON_MS = 30 * DAY

export function calibrationState(dueAt: number | null, now: number): 'overdue' | 'soon' | 'ok' | 'unknown' {
  if (dueAt === null) return 'unknown'
  if (dueAt < now) return 'overdue'
  return dueAt - now <= DUE_SOON_MS ? 'soon' : 'ok'
}

function calibrationCell(d: DeviceView): HTMLElement {
  const now = Date.now()
  const st = calibrationState(d.calibrationDueAt, now)
  const date = h(
    'span',
    { class: 'cal-date', title: d.calibrationCertificate ? `Certificate ${d.calibrationCertificate}` : '' },
    formatDate(d.calibrationDueAt),
  )
  if (st === 'overdue')
    return h(
      'span',
      { class: 'cal-overdue' },
      badge('alarm', '!', 'Overdue', 'GDP 9.3: calibrate at least yearly'),
      ' ',
      date,
      h('span', { class: 'sub' }, `${formatDuration(now - (d.calibrationDueAt ?? now))} overdue`),
    )
  if (st === 'soon') return h('span', null, badge('warn', '◷', 'Due soon'), ' ', date)
  if (st === 'unknown') return h('span', { class: 'muted' }, 'No certificate')
  return h('span', null, date)
}

function batteryCell(d: DeviceView): HTMLElement | string {
  if (d.batteryPct === null) return '—'
  const m = h('meter', { min: 0, max: 100, low: 20, high: 50, optimum: 100, value: d.batteryPct })
  return h('span', { class: d.batteryPct <= 20 ? 'battery stale' : 'battery' }, m, `${d.batteryPct} %`)
}

export const devicesView: View = (root, ctx) => {
  let devices: DeviceView[] = []
  const listBox = h('div', { id: 'device-table' })
  const summary = h('p', { class: 'muted' })
  const dialog = h('dialog', { id: 'revoke-dialog' })

  const columns: Column<DeviceView>[] = [
    {
      label: 'Device',
      cell: (d) => [h('span', { class: 'id' }, d.deviceId), h('span', { class: 'sub' }, d.model ?? '')],
    },
    {
      label: 'State',
      cell: (d) =>
        d.state === 'revoked' ? badge('closed', '⊘', 'Revoked', d.revokeReason ?? '') : badge('ok', '✓', 'Registered'),
    },
    {
      label: 'Shipment',
      cell: (d) =>
        d.shipmentId
          ? h('a', { href: `#/shipment/${encodeURIComponent(d.shipmentId)}`, class: 'id' }, d.shipmentId)
          : h('span', { class: 'muted' }, '—'),
    },
    { label: 'Last seen', cell: (d) => ago(d.lastSeenAt) },
    { label: 'Battery', cell: batteryCell },
    {
      label: 'Buffered',
      className: 'num',
      cell: (d) =>
        d.buffered === null
          ? h('span', { class: 'muted', title: 'Not reported' }, '—')
          : d.buffered > 0
            ? h('strong', null, String(d.buffered))
            : '0',
    },
    { label: 'Calibration due', cell: calibrationCell },
    {
      label: 'Key',
      cell: (d) =>
        d.fingerprint ? h('span', { class: 'mono', title: d.publicKey ?? '' }, shortHash(d.fingerprint, 16, 0)) : '—',
    },
  ]
  if (ctx.can.admin) {
    columns.push({
      label: 'Actions',
      cell: (d) =>
        d.state === 'revoked'
          ? ''
          : (() => {
              const b = h(
                'button',
                { type: 'button', class: 'btn btn-danger btn-small', 'data-revoke': d.deviceId },
                'Revoke…',
              )
              b.addEventListener('click', () => openRevoke(d))
              return b
            })(),
    })
  }

  function render(): void {
    const now = Date.now()
    const overdue = devices.filter(
      (d) => d.state !== 'revoked' && calibrationState(d.calibrationDueAt, now) === 'overdue',
    ).length
    summary.textContent = `${devices.length} devices · ${devices.filter((d) => d.state === 'revoked').length} revoked · ${overdue} calibration overdue`
    replace(
      listBox,
      table(
        columns,
        [...devices].sort((a, b) => a.deviceId.localeCompare(b.deviceId)),
        {
          empty: 'No devices registered.',
          rowAttrs: (d) => ({ 'data-device-id': d.deviceId, class: d.state === 'revoked' ? 'row-closed' : null }),
        },
      ),
    )
  }

  async function load(): Promise<void> {
    try {
      devices = await listDevices()
      render()
    } catch (e) {
      replace(listBox, h('div', { class: 'notice notice-alarm' }, `Could not load devices: ${(e as Error).message}`))
    }
  }

  function openRevoke(d: DeviceView): void {
    const reason = h('input', {
      id: 'revoke-reason',
      required: true,
      maxlength: 200,
      placeholder: 'e.g. logger lost, key compromised',
    })
    const err = h('p', { class: 'form-error', hidden: true })
    const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel')
    const form = h(
      'form',
      { method: 'dialog', class: 'card' },
      h('h2', null, 'Revoke ', h('span', { class: 'id' }, d.deviceId)),
      h('p', { class: 'muted small' }, 'Its readings will be refused from now on. Stored readings stay in the ledger.'),
      h('div', { class: 'form-row' }, h('label', { for: reason.id }, 'Reason'), reason),
      err,
      h(
        'div',
        { class: 'downloads' },
        h('button', { type: 'submit', class: 'btn btn-danger' }, 'Revoke device'),
        cancel,
      ),
    )
    cancel.addEventListener('click', () => dialog.close())
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault()
      if (!reason.value.trim()) {
        err.textContent = 'Give a reason.'
        err.hidden = false
        return
      }
      try {
        const u = await revokeDevice(d.deviceId, reason.value.trim())
        devices = devices.map((x) => (x.deviceId === u.deviceId ? u : x))
        dialog.close()
        toast(`${d.deviceId} revoked.`)
        render()
      } catch (e) {
        err.textContent = e instanceof ApiError ? e.message : 'Revocation failed.'
        err.hidden = false
      }
    })
    replace(dialog, form)
    dialog.showModal()
  }

  function registerForm(): HTMLElement {
    const f = (id: string, label: string, input: HTMLInputElement) =>
      h('div', { class: 'form-row' }, h('label', { for: id }, label), input)
    const deviceId = h('input', {
      id: 'reg-id',
      required: true,
      pattern: '[a-z0-9][a-z0-9\\-]{0,31}',
      placeholder: 'logger-0042',
    })
    const key = h('input', {
      id: 'reg-key',
      required: true,
      pattern: '[0-9a-fA-F]{64}',
      placeholder: '64 hex characters',
      class: 'mono',
    })
    const model = h('input', { id: 'reg-model', placeholder: 'optional' })
    const cert = h('input', { id: 'reg-cert', placeholder: 'certificate number' })
    const calAt = h('input', { id: 'reg-cal-at', type: 'date' })
    const dueAt = h('input', { id: 'reg-cal-due', type: 'date' })
    calAt.addEventListener('change', () => {
      // GDP 9.3: yearly calibration, so the due date defaults to one year later.
      if (calAt.valueAsNumber && !dueAt.value) dueAt.valueAsNumber = calAt.valueAsNumber + 365 * DAY
    })
    const err = h('p', { class: 'form-error', role: 'alert', hidden: true })
    const form = h(
      'form',
      { id: 'register-form' },
      h(
        'div',
        { class: 'form-grid' },
        f(deviceId.id, 'Device id', deviceId),
        f(key.id, 'Public key (Ed25519, hex)', key),
        f(model.id, 'Model', model),
      ),
      h(
        'div',
        { class: 'form-grid' },
        f(cert.id, 'Calibration certificate', cert),
        f(calAt.id, 'Calibrated on', calAt),
        f(dueAt.id, 'Calibration due', dueAt),
      ),
      err,
      h('button', { type: 'submit', class: 'btn btn-primary' }, 'Register device'),
    )
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault()
      err.hidden = true
      if (!form.reportValidity()) return
      const body: Parameters<typeof registerDevice>[0] = {
        deviceId: deviceId.value.trim(),
        publicKey: key.value.trim().toLowerCase(),
      }
      if (model.value.trim()) body.model = model.value.trim()
      if (cert.value.trim() || calAt.value || dueAt.value) {
        if (!cert.value.trim() || !calAt.value || !dueAt.value) {
          err.textContent = 'A calibration needs its certificate, date and due date.'
          err.hidden = false
          return
        }
        body.calibration = {
          certificate: cert.value.trim(),
          calibratedAt: calAt.valueAsNumber,
          dueAt: dueAt.valueAsNumber,
        }
      }
      try {
        const d = await registerDevice(body)
        devices = [...devices.filter((x) => x.deviceId !== d.deviceId), d]
        form.reset()
        toast(`${d.deviceId} registered.`)
        render()
      } catch (e) {
        err.textContent =
          e instanceof ApiError ? `${e.message}${e.field ? ` (${e.field})` : ''}` : 'Registration failed.'
        err.hidden = false
      }
    })
    return h(
      'details',
      { class: 'card' },
      h('summary', null, h('strong', null, 'Register a device')),
      h('div', { class: 'register-body' }, form),
    )
  }

  replace(
    root,
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Devices'), summary)),
    ctx.can.admin ? registerForm() : null,
    listBox,
    h(
      'p',
      { class: 'muted small' },
      'Calibration: EU GDP 9.3 requires monitoring equipment to be calibrated at least once a year. "Buffered" estimates readings a device has signed that the ledger has not received yet.',
    ),
    dialog,
  )
  const unsub = ctx.stream.subscribe((e) => {
    if (e.type === 'device') {
      devices = [...devices.filter((x) => x.deviceId !== e.device.deviceId), e.device]
      render()
    }
  })
  // Last seen / battery change with every reading; refresh the list calmly rather than per reading.
  const timer = setInterval(() => void load(), 30_000)
  void load()
  return () => {
    unsub()
    clearInterval(timer)
  }
}
