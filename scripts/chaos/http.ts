/**
 * The chaos suite's HTTP client: every response is counted by status, and
 * every 5xx is kept with its request for the report.
 */
export type Role = 'admin' | 'operator' | 'regulator'

export interface HttpTally {
  byStatus: Record<string, number>
  serverErrors: { method: string; path: string; status: number; body: string }[]
  /** Requests answered 2xx for a role the route does not allow (must stay empty). */
  roleBreaches: { role: string; method: string; path: string; status: number }[]
  /** Network errors (the system was being killed): not responses. */
  networkErrors: number
}

export function newTally(): HttpTally {
  return { byStatus: {}, serverErrors: [], roleBreaches: [], networkErrors: 0 }
}

export interface HttpClient {
  base: string
  tally: HttpTally
  req(
    method: string,
    path: string,
    opts?: { body?: unknown; raw?: string; cookie?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; text: string; json: unknown; headers: Headers }>
  login(role: Role): Promise<string>
}

export function httpClient(
  base: string,
  tally: HttpTally,
  logins: Record<Role, { username: string; password: string }>,
): HttpClient {
  const c: HttpClient = {
    base,
    tally,
    async req(method, path, opts = {}) {
      const headers: Record<string, string> = { origin: base, 'sec-fetch-site': 'same-origin', ...opts.headers }
      if (opts.cookie !== undefined) headers.cookie = opts.cookie
      let body: string | undefined
      if (opts.raw !== undefined) {
        body = opts.raw
        headers['content-type'] ??= 'application/json'
      } else if (opts.body !== undefined) {
        body = JSON.stringify(opts.body)
        headers['content-type'] = 'application/json'
      }
      let res: Response
      try {
        res = await fetch(base + path, {
          method,
          headers,
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(60_000),
        })
      } catch (e) {
        tally.networkErrors++
        throw e
      }
      const text = await res.text()
      tally.byStatus[res.status] = (tally.byStatus[res.status] ?? 0) + 1
      if (res.status >= 500)
        tally.serverErrors.push({ method, path: path.slice(0, 200), status: res.status, body: text.slice(0, 300) })
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        json = undefined
      }
      return { status: res.status, text, json, headers: res.headers }
    },
    async login(role) {
      const r = await c.req('POST', '/api/login', { body: logins[role] })
      if (r.status !== 200) throw new Error(`login as ${role} answered ${r.status}: ${r.text.slice(0, 200)}`)
      const set = r.headers
        .getSetCookie()
        .map((s) => s.split(';')[0]!)
        .join('; ')
      return set
    },
  }
  return c
}
