/** Assign loggers to the open shipment or remove them, effective from a time (default now). */
import { h, replace } from '../../dom.ts'
import { listDevices } from '../../api/devices.ts'
import { ApiError } from '../../api/request.ts'
import { changeShipmentDevices } from '../../api/shipment-actions.ts'
import { toast } from '../../components.ts'
import type { ShipmentDetail } from '../../types.ts'
import { dialogButtons, dialogShell } from './dialog-shell.ts'

/** A checkbox named `name` for one logger, with an optional remark after its id. */
function loggerPick(name: string, deviceId: string, remark: HTMLElement | null = null): HTMLLabelElement {
  return h(
    'label',
    { class: 'check' },
    h('input', { type: 'checkbox', name, value: deviceId }),
    h('span', { class: 'id' }, deviceId),
    remark,
  )
}

/** The Loggers… button with its dialog; `onDone` runs once the change is written. */
export function loggersButton(d: ShipmentDetail, onDone: () => void): HTMLElement {
  const shell = dialogShell('loggers-dialog', 'change-loggers', 'Loggers…', false)
  const { dialog, err, fail } = shell
  const current = d.loggers.filter((l) => l.until === null).map((l) => l.deviceId)
  const ever = new Set(d.loggers.map((l) => l.deviceId))
  const removeBox = h(
    'div',
    { class: 'logger-picks', id: 'loggers-remove' },
    ...current.map((id) => loggerPick('remove', id)),
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
    dialogButtons('loggers-submit', 'Save', shell.cancel),
  )
  shell.open.addEventListener('click', async () => {
    dialog.showModal()
    try {
      const devices = (await listDevices()).filter((x) => x.state === 'registered' && !ever.has(x.deviceId))
      replace(
        addBox,
        ...(devices.length
          ? devices.map((x) =>
              loggerPick(
                'add',
                x.deviceId,
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
    if (!add.length && !remove.length) return fail('Choose a logger to add or remove.')
    try {
      await changeShipmentDevices(d.shipmentId, add, remove, at.value ? Date.parse(`${at.value}:00Z`) : undefined)
      dialog.close()
      toast(`Loggers of ${d.shipmentId} changed.`)
      onDone()
    } catch (e) {
      fail(e instanceof ApiError ? e.message : 'Changing the loggers failed.')
    }
  })
  return shell.finish(form)
}
