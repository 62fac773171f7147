/**
 * Users (admins only; the server enforces it): every dashboard user with role,
 * state and creation date; create, change a role, reset a password, disable
 * and enable; and the audit trail of these changes (docs/API.md, "Users",
 * "Audit trail"). Errors from the server show where the change was made.
 */
import { h, replace } from '../dom.ts'
import { listAudit, type AuditRow } from '../api/audit.ts'
import { changeUser, createUser, listUsers, type UserRow } from '../api/users.ts'
import { badge, table, toast, type Column } from '../components.ts'
import { errorText, field, openFormDialog } from '../form-dialog.ts'
import { formatDateTime } from '../../common/format.ts'
import type { View } from '../context.ts'
import type { Role } from '../types.ts'

const ROLES: Role[] = ['operator', 'regulator', 'admin']
const ROLE_NOTE: Record<Role, string> = {
  operator: 'operator: creates and closes shipments, acknowledges alarms',
  regulator: 'regulator: reads everything, downloads reports and bundles',
  admin: 'admin: everything, also devices and users',
}

function roleSelect(id: string, value?: Role): HTMLSelectElement {
  const s = h(
    'select',
    { id, required: true },
    ...ROLES.map((r) => h('option', { value: r, selected: r === value }, ROLE_NOTE[r])),
  )
  if (value) s.value = value
  return s
}

function passwordInput(id: string): HTMLInputElement {
  return h('input', {
    id,
    type: 'password',
    required: true,
    minlength: 10,
    maxlength: 200,
    autocomplete: 'new-password',
  })
}

/** One audit record in words; `target` stays a separate, monospace part. */
export function auditText(r: AuditRow): string {
  const d = r.details ?? {}
  switch (r.action) {
    case 'user.created':
      return `Created user ${r.target} (${String(d.role ?? '?')})`
    case 'user.password_reset':
      return `Reset the password of ${r.target}`
    case 'user.role_changed':
      return `Changed the role of ${r.target} from ${String(d.from)} to ${String(d.to)}`
    case 'user.disabled':
      return `Disabled ${r.target}`
    case 'user.enabled':
      return `Enabled ${r.target}`
    case 'user.deleted':
      return `Deleted user ${r.target}`
    case 'token.created':
      return `Created API token "${String(d.label ?? '')}" (${d.scope === 'read-only' ? 'read-only' : 'role'}, ${typeof d.expiresAt === 'number' ? `expires ${formatDateTime(d.expiresAt)}` : 'no expiry'})`
    case 'token.revoked':
      return `Revoked API token "${String(d.label ?? r.target)}"`
    case 'notifications.rules_changed':
      return `Replaced the notification rules (${String(d.rules ?? '?')} rules, ${String(d.channels ?? '?')} channels)`
    default:
      return `${r.action} ${r.target}`
  }
}

