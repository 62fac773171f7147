/**
 * Login, logout, who am I, and the caller's own API tokens (docs/API.md,
 * "Authentication and roles").
 */
import type { FastifyInstance } from 'fastify'
import { LoginBody, TokenCreateBody, TokenCreatedSchema, ERROR_RESPONSES } from '../schemas.ts'
import { SESSION_COOKIE } from '../auth.ts'
import { ApiError } from '../errors.ts'

const SESSION_MAX_AGE_S = 12 * 3600

export default async function sessionRoutes(app: FastifyInstance): Promise<void> {
  const { users, sessions, loginLimit, writeLimit, loginBackoff, security, audit } = app.dashboard

  app.post<{ Body: { username: string; password: string } }>(
    '/api/login',
    {
      config: { public: true, rateLimit: loginLimit },
      schema: {
        tags: ['session'],
        body: LoginBody,
        response: {
          200: { type: 'object', properties: { user: { $ref: 'User#' } }, required: ['user'] },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (req, reply) => {
      const { username } = req.body
      // Refused before the password is hashed: a flood of guesses costs no scrypt work.
      const waitMs = loginBackoff.waitMs(username, req.ip)
      if (waitMs > 0) {
        const waitS = Math.ceil(waitMs / 1000)
        security.loginFailure('backoff')
        req.log.warn(
          { event: 'login_refused', reason: 'backoff', username, ip: req.ip, retryAfterS: waitS },
          'login refused: backoff after failed sign-ins',
        )
        reply.header('retry-after', String(waitS))
        throw new ApiError(
          'ERR_AUTH_BACKOFF',
          `too many failed sign-ins for this user or address: try again in ${waitS} s`,
          undefined,
          { retryAfterS: waitS },
        )
      }
      const user = await users.authenticate(username, req.body.password)
      if (!user) {
        loginBackoff.failure(username, req.ip)
        security.loginFailure('bad_credentials')
        req.log.warn({ event: 'login_failed', reason: 'bad_credentials', username, ip: req.ip }, 'login failed')
        throw new ApiError('ERR_AUTH_BAD_CREDENTIALS', 'wrong user name or password')
      }
      if (user.disabled) {
        // Said only after the right password, so it tells a guesser nothing about the account.
        security.loginFailure('user_disabled')
        req.log.warn(
          { event: 'login_refused', reason: 'user_disabled', username, ip: req.ip },
          'login refused: the account is disabled',
        )
        throw new ApiError(
          'ERR_AUTH_USER_DISABLED',
          `the account "${user.username}" is disabled: ask an admin to enable it on the Users page`,
        )
      }
      loginBackoff.success(username)
      const s = sessions.create(user.username)
      reply.setCookie(SESSION_COOKIE, s.id, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure: req.protocol === 'https',
        signed: true,
        maxAge: SESSION_MAX_AGE_S,
      })
      req.log.info({ username: user.username }, 'login')
      return { user: { username: user.username, role: user.role } }
    },
  )

  app.post(
    '/api/logout',
    {
      config: { public: true, rateLimit: writeLimit },
      schema: { tags: ['session'], response: { 204: { type: 'null' } } },
    },
    async (req, reply) => {
      const raw = req.cookies[SESSION_COOKIE]
      if (raw) {
        const u = req.unsignCookie(raw)
        if (u.valid && u.value) sessions.drop(u.value)
      }
      reply.clearCookie(SESSION_COOKIE, { path: '/' })
      return reply.code(204).send()
    },
  )

  app.get(
    '/api/me',
    {
      schema: { tags: ['session'], response: { 200: { $ref: 'User#' }, ...ERROR_RESPONSES } },
    },
    async (req) => req.user!,
  )

  app.get(
    '/api/tokens',
    {
      schema: {
        tags: ['session'],
        response: {
          200: { type: 'object', properties: { tokens: { type: 'array', items: { $ref: 'Token#' } } } },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (req) => ({ tokens: users.listTokens(req.user!.username) }),
  )

  app.post<{ Body: { label: string; scope?: 'read-only' | 'role'; expiresInDays?: number } }>(
    '/api/tokens',
    {
      config: { rateLimit: writeLimit },
      schema: {
        tags: ['session'],
        body: TokenCreateBody,
        response: {
          201: TokenCreatedSchema,
          ...ERROR_RESPONSES,
        },
      },
    },
    async (req, reply) => {
      const { label, scope = 'role', expiresInDays } = req.body
      const t = await users.createToken(req.user!.username, label, { scope, expiresInDays })
      await audit(req, 'token.created', t.id, { label, scope, expiresAt: t.expiresAt })
      req.log.info(
        { event: 'token_created', by: req.user!.username, tokenId: t.id, scope, expiresAt: t.expiresAt },
        'API token created',
      )
      return reply.code(201).send(t)
    },
  )

  app.delete<{ Params: { id: string } }>(
    '/api/tokens/:id',
    {
      config: { rateLimit: writeLimit },
      schema: {
        tags: ['session'],
        params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9a-f]{16}$' } }, required: ['id'] },
        response: { 204: { type: 'null' }, ...ERROR_RESPONSES },
      },
    },
    async (req, reply) => {
      const label = users.listTokens(req.user!.username).find((x) => x.id === req.params.id)?.label
      await users.revokeToken(req.user!.username, req.params.id)
      await audit(req, 'token.revoked', req.params.id, { label: label ?? null })
      req.log.info({ event: 'token_revoked', by: req.user!.username, tokenId: req.params.id }, 'API token revoked')
      return reply.code(204).send()
    },
  )
}
