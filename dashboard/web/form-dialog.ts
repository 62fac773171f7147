/**
 * A small modal form (a <dialog> with a card): fields, a submit button, and an
 * inline error line that shows the server's message when the submit throws.
 * Used by the Users and Tokens pages.
 */
import { h, replace, type Child } from './dom.ts'
import { ApiError } from './api/request.ts'

export interface FormDialogOptions {
  id: string
  title: Child | Child[]
  /** A sentence under the title (what will happen). */
  note?: string
  fields?: HTMLElement[]
  submit: string
  danger?: boolean
  /** Runs on submit; a thrown error is shown in the dialog and keeps it open. */
  onSubmit: () => Promise<void>
}

/** Opens the dialog inside `host` (a <dialog> element the view owns). */
export function openFormDialog(host: HTMLDialogElement, o: FormDialogOptions): void {
  const err = h('p', { class: 'form-error', role: 'alert', hidden: true })
  const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel')
  const ok = h('button', { type: 'submit', class: o.danger ? 'btn btn-danger' : 'btn btn-primary' }, o.submit)
  const form = h(
    'form',
    { method: 'dialog', class: 'card', id: o.id },
    h('h2', null, ...(Array.isArray(o.title) ? o.title : [o.title])),
    o.note ? h('p', { class: 'muted small' }, o.note) : null,
    ...(o.fields ?? []),
    err,
    h('div', { class: 'downloads' }, ok, cancel),
  )
  cancel.addEventListener('click', () => host.close())
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    err.hidden = true
    if (!form.reportValidity()) return
    ok.disabled = true
    try {
      await o.onSubmit()
      host.close()
    } catch (e) {
      err.textContent = errorText(e)
      err.hidden = false
    } finally {
      ok.disabled = false
    }
  })
  replace(host, form)
  host.showModal()
}

/** The server's message, with its code, for an inline error line. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return `${e.message} (${e.code})`
  return e instanceof Error ? e.message : String(e)
}

/** A labelled form row. */
export function field(label: string, input: HTMLElement & { id: string }, hint?: string): HTMLDivElement {
  return h(
    'div',
    { class: 'form-row' },
    h('label', { for: input.id }, label),
    input,
    hint ? h('span', { class: 'muted small' }, hint) : null,
  )
}
