/**
 * Where the login page may send the browser after a sign-in (`?next=`): only
 * a path on this origin. Shared by the login page (dashboard/web/login.ts)
 * and the server (which cleans `next` before it serves the page), so both
 * apply one rule. Dependency-free: it runs in the browser too.
 *
 * Accepted: "/" followed by printable ASCII, not "//" and not "/\" (browsers
 * read both as another host), no backslash anywhere (WHATWG URL treats "\" as
 * "/" in http URLs), no control or space characters (the URL parser strips
 * TAB/CR/LF, so "/\t/evil" would become "//evil"), and the same after
 * percent-decoding (a later hop may decode once more). Anything else: "/".
 */
export const NEXT_MAX_LENGTH = 2048

const PRINTABLE_NO_BACKSLASH = /^[\x21-\x5b\x5d-\x7e]*$/

function decodeFully(s: string): string | null {
  let cur = s
  for (let i = 0; i < 5; i++) {
    let next: string
    try {
      next = decodeURIComponent(cur)
    } catch {
      return null
    }
    if (next === cur) return cur
    cur = next
  }
  return null // still changing after five rounds: nested encodings, refuse
}

function pathShapeOk(s: string): boolean {
  return s.startsWith('/') && s[1] !== '/' && s[1] !== '\\' && PRINTABLE_NO_BACKSLASH.test(s)
}

/** `raw` when it is a safe same-origin path, else "/". */
export function safeNextPath(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > NEXT_MAX_LENGTH) return '/'
  if (!pathShapeOk(raw)) return '/'
  const decoded = decodeFully(raw)
  if (decoded === null || !pathShapeOk(decoded)) return '/'
  // Last word to a real URL parser: resolved against a stand-in origin it must stay there.
  const base = 'http://origin.invalid'
  let u: URL
  try {
    u = new URL(raw, base)
  } catch {
    return '/'
  }
  if (u.origin !== base) return '/'
  return raw
}
