/**
 * The one way the browser calls the dashboard API (docs/API.md): JSON in and
 * out, a refusal thrown as ApiError with the server's code and message. A 401
 * anywhere sends the user to the login page. The other modules here call one
 * resource each and map the server's shapes (the *Wire types, derived from
 * the API's schemas in dashboard/common/api-schemas.ts) onto the view shapes
 * in ../types.ts.
 */

/** A refused or failed request: the HTTP status (0: no answer), the server's code and message, the field it names. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly field?: string
  /** The server's structured evidence of the refusal (e.g. which loggers end early), when it sends one. */
  readonly details?: Record<string, unknown>
  constructor(status: number, code: string, message: string, field?: string, details?: Record<string, unknown>) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.field = field
    this.details = details
  }
}

function toLogin(): void {
  const here = location.pathname + location.search + location.hash
  location.assign(`/login.html?next=${encodeURIComponent(here)}`)
}

/** JSON request; throws ApiError with the server's code and message. */
export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (body !== undefined) headers['content-type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch {
    throw new ApiError(0, 'ERR_NETWORK', 'The server cannot be reached.')
  }
  if (res.status === 401 && path !== '/api/login') {
    toLogin()
    throw new ApiError(401, 'ERR_AUTH_REQUIRED', 'Your session has ended. Sign in again.')
  }
  if (res.status === 204) return undefined as T
  const text = await res.text()
  let json: unknown = null
  try {
    json = text ? JSON.parse(text) : null
  } catch {
    /* not JSON: reported below */
  }
  if (!res.ok) {
    const e = (json ?? {}) as { code?: string; message?: string; field?: string; details?: Record<string, unknown> }
    throw new ApiError(
      res.status,
      e.code ?? `HTTP_${res.status}`,
      e.message ?? `Request failed (HTTP ${res.status}).`,
      e.field,
      e.details,
    )
  }
  return json as T
}
