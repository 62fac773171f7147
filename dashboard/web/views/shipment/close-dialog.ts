/** Closing ends the shipment's window: its verdict becomes final (docs/API.md). */
import { h } from '../../dom.ts'
import { ApiError } from '../../api/request.ts'
import { closeShipment, CLOSE_MEANINGS } from '../../api/shipment-actions.ts'
import { toast } from '../../components.ts'
import { formatDateTime } from '../../../common/format.ts'
import type { ShipmentDetail } from '../../types.ts'
import { dialogButtons, dialogShell } from './dialog-shell.ts'
import { signatureFields } from './signature-fields.ts'

/** What the ledger says of each logger whose chain does not reach now (ERR_EVIDENCE_ENDS_EARLY). */
interface ShortChain {
  deviceId: string
  headSeq: number
  headDeviceTime: number | null
}

/** The Close shipment… button with its dialog; `onDone` runs once the close is signed. */
export function closeButton(d: ShipmentDetail, onDone: () => void): HTMLElement {
  const shell = dialogShell('close-dialog', 'close-shipment', 'Close shipment…')
  const { dialog, err, fail } = shell
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
  const sig = signatureFields('close', CLOSE_MEANINGS, 'Reason (required)')
  const { password, meaning } = sig
  const sigReason = sig.reason
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
    h('ul', null, ...critical.map((a) => h('li', null, a.message, ' — ', h('a', { href: '#/alarms' }, 'acknowledge')))),
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
    sig.fieldset,
    err,
    dialogButtons('close-submit', 'Sign and close', shell.cancel),
  )
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    err.hidden = true
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
      onDone()
    } catch (e) {
      password.value = ''
      if (e instanceof ApiError && e.code === 'ERR_EVIDENCE_ENDS_EARLY') {
        const devices = (Array.isArray(e.details?.devices) ? e.details.devices : []) as ShortChain[]
        shortList.replaceChildren(...devices.map(shortChainItem))
        early.hidden = false
        reason.focus()
        return
      }
      if (e instanceof ApiError && e.code === 'ERR_CLOSE_OPEN_ALARMS') alarmsBox.hidden = false
      fail(e instanceof ApiError ? e.message : 'Closing failed.')
    }
  })
  return shell.finish(form)
}

function shortChainItem(x: ShortChain): HTMLLIElement {
  return h(
    'li',
    null,
    h('span', { class: 'id' }, x.deviceId),
    x.headDeviceTime === null
      ? ': no reading yet'
      : `: last chained reading seq ${x.headSeq} at ${formatDateTime(x.headDeviceTime)}`,
  )
}
