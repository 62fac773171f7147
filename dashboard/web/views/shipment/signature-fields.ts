/**
 * The electronic signature a receipt or a close carries (EU GMP Annex 11 §14,
 * 21 CFR 11.50/11.200): its meaning, a reason, the password again.
 */
import { h } from '../../dom.ts'

export interface SignatureFields {
  fieldset: HTMLFieldSetElement
  password: HTMLInputElement
  meaning: HTMLSelectElement
  reason: HTMLTextAreaElement
}

/** Fields with ids `<prefix>-meaning`, `<prefix>-reason`, `<prefix>-password` in the fieldset `<prefix>-signature`. */
export function signatureFields(prefix: string, meanings: readonly string[], reasonLabel: string): SignatureFields {
  const password = h('input', {
    id: `${prefix}-password`,
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    maxlength: '200',
  }) as HTMLInputElement
  const meaning = h(
    'select',
    { id: `${prefix}-meaning` },
    ...meanings.map((m) => h('option', { value: m }, m)),
  ) as HTMLSelectElement
  const reason = h('textarea', {
    id: `${prefix}-reason`,
    rows: '2',
    maxlength: '500',
    required: true,
  }) as HTMLTextAreaElement
  const fieldset = h(
    'fieldset',
    { id: `${prefix}-signature` },
    h('legend', null, 'Electronic signature'),
    h('label', { for: `${prefix}-meaning` }, 'Meaning'),
    meaning,
    h('label', { for: `${prefix}-reason` }, reasonLabel),
    reason,
    h('label', { for: `${prefix}-password` }, 'Your password (re-enter to sign)'),
    password,
  )
  return { fieldset, password, meaning, reason }
}
