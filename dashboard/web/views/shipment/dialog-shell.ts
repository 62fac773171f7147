/** The parts every action dialog of the shipment page has: its button, the dialog, an error line, Cancel. */
import { h } from '../../dom.ts'

export interface DialogShell {
  dialog: HTMLDialogElement
  open: HTMLButtonElement
  err: HTMLParagraphElement
  cancel: HTMLButtonElement
  /** Shows `message` in the dialog's error line. */
  fail(message: string): void
  /** Puts `form` in the dialog and returns the button with its dialog, for the page head. */
  finish(form: HTMLFormElement): HTMLElement
}

/** `openId` and `openLabel` name the button that opens the dialog; it opens as a modal unless the caller adds its own handler. */
export function dialogShell(dialogId: string, openId: string, openLabel: string, modalOnClick = true): DialogShell {
  const dialog = h('dialog', { id: dialogId })
  const open = h('button', { type: 'button', class: 'btn btn-small', id: openId }, openLabel)
  const err = h('p', { class: 'form-error', role: 'alert', hidden: true })
  const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel')
  cancel.addEventListener('click', () => dialog.close())
  if (modalOnClick) open.addEventListener('click', () => dialog.showModal())
  return {
    dialog,
    open,
    err,
    cancel,
    fail(message) {
      err.textContent = message
      err.hidden = false
    },
    finish(form) {
      dialog.append(form)
      return h('span', null, open, dialog)
    },
  }
}

/** The dialog's submit and Cancel buttons. */
export function dialogButtons(submitId: string, submitLabel: string, cancel: HTMLButtonElement): HTMLElement {
  return h(
    'div',
    { class: 'downloads' },
    h('button', { type: 'submit', class: 'btn btn-primary', id: submitId }, submitLabel),
    cancel,
  )
}
