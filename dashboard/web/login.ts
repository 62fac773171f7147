/**
 * The login page: posts the form as JSON to /api/login; the server answers
 * with an HttpOnly session cookie, then the app loads. Errors are shown as
 * text (textContent), never as markup.
 */
import { $ } from './dom.ts'
import { safeNextPath } from '../common/safe-next.ts'

const form = $('#login-form') as HTMLFormElement
const error = $('#login-error')
const submit = $('#login-submit') as HTMLButtonElement

function showError(message: string): void {
  error.textContent = message
  error.hidden = false
}

/** Only a path on this origin is followed after login (no open redirect; rule in dashboard/common/safe-next.ts). */
function nextPath(): string {
  const next = safeNextPath(new URLSearchParams(location.search).get('next'))
  // Belt and braces: whatever the parser makes of it must stay on this origin.
  return new URL(next, location.origin).origin === location.origin ? next : '/'
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault()
  error.hidden = true
  const data = new FormData(form)
  const username = String(data.get('username') ?? '').trim()
  const password = String(data.get('password') ?? '')
  if (!username || !password) return showError('Enter your user name and password.')
  submit.disabled = true
  submit.textContent = 'Signing in…'
  try {
    const res = await fetch('/api/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify({ username, password }),
    })
    if (res.ok) {
      location.assign(nextPath())
      return
    }
    if (res.status === 429) {
      // ERR_AUTH_BACKOFF names the wait; the per-address rate limit is per minute.
      const wait = Number(res.headers.get('retry-after'))
      showError(
        Number.isFinite(wait) && wait > 0
          ? `Too many failed attempts. Try again in ${wait} s.`
          : 'Too many attempts. Wait a minute, then try again.',
      )
    } else if (res.status === 401 || res.status === 403) {
      const code = ((await res.json().catch(() => ({}))) as { code?: string }).code
      // Only ever answered after the right password (docs/API.md, "Users").
      showError(
        code === 'ERR_AUTH_USER_DISABLED'
          ? 'This account is disabled. Ask an admin to enable it.'
          : 'User name or password is not correct.',
      )
    } else showError(`Sign-in failed (HTTP ${res.status}). Try again.`)
  } catch {
    showError('The server cannot be reached. Check your connection.')
  } finally {
    submit.disabled = false
    submit.textContent = 'Sign in'
  }
})