export const usersView: View = (root, ctx) => {
  if (!ctx.can.admin) {
    replace(
      root,
      h(
        'div',
        { class: 'notice notice-warn' },
        'Only an admin manages users. Your own API tokens are on the ',
        h('a', { href: '#/tokens' }, 'Tokens'),
        ' page.',
      ),
    )
    return
  }
  let users: UserRow[] = []
  const summary = h('p', { class: 'muted' })
  const listBox = h('div', { id: 'user-table' })
  const auditBox = h('div', { id: 'audit-table' })
  const auditMore = h(
    'button',
    { type: 'button', class: 'btn btn-small', id: 'audit-more', hidden: true },
    'Older entries',
  )
  const dialog = h('dialog', { id: 'user-dialog' })
  let audit: AuditRow[] = []
  let auditNext: number | null = null

  const actionButton = (label: string, action: string, u: UserRow, run: () => void, danger = false) => {
    const b = h(
      'button',
      {
        type: 'button',
        class: danger ? 'btn btn-small btn-danger' : 'btn btn-small',
        'data-action': action,
        'data-user': u.username,
      },
      label,
    )
    b.addEventListener('click', run)
    return b
  }

  const columns: Column<UserRow>[] = [
    {
      label: 'User',
      cell: (u) => [
        h('span', { class: 'id' }, u.username),
        u.username === ctx.me.username ? h('span', { class: 'sub' }, 'you') : null,
      ],
    },
    { label: 'Role', cell: (u) => h('span', { class: 'role' }, u.role) },
    {
      label: 'State',
      cell: (u) =>
        u.disabled
          ? badge('closed', '⊘', 'Disabled', 'Cannot sign in; sessions and API tokens refused')
          : badge('ok', '✓', 'Enabled'),
    },
    {
      label: 'Created',
      cell: (u) => h('span', { class: 'nowrap' }, u.createdAt === null ? '—' : formatDateTime(u.createdAt)),
    },
    {
      label: 'Actions',
      cell: (u) =>
        h(
          'div',
          { class: 'row-actions' },
          actionButton('Role…', 'role', u, () => openRole(u)),
          actionButton('Reset password…', 'password', u, () => openPassword(u)),
          u.disabled
            ? actionButton('Enable', 'enable', u, () => openState(u, false))
            : actionButton('Disable…', 'disable', u, () => openState(u, true), true),
        ),
    },
  ]

  function render(): void {
    const n = (k: number, one: string, many: string) => `${k} ${k === 1 ? one : many}`
    summary.textContent = `${n(users.length, 'user', 'users')} · ${users.filter((u) => u.disabled).length} disabled · ${n(users.filter((u) => u.role === 'admin' && !u.disabled).length, 'enabled admin', 'enabled admins')}`
    replace(
      listBox,
      table(
        columns,
        [...users].sort((a, b) => a.username.localeCompare(b.username)),
        {
          empty: 'No users.',
          rowAttrs: (u) => ({
            'data-username': u.username,
            'data-disabled': String(u.disabled),
            class: u.disabled ? 'row-closed' : null,
          }),
          caption: 'Dashboard users',
        },
      ),
    )
  }

  function renderAudit(): void {
    const cols: Column<AuditRow>[] = [
      { label: 'When', cell: (r) => h('span', { class: 'nowrap' }, formatDateTime(r.at)) },
      { label: 'By', cell: (r) => h('span', { class: 'id' }, r.by) },
      { label: 'Change', cell: (r) => h('span', { 'data-action': r.action }, auditText(r)) },
      { label: 'From', cell: (r) => h('span', { class: 'mono' }, r.ip) },
    ]
    replace(
      auditBox,
      table(cols, audit, {
        empty: 'No changes recorded yet.',
        rowAttrs: (r) => ({ 'data-seq': String(r.seq) }),
        caption: 'Audit trail',
      }),
    )
    auditMore.hidden = auditNext === null
  }

  async function load(): Promise<void> {
    try {
      users = await listUsers()
      render()
    } catch (e) {
      replace(listBox, h('div', { class: 'notice notice-alarm' }, `Could not load users: ${errorText(e)}`))
    }
  }

  async function loadAudit(more = false): Promise<void> {
    try {
      const p = await listAudit(more ? (auditNext ?? undefined) : undefined)
      audit = more ? [...audit, ...p.entries] : p.entries
      auditNext = p.next
      renderAudit()
    } catch (e) {
      replace(auditBox, h('div', { class: 'notice notice-alarm' }, `Could not load the audit trail: ${errorText(e)}`))
    }
  }
  auditMore.addEventListener('click', () => void loadAudit(true))

  const changed = (u: UserRow, what: string) => {
    users = users.map((x) => (x.username === u.username ? u : x))
    render()
    toast(what)
    void loadAudit()
  }

  function openRole(u: UserRow): void {
    const sel = roleSelect('user-role-select', u.role)
    openFormDialog(dialog, {
      id: 'role-form',
      title: ['Role of ', h('span', { class: 'id' }, u.username)],
      submit: 'Change role',
      note: 'Their sessions end; they sign in again with the new role.',
      fields: [field('Role', sel)],
      onSubmit: async () =>
        changed(await changeUser(u.username, { role: sel.value as Role }), `${u.username} is now ${sel.value}.`),
    })
  }

  function openPassword(u: UserRow): void {
    const pw = passwordInput('user-new-password')
    openFormDialog(dialog, {
      id: 'password-form',
      title: ['New password for ', h('span', { class: 'id' }, u.username)],
      submit: 'Reset password',
      note: 'At least 10 characters. Their sessions end; tell them the new password another way.',
      fields: [field('New password', pw)],
      onSubmit: async () =>
        changed(await changeUser(u.username, { password: pw.value }), `Password of ${u.username} reset.`),
    })
  }

  function openState(u: UserRow, disable: boolean): void {
    openFormDialog(dialog, {
      id: 'state-form',
      title: [disable ? 'Disable ' : 'Enable ', h('span', { class: 'id' }, u.username)],
      submit: disable ? 'Disable user' : 'Enable user',
      danger: disable,
      note: disable
        ? 'They cannot sign in, and their open sessions and API tokens stop working at once. Their name stays on everything they signed. Enabling gives it all back.'
        : 'They can sign in again, and their API tokens work again.',
      onSubmit: async () =>
        changed(
          await changeUser(u.username, { disabled: disable }),
          `${u.username} ${disable ? 'disabled' : 'enabled'}.`,
        ),
    })
  }

  function createForm(): HTMLElement {
    const name = h('input', {
      id: 'new-username',
      required: true,
      pattern: '[a-z0-9][a-z0-9._\\-]{2,31}',
      maxlength: 32,
      autocomplete: 'off',
      placeholder: 'e.g. carla.qa',
    })
    const pw = passwordInput('new-password')
    const role = roleSelect('new-role', 'operator')
    const err = h('p', { class: 'form-error', role: 'alert', hidden: true, id: 'create-user-error' })
    const form = h(
      'form',
      { id: 'create-user-form' },
      h(
        'div',
        { class: 'form-grid' },
        field('User name', name, '3–32: a–z, 0–9, . _ -'),
        field('Password', pw, 'at least 10 characters'),
        field('Role', role),
      ),
      err,
      h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create user'),
    )
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault()
      err.hidden = true
      if (!form.reportValidity()) return
      try {
        const u = await createUser({ username: name.value.trim(), password: pw.value, role: role.value as Role })
        users = [...users.filter((x) => x.username !== u.username), u]
        form.reset()
        render()
        toast(`${u.username} created.`)
        void loadAudit()
      } catch (e) {
        err.textContent = errorText(e)
        err.hidden = false
      }
    })
    return h(
      'details',
      { class: 'card', id: 'create-user' },
      h('summary', null, h('strong', null, 'Create a user')),
      h('div', { class: 'register-body' }, form),
    )
  }

  replace(
    root,
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Users'), summary)),
    createForm(),
    listBox,
    h(
      'p',
      { class: 'muted small' },
      'Disable rather than delete someone who leaves: their name stays on what they signed. The last enabled admin can be neither disabled nor demoted.',
    ),
    h(
      'section',
      { class: 'card', id: 'audit' },
      h('h2', null, 'Audit trail'),
      h(
        'p',
        { class: 'muted small' },
        'Every change to users and API tokens, newest first: who, what, when and from which address. Passwords and tokens are never recorded.',
      ),
      auditBox,
      auditMore,
    ),
    dialog,
  )
  void load()
  void loadAudit()
}
