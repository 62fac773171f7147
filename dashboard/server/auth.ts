/**
 * Authentication and roles, enforced for every request in one onRequest hook:
 * a route is public only if it says so (`config: { public: true }`) or is one
 * of the login page's static files; every other request needs a session
 * cookie or a bearer token (401), and a role the route allows (403).
 * Routes name their roles with `config: { roles: [...] }`; no roles = any
 * signed-in role. An admin may do everything.
 */
import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type {} from '@fastify/cookie'
import type { Role, PublicUser, UserStore } from './users.ts'
import type { SessionStore } from './sessions.ts'
import { ApiError } from './errors.ts'
import { safeNextPath } from '../common/safe-next.ts'

declare module 'fastify' {
  interface FastifyRequest {
    user: PublicUser | null
    sessionId: string | null
    /** Set when the caller signed in with an API token: what the token allows. */
    tokenScope: 'read-only' | 'role' | null
  }
  interface FastifyContextConfig {
    /** Served without a session. */
    public?: boolean
    /** Roles allowed besides admin; absent = any signed-in user. */
    roles?: readonly Role[]
    /** /metrics: also accept the optional metrics token. */
    metricsToken?: boolean
  }
}

export const SESSION_COOKIE = 'coldproof_session'

/** The login page and the files it loads (dashboard/public/login.html). */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set([
  '/login.html',
  '/styles.css',
  '/favicon.svg',
  '/build/login.js',
  '/build/login.js.map',
])

export interface AuthOptions {
  users: UserStore
  sessions: SessionStore
  /** Optional shared secret a Prometheus scraper may send to /metrics. */
  metricsToken?: string
  /** Read-only secret for CLI commands on this machine; resolves to LOCAL_CLI_USER. */
  localToken?: string
}

/** Whoever can read the data directory can read the ledger anyway: the local token grants no more (read-only). */
export const LOCAL_CLI_USER: PublicUser = { username: 'local-cli', role: 'regulator' }

const sameSecret = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))

function bearer(req: FastifyRequest): string | null {
  const h = req.headers.authorization
  if (typeof h !== 'string') return null
  const m = /^Bearer ([\x21-\x7e]{1,200})$/.exec(h)
  return m ? m[1] : null
}

/** Resolves the caller from the session cookie or bearer token; null when neither is valid. */
export function identify(
  req: FastifyRequest,
  opts: AuthOptions,
): { user: PublicUser; sessionId: string | null; tokenScope?: 'read-only' | 'role' } | null {
  const raw = req.cookies?.[SESSION_COOKIE]
  if (raw) {
    const unsigned = req.unsignCookie(raw)
    if (unsigned.valid && unsigned.value) {
      const s = opts.sessions.touch(unsigned.value)
      const u = s ? opts.users.get(s.username) : null
      // Disabling drops the user's sessions; this is the belt to those braces.
      if (s && u && !u.disabled) return { user: { username: u.username, role: u.role }, sessionId: s.id }
    }
  }
  const token = bearer(req)
  if (token) {
    if (opts.localToken && sameSecret(token, opts.localToken)) return { user: LOCAL_CLI_USER, sessionId: null }
    const hit = opts.users.authenticateToken(token)
    if (hit) {
      const { tokenScope, ...user } = hit
      return { user, sessionId: null, tokenScope }
    }
  }
  return null
}

export function mayAccess(role: Role, allowed: readonly Role[] | undefined): boolean {
  return role === 'admin' || allowed === undefined || allowed.includes(role)
}

function wantsHtml(req: FastifyRequest): boolean {
  const accept = req.headers.accept ?? ''
  return req.method === 'GET' && accept.includes('text/html')
}

/** True when the URL's query has a `next` that is not a safe same-origin path (dashboard/common/safe-next.ts). */
export function unsafeNext(url: string): boolean {
  const i = url.indexOf('?')
  if (i < 0) return false
  return new URLSearchParams(url.slice(i + 1)).getAll('next').some((n) => safeNextPath(n) !== n)
}

async function authPlugin(app: FastifyInstance, opts: AuthOptions): Promise<void> {
  app.decorateRequest('user', null)
  app.decorateRequest('sessionId', null)
  app.decorateRequest('tokenScope', null)
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const cfg = req.routeOptions.config ?? {}
    const path = req.url.split('?')[0]
    if (path === '/login.html' && req.method === 'GET' && unsafeNext(req.url)) {
      // The page would ignore it anyway (dashboard/web/login.ts); never let the URL carry it on.
      return reply.redirect('/login.html', 302)
    }
    if (cfg.public || PUBLIC_PATHS.has(path)) return
    const who = identify(req, opts)
    if (!who) {
      if (cfg.metricsToken && opts.metricsToken && bearer(req) === opts.metricsToken) return
      if (wantsHtml(req) && !path.startsWith('/api/')) {
        // A browser opening a page: send it to sign in rather than show a JSON error.
        return reply.redirect(`/login.html?next=${encodeURIComponent(safeNextPath(req.url))}`, 302)
      }
      throw new ApiError('ERR_AUTH_REQUIRED', 'sign in first: no valid session cookie or API token')
    }
    req.user = who.user
    req.sessionId = who.sessionId
    req.tokenScope = who.tokenScope ?? null
    // A read-only token reads, whatever its owner's role may do.
    if (who.tokenScope === 'read-only' && req.method !== 'GET' && req.method !== 'HEAD') {
      throw new ApiError(
        'ERR_AUTH_TOKEN_SCOPE',
        `this API token is read-only: it may not ${req.method} ${req.routeOptions.url ?? path}; use a token with the "role" scope`,
      )
    }
    if (!mayAccess(who.user.role, cfg.roles)) {
      throw new ApiError(
        'ERR_AUTH_FORBIDDEN',
        `the ${who.user.role} role may not ${req.method} ${req.routeOptions.url ?? path}`,
      )
    }
  })
}
// Hooks of this plugin apply to the whole app, not just its own scope
// (fastify docs, Plugins: "skip-override", what fastify-plugin sets).
;(authPlugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true

export default authPlugin
