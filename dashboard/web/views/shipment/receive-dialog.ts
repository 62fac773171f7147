/** Receiving at the destination, signed like the close (docs/API.md): meaning, reason, password again. */
import { h } from '../../dom.ts'
import { ApiError } from '../../api/request.ts'
import { receiveShipment, RECEIVE_MEANINGS } from '../../api/shipment-actions.ts'
import { toast } from '../../components.ts'
import type { ShipmentDetail } from '../../types.ts'
import { dialogButtons, dialogShell } from './dialog-shell.ts'
import { signatureFields } from './signature-fields.ts'

/** The Receive… button with its dialog; `onDone` runs once the receipt is signed. */
export function receiveButton(d: ShipmentDetail, onDone: () => void): HTMLElement {
  const shell = dialogShell('receive-dialog', 'receive-shipment', 'Receive…')
  const { dialog, err, fail } = shell
  const sig = signatureFields('receive', RECEIVE_MEANINGS, 'Reason or remark (required)')
  const { password, meaning, reason } = sig
  const form = h(
    'form',
    { method: 'dialog', class: 'card' },
    h('h2', null, 'Receive ', h('span', { class: 'id' }, d.shipmentId)),
    h(
      'p',
      null,
      `The consignment has arrived at ${d.route.to}. Your signed receipt is written to the ledger; the shipment stays open until it is closed.`,
    ),
    sig.fieldset,
    err,
    dialogButtons('receive-submit', 'Sign receipt', shell.cancel),
  )
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    err.hidden = true
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
      onDone()
    } catch (e) {
      password.value = ''
      fail(e instanceof ApiError ? e.message : 'Receiving failed.')
      if (e instanceof ApiError && e.code === 'ERR_SIGNATURE_PASSWORD') password.focus()
    }
  })
  return shell.finish(form)
}
