/** User management (admin only): docs/API.md, "Users". Every change goes into the audit trail (../audit.ts). */
import type { FastifyInstance } from 'fastify'
import { AuditPageSchema, UserCreateBody, UserPatchBody, USERNAME, ERROR_RESPONSES } from '../schemas.ts'
import { ApiError } from '../errors.ts'
import type { Role } from '../users.ts'

const ADMIN_ONLY = [] as const
const params = { type: 'object', properties: { username: USERNAME }, required: ['username'] } as const

export default async function userRoutes(app: FastifyInstance): Promise<void> {
  const { users, sessions, sse, writeLimit, audit } = app.dashboard
  // Sessions end, and so do live streams opened with them (a stream outlives the request that opened it).
  const signOut = (username: string) => {
    sessions.dropUser(username)
    sse.closeUser(username, 'your account was changed by an admin: sign in again')
  }
  const activeAdmins = () => users.list().filter((x) => x.role === 'admin' && !x.disabled).length

  app.get(
    '/api/users',
    {
      config: { roles: ADMIN_ONLY },
      schema: {
        tags: ['users'],
        response: {
          200: { type: 'object', properties: { users: { type: 'array', items: { $ref: 'User#' } } } },
          ...ERROR_RESPONSES,
        },
      },
    },
    async () => ({ users: users.list() }),
  )

  app.post<{ Body: { username: string; password: string; role: Role } }>(
    '/api/users',
    {
      config: { roles: ADMIN_ONLY, rateLimit: writeLimit },
      schema: { tags: ['users'], body: UserCreateBody, response: { 201: { $ref: 'User#' }, ...ERROR_RESPONSES } },
    },
    async (req, reply) => {
      const u = await users.create(req.body)
      await audit(req, 'user.created', u.username, { role: u.role })
      req.log.info({ by: req.user!.username, username: u.username, role: u.role }, 'user created')
      return reply.code(201).send(u)
    },
  )

  app.patch<{ Params: { username: string }; Body: { password?: string; role?: Role; disabled?: boolean } }>(
    '/api/users/:username',
    {
      config: { roles: ADMIN_ONLY, rateLimit: writeLimit },
      schema: {
        tags: ['users'],
        params,
        body: UserPatchBody,
        response: { 200: { $ref: 'User#' }, ...ERROR_RESPONSES },
      },
    },
    async (req) => {
      const { role, disabled, password } = req.body
      const before = users.get(req.params.username)
      if (!before) throw new ApiError('ERR_USER_NOT_FOUND', `no user "${req.params.username}"`, 'params.username')
      // Someone must always be able to administer: the last enabled admin stays an enabled admin.
      const isActiveAdmin = before.role === 'admin' && !before.disabled
      if (isActiveAdmin && activeAdmins() === 1) {
        if (role !== undefined && role !== 'admin')
          throw new ApiError(
            'ERR_USER_LAST_ADMIN',
            `"${before.username}" is the only enabled admin; make another admin first`,
            'body.role',
          )
        if (disabled === true)
          throw new ApiError(
            'ERR_USER_LAST_ADMIN',
            `"${before.username}" is the only enabled admin and cannot be disabled; make another admin first`,
            'body.disabled',
          )
      }
      if (disabled === true && before.username === req.user!.username)
        throw new ApiError(
          'ERR_USER_SELF',
          'an admin cannot disable their own account; another admin can',
          'body.disabled',
        )
      const u = await users.update(req.params.username, req.body)
      // A changed password, role or state ends the user's sessions: they sign in again under the new terms.
      signOut(u.username)
      if (password !== undefined) await audit(req, 'user.password_reset', u.username)
      if (role !== undefined && role !== before.role)
        await audit(req, 'user.role_changed', u.username, { from: before.role, to: role })
      if (disabled !== undefined && disabled !== before.disabled)
        await audit(req, disabled ? 'user.disabled' : 'user.enabled', u.username)
      req.log.info({ by: req.user!.username, username: u.username }, 'user changed')
      return u
    },
  )

  app.delete<{ Params: { username: string } }>(
    '/api/users/:username',
    {
      config: { roles: ADMIN_ONLY, rateLimit: writeLimit },
      schema: { tags: ['users'], params, response: { 204: { type: 'null' }, ...ERROR_RESPONSES } },
    },
    async (req, reply) => {
      if (req.params.username === req.user!.username)
        throw new ApiError('ERR_USER_SELF', 'an admin cannot delete their own account', 'params.username')
      await users.remove(req.params.username)
      signOut(req.params.username)
      await audit(req, 'user.deleted', req.params.username)
      req.log.info({ by: req.user!.username, username: req.params.username }, 'user deleted')
      return reply.code(204).send()
    },
  )

  app.get<{ Querystring: { limit?: number; before?: number } }>(
    '/api/audit',
    {
      config: { roles: ADMIN_ONLY },
      schema: {
        tags: ['users'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            before: { type: 'integer', minimum: 1 },
          },
        },
        response: {
          200: AuditPageSchema,
          ...ERROR_RESPONSES,
        },
      },
    },
    async (req) => app.dashboard.auditLog.page({ limit: req.query.limit, before: req.query.before }),
  )
}
