/**
 * API tokens of the signed-in user (any role): create with a label, a scope
 * (read-only, or what the role allows) and an expiry; the token is shown once,
 * with a copy button and the `coldproof report` line that uses it; list and
 * revoke (docs/API.md, "Tokens").
 */
import { h, replace } from '../dom.ts'
import { createToken, listTokens, revokeToken, type TokenCreated, type TokenRow } from '../api/tokens.ts'
import { badge, table, toast, type Column } from '../components.ts'
import { errorText, field, openFormDialog } from '../form-dialog.ts'
import { formatDateTime } from '../../common/format.ts'
import type { View } from '../context.ts'

/** The CLI line that fetches a shipment's evidence bundle from this dashboard with the token (README, "Verify"). */
export function reportCommand(origin: string, token: string): string {
  return `npx coldproof report <shipment-id> --bundle --out bundle.json --url ${origin} --token ${token}`
}

/** Copies `text`; where the clipboard is refused (no permission, not a secure context) selects `fallback` for Ctrl+C. */
function copyButton(id: string, text: string, fallback: HTMLElement): HTMLButtonElement {
  const b = h('button', { type: 'button', class: 'btn btn-small', id }, 'Copy')
  b.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text)
      b.textContent = 'Copied ✓'
    } catch {
      const sel = getSelection()
      const range = document.createRange()
      range.selectNodeContents(fallback)
      sel?.removeAllRanges()
      sel?.addRange(range)
      b.textContent = 'Selected: press Ctrl+C'
    }
  })
  return b
}

export const tokensView: View = (root, ctx) => {
  let tokens: TokenRow[] = []
  const listBox = h('div', { id: 'token-table' })
  const shown = h('div', { id: 'token-shown' })
  const dialog = h('dialog', { id: 'token-dialog' })

  const columns: Column<TokenRow>[] = [
    { label: 'Label', cell: (t) => [h('strong', null, t.label), h('span', { class: 'sub mono' }, t.id)] },
    {
      label: 'Scope',
      cell: (t) =>
        t.scope === 'read-only' ? badge('info', '◎', 'Read-only') : badge('warn', '✎', `Role (${ctx.me.role})`),
    },
    { label: 'Created', cell: (t) => h('span', { class: 'nowrap' }, formatDateTime(t.createdAt)) },
    {
      label: 'Last used',
      cell: (t) =>
        t.lastUsedAt == null
          ? h('span', { class: 'muted' }, 'never')
          : h('span', { class: 'nowrap' }, formatDateTime(t.lastUsedAt)),
    },
    {
      label: 'Expires',
      cell: (t) =>
        t.expiresAt == null
          ? h('span', { class: 'muted' }, 'never')
          : t.expiresAt <= Date.now()
            ? badge('alarm', '!', `Expired ${formatDateTime(t.expiresAt)}`)
            : h('span', { class: 'nowrap' }, formatDateTime(t.expiresAt)),
    },
    {
      label: 'Actions',
      cell: (t) => {
        const b = h('button', { type: 'button', class: 'btn btn-small btn-danger', 'data-revoke': t.id }, 'Revoke…')
        b.addEventListener('click', () =>
          openFormDialog(dialog, {
            id: 'revoke-token-form',
            title: ['Revoke "', t.label, '"'],
            submit: 'Revoke token',
            danger: true,
            note: 'Scripts using this token are refused from now on. This cannot be undone.',
            onSubmit: async () => {
              await revokeToken(t.id)
              tokens = tokens.filter((x) => x.id !== t.id)
              render()
              toast(`Token "${t.label}" revoked.`)
            },
          }),
        )
        return b
      },
    },
  ]

  function render(): void {
    replace(
      listBox,
      table(
        columns,
        [...tokens].sort((a, b) => b.createdAt - a.createdAt),
        {
          empty: 'You have no API tokens.',
          rowAttrs: (t) => ({ 'data-token-id': t.id }),
          caption: 'Your API tokens',
        },
      ),
    )
  }

  async function load(): Promise<void> {
    try {
      tokens = await listTokens()
      render()
    } catch (e) {
      replace(listBox, h('div', { class: 'notice notice-alarm' }, `Could not load your tokens: ${errorText(e)}`))
    }
  }

  function showOnce(t: TokenCreated): void {
    const value = h('code', { id: 'token-value', class: 'secret' }, t.token)
    const cmdText = reportCommand(location.origin, t.token)
    const cmd = h('code', { id: 'token-command', class: 'secret' }, cmdText)
    const done = h('button', { type: 'button', class: 'btn btn-small' }, 'Done: hide it')
    done.addEventListener('click', () => replace(shown))
    replace(
      shown,
      h(
        'div',
        { class: 'notice notice-ok', role: 'status' },
        h(
          'p',
          null,
          h('strong', null, `Token "${t.label}" created. `),
          'Copy it now: it is not shown again (only a hash of it is kept).',
        ),
        h('div', { class: 'copy-row' }, h('pre', { class: 'note' }, value), copyButton('copy-token', t.token, value)),
        h('p', { class: 'small' }, "Fetch a shipment's evidence bundle with it:"),
        h('div', { class: 'copy-row' }, h('pre', { class: 'note' }, cmd), copyButton('copy-command', cmdText, cmd)),
        done,
      ),
    )
  }

  function createForm(): HTMLElement {
    const label = h('input', {
      id: 'token-label',
      required: true,
      maxlength: 64,
      placeholder: 'e.g. nightly bundle export',
    })
    const scope = h(
      'select',
      { id: 'token-scope' },
      h('option', { value: 'read-only' }, 'Read-only: may only read (reports, bundles)'),
      h('option', { value: 'role' }, `Role: may do what ${ctx.me.role} may do`),
    )
    const days = h('input', {
      id: 'token-days',
      type: 'number',
      min: 1,
      max: 366,
      step: 1,
      value: 90,
      inputmode: 'numeric',
    })
    const err = h('p', { class: 'form-error', role: 'alert', hidden: true, id: 'token-error' })
    const form = h(
      'form',
      { id: 'create-token-form' },
      h(
        'div',
        { class: 'form-grid' },
        field('Label', label, 'what it is for'),
        field('Scope', scope),
        field('Expires after (days)', days, '1–366; empty: never'),
      ),
      err,
      h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create token'),
    )
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault()
      err.hidden = true
      if (!form.reportValidity()) return
      try {
        const t = await createToken({
          label: label.value.trim(),
          scope: scope.value === 'role' ? 'role' : 'read-only',
          ...(days.value.trim() ? { expiresInDays: Number(days.value) } : {}),
        })
        tokens = [...tokens, { ...t, lastUsedAt: null }]
        form.reset()
        render()
        showOnce(t)
      } catch (e) {
        err.textContent = errorText(e)
        err.hidden = false
      }
    })
    return h('section', { class: 'card', id: 'create-token' }, h('h2', null, 'Create a token'), form)
  }

  replace(
    root,
    h(
      'div',
      { class: 'page-head' },
      h(
        'div',
        null,
        h('h1', null, 'API tokens'),
        h(
          'p',
          { class: 'muted' },
          'For scripts and the coldproof command line: a token acts as you (',
          h('span', { class: 'id' }, ctx.me.username),
          ').',
        ),
      ),
    ),
    createForm(),
    shown,
    listBox,
    h(
      'p',
      { class: 'muted small' },
      'Creating and revoking tokens is recorded in the audit trail (label, scope, expiry; never the token).',
    ),
    dialog,
  )
  void load()
}
