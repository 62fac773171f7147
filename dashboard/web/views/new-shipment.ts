/**
 * New shipment (operator, admin): product, a built-in rule profile or a previous
 * shipment as the template (its product, profile, route and loggers), GS1
 * identifiers, route and the loggers chosen from the registered devices. The
 * server checks everything (GS1 check digits included); its message is shown
 * next to the field it names.
 */
import { h, replace } from '../dom.ts'
import { listDevices } from '../api/devices.ts'
import { listProfiles } from '../api/profiles.ts'
import { ApiError } from '../api/request.ts'
import { createShipment, shipmentTemplate, type NewShipment, type ShipmentTemplate } from '../api/shipment-create.ts'
import { listShipments } from '../api/shipment-list.ts'
import { rangeText, toast } from '../components.ts'
import type { View } from '../context.ts'
import type { DeviceView } from '../types.ts'

/** `datetime-local` value (UTC) for ms, and back. */
const toLocalInput = (ms: number) => new Date(ms).toISOString().slice(0, 16)
const fromLocalInput = (v: string) => Date.parse(`${v}:00Z`)

export const newShipmentView: View = (root, ctx, params) => {
  if (!ctx.can.operate) {
    replace(root, h('div', { class: 'notice notice-warn' }, 'Creating shipments needs the operator or admin role.'))
    return
  }
  const input = (id: string, attrs: Record<string, string | boolean> = {}) =>
    h('input', { id, name: id, ...attrs }) as HTMLInputElement
  const shipmentId = input('ns-id', {
    required: true,
    maxlength: '64',
    pattern: '[A-Za-z0-9][A-Za-z0-9._:\\-]{0,63}',
    autocomplete: 'off',
  })
  const product = input('ns-product', { required: true, maxlength: '200' })
  const template = h(
    'select',
    { id: 'ns-template' },
    h('option', { value: '' }, 'None: start from a built-in profile'),
  ) as HTMLSelectElement
  const profile = h('select', { id: 'ns-profile', required: true }) as HTMLSelectElement
  const sscc = input('ns-sscc', { inputmode: 'numeric', maxlength: '18', autocomplete: 'off' })
  const gtin = input('ns-gtin', { inputmode: 'numeric', maxlength: '14', autocomplete: 'off' })
  const lot = input('ns-lot', { maxlength: '20', autocomplete: 'off' })
  const expiry = input('ns-expiry', { type: 'date' })
  const from = input('ns-from', { required: true, maxlength: '200' })
  const to = input('ns-to', { required: true, maxlength: '200' })
  const startAt = input('ns-start', { type: 'datetime-local' })
  const loggers = h(
    'div',
    { id: 'ns-loggers', class: 'logger-picks' },
    h('p', { class: 'muted small' }, 'Loading devices…'),
  )
  const err = h('p', { class: 'form-error', role: 'alert', id: 'ns-error', hidden: true })
  /** A custom profile copied from the template (kept as logged: its hash binds its rules). */
  let customProfile: Record<string, unknown> | null = null

  /** One labelled field with a slot for the server's message about it. */
  const fieldErrors = new Map<string, HTMLElement>()
  const row = (key: string, label: string, control: HTMLElement, hint?: string) => {
    const msg = h('p', { class: 'field-error', id: `${control.id}-error`, role: 'alert', hidden: true })
    fieldErrors.set(key, msg)
    control.setAttribute('aria-describedby', msg.id)
    return h(
      'div',
      { class: 'form-row', 'data-field': key },
      h('label', { for: control.id }, label),
      control,
      hint ? h('span', { class: 'muted small' }, hint) : null,
      msg,
    )
  }
  const clearErrors = () => {
    for (const m of fieldErrors.values()) {
      m.hidden = true
      m.textContent = ''
    }
    err.hidden = true
  }
  /** The server names the field ("body.gs1.sscc", "body.devices[1]"); the message goes under it. */
  const showError = (e: ApiError) => {
    const f = (e.field ?? '')
      .replace(/^body\./, '')
      .replace(/\[\d+\]$/, '')
      .replace(/^profile\..*$/, 'profileId')
      .replace(/^profile$/, 'profileId')
    const slot = fieldErrors.get(f)
    if (slot) {
      slot.textContent = e.message
      slot.hidden = false
      slot.closest('.form-row')?.querySelector<HTMLElement>('input, select')?.focus()
    } else {
      err.textContent = e.message
      err.hidden = false
    }
  }

  function renderDevices(devices: DeviceView[], chosen: readonly string[]): void {
    const usable = devices.filter((d) => d.state === 'registered')
    if (usable.length === 0) {
      replace(loggers, h('p', { class: 'muted' }, 'No registered devices: register a logger on the Devices tab first.'))
      return
    }
    replace(
      loggers,
      ...usable.map((d) =>
        h(
          'label',
          { class: 'check logger-pick' },
          h('input', { type: 'checkbox', name: 'devices', value: d.deviceId, checked: chosen.includes(d.deviceId) }),
          h('span', { class: 'id' }, d.deviceId),
          d.shipmentId ? h('span', { class: 'muted small' }, ` (now in ${d.shipmentId})`) : null,
        ),
      ),
    )
  }
  const chosenDevices = () =>
    [...loggers.querySelectorAll<HTMLInputElement>('input[name=devices]:checked')].map((x) => x.value)

  let devices: DeviceView[] = []
  async function applyTemplate(id: string): Promise<void> {
    clearErrors()
    customProfile = null
    for (const o of [...profile.querySelectorAll('option[data-custom]')]) o.remove()
    if (!id) return
    let t: ShipmentTemplate
    try {
      t = await shipmentTemplate(id)
    } catch (e) {
      err.textContent = `Could not load ${id}: ${(e as Error).message}`
      err.hidden = false
      return
    }
    product.value = t.product
    from.value = t.route.from
    to.value = t.route.to
    if (t.profileId && [...profile.options].some((o) => o.value === t.profileId)) profile.value = t.profileId
    else if (t.profile) {
      customProfile = t.profile
      profile.append(
        h(
          'option',
          { value: '__custom', 'data-custom': true },
          `Custom: ${String(t.profile.name ?? t.profile.id ?? 'profile')} (from ${t.shipmentId})`,
        ),
      )
      profile.value = '__custom'
    }
    gtin.value = t.gs1?.gtin ?? ''
    lot.value = t.gs1?.lot ?? ''
    expiry.value = t.gs1?.expiry ?? ''
    sscc.value = ''
    renderDevices(devices, t.devices)
  }
  template.addEventListener('change', () => {
    void applyTemplate(template.value)
  })

  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'ns-submit' }, 'Create shipment')
  const form = h(
    'form',
    { id: 'new-shipment-form', class: 'card', novalidate: true },
    h(
      'div',
      { class: 'form-grid' },
      row(
        'template',
        'Template (a previous shipment)',
        template,
        'Copies its product, profile, route, loggers and GS1 product data.',
      ),
      row('shipmentId', 'Shipment id', shipmentId, 'Letters, digits and . _ : - (up to 64).'),
      row('product', 'Product', product),
      row('profileId', 'Rule profile', profile),
    ),
    h(
      'fieldset',
      null,
      h('legend', null, 'GS1 identifiers (optional; all four when given)'),
      h(
        'div',
        { class: 'form-grid' },
        row('gs1.sscc', 'SSCC (18 digits)', sscc),
        row('gs1.gtin', 'GTIN (14 digits)', gtin),
        row('gs1.lot', 'Lot', lot),
        row('gs1.expiry', 'Expiry', expiry),
      ),
    ),
    h(
      'fieldset',
      null,
      h('legend', null, 'Route'),
      h('div', { class: 'form-grid' }, row('route.from', 'From', from), row('route.to', 'To', to)),
    ),
    h(
      'fieldset',
      null,
      h('legend', null, 'Loggers'),
      h(
        'div',
        { class: 'form-row', 'data-field': 'devices' },
        loggers,
        (() => {
          const m = h('p', { class: 'field-error', id: 'ns-devices-error', role: 'alert', hidden: true })
          fieldErrors.set('devices', m)
          return m
        })(),
      ),
    ),
    h(
      'div',
      { class: 'form-grid' },
      row(
        'startAt',
        'Start (UTC, optional)',
        startAt,
        'Empty: now. Readings from this time on belong to the shipment.',
      ),
    ),
    err,
    h('div', { class: 'downloads' }, submit, h('a', { class: 'btn', href: '#/fleet' }, 'Cancel')),
  )

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    clearErrors()
    const local = (key: string, message: string) =>
      showError(new ApiError(400, 'ERR_VALIDATION', message, `body.${key}`))
    if (!shipmentId.value.trim()) return local('shipmentId', 'Give the shipment an id.')
    if (!product.value.trim()) return local('product', 'Name the product.')
    if (!from.value.trim()) return local('route.from', 'Where does the shipment start?')
    if (!to.value.trim()) return local('route.to', 'Where does it go?')
    const devicesChosen = chosenDevices()
    if (devicesChosen.length === 0) return local('devices', 'Choose at least one logger.')
    const gs1Given = [sscc, gtin, lot, expiry].some((x) => x.value.trim() !== '')
    const body: NewShipment = {
      shipmentId: shipmentId.value.trim(),
      product: product.value.trim(),
      route: { from: from.value.trim(), to: to.value.trim() },
      devices: devicesChosen,
      ...(profile.value === '__custom' && customProfile ? { profile: customProfile } : { profileId: profile.value }),
      ...(gs1Given
        ? { gs1: { sscc: sscc.value.trim(), gtin: gtin.value.trim(), lot: lot.value.trim(), expiry: expiry.value } }
        : {}),
      ...(startAt.value ? { startAt: fromLocalInput(startAt.value) } : {}),
    }
    submit.disabled = true
    try {
      const id = await createShipment(body)
      toast(`Shipment ${id} created.`)
      location.hash = `#/shipment/${encodeURIComponent(id)}`
    } catch (e) {
      if (e instanceof ApiError) showError(e)
      else {
        err.textContent = `Creating the shipment failed: ${(e as Error).message}`
        err.hidden = false
      }
    } finally {
      submit.disabled = false
    }
  })

  replace(
    root,
    h(
      'div',
      { class: 'page-head' },
      h(
        'div',
        null,
        h('div', { class: 'breadcrumb' }, h('a', { href: '#/fleet' }, '← Fleet')),
        h('h1', null, 'New shipment'),
        h(
          'p',
          { class: 'muted' },
          'Logged in the ledger under your name; the rule profile is fixed for the shipment from now on.',
        ),
      ),
    ),
    form,
  )

  void (async () => {
    try {
      const [profiles, list, devs] = await Promise.all([listProfiles(), listShipments(), listDevices()])
      devices = devs
      replace(
        profile,
        ...profiles.map((p) =>
          h('option', { value: p.id }, `${p.name} (${rangeText({ minC: p.minC, maxC: p.maxC })})`),
        ),
      )
      for (const s of [...list].sort((a, b) => (b.startAt ?? 0) - (a.startAt ?? 0)))
        template.append(
          h('option', { value: s.shipmentId }, `${s.shipmentId} — ${s.product}, ${s.route.from} → ${s.route.to}`),
        )
      renderDevices(devices, [])
      const from = params[0] ? decodeURIComponent(params[0]) : ''
      if (from && list.some((s) => s.shipmentId === from)) {
        template.value = from
        await applyTemplate(from)
      }
      startAt.max = toLocalInput(Date.now())
    } catch (e) {
      err.textContent = `Could not load profiles and devices: ${(e as Error).message}`
      err.hidden = false
    }
  })()
}
