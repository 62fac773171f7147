/**
 * Cross-site request refusal: every state-changing request (POST, PUT,
 * PATCH, DELETE) must come from this server's own origin. A page on another
 * site, or on another port of the same host (a different origin, same
 * "site" for cookies), cannot make the browser write with the user's cookie.
 *
 * The browser's own headers decide: `Origin` must be an allowed origin (the
 * configured ones, or the origin the request itself was addressed to:
 * scheme + Host); without `Origin`, `Sec-Fetch-Site` must be `same-origin`
 * or `none` (typed by the user). A request with neither header is not from a
 * browser (curl, scripts, the CLI) and carries no ambient cookie risk, so it
 * passes; browsers send one of them on every cross-origin write.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ApiError } from './errors.ts'

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** "http://Host:8080/" → "http://host:8080"; null for anything that is not an http(s) origin. */
export function normalizeOrigin(s: string): string | null {
  let u: URL
  try {
    u = new URL(s)
  } catch {
    return null
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null
  return u.origin
}

export interface OriginCheckOptions {
  /** Origins besides the request's own, e.g. the public URL behind a proxy ("https://coldproof.example.com"). */
  allowedOrigins?: readonly string[]
}

/** Why this request is refused, or null when it may proceed. */
export function originRefusal(req: FastifyRequest, allowed: ReadonlySet<string>): string | null {
  if (!WRITES.has(req.method)) return null
  const origin = req.headers.origin
  if (typeof origin === 'string') {
    const own = normalizeOrigin(`${req.protocol}://${req.host}`)
    const o = origin === 'null' ? null : normalizeOrigin(origin)
    if (o !== null && (o === own || allowed.has(o))) return null
    return `${req.method} from origin ${JSON.stringify(origin.slice(0, 200))} refused: writes are accepted only from ${[own, ...allowed].filter(Boolean).join(', ')} (set allowedOrigins / COLDPROOF_PUBLIC_ORIGIN for a public URL behind a proxy)`
  }
  const site = req.headers['sec-fetch-site']
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') {
    return `${req.method} refused: the browser reports a ${site} request (Sec-Fetch-Site); writes are accepted only from this dashboard's own pages`
  }
  return null
}

export default async function originCheck(app: FastifyInstance, opts: OriginCheckOptions): Promise<void> {
  const allowed = new Set<string>()
  for (const o of opts.allowedOrigins ?? []) {
    const n = normalizeOrigin(o)
    if (!n)
      throw new TypeError(
        `"allowedOrigins" expected http(s) origins such as "https://coldproof.example.com", got ${JSON.stringify(o)}`,
      )
    allowed.add(n)
  }
  app.addHook('onRequest', async (req) => {
    const why = originRefusal(req, allowed)
    if (!why) return
    req.log.warn(
      {
        event: 'origin_refused',
        method: req.method,
        url: req.url.split('?')[0],
        origin: req.headers.origin,
        secFetchSite: req.headers['sec-fetch-site'],
        ip: req.ip,
      },
      'cross-origin write refused',
    )
    throw new ApiError('ERR_AUTH_BAD_ORIGIN', why)
  })
}
// Global hook, as auth.ts: applies to every route of the app.
;(originCheck as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true
