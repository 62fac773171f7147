/** User management (admin only): docs/API.md, "Users". */
import type { FastifyInstance } from 'fastify'
import { UserCreateBody, UserPatchBody, USERNAME, ERROR_RESPONSES } from '../schemas.ts'
import { ApiError } from '../errors.ts'
import type { Role } from '../users.ts'

const ADMIN_ONLY = [] as const
const params = { type: 'object', properties: { username: USERNAME }, required: ['username'] } as const

export default async function userRoutes(app: FastifyInstance): Promise<void> {
  const { users, sessions, writeLimit } = app.dashboard

  app.get('/api/users', {
    config: { roles: ADMIN_ONLY },
    schema: { tags: ['users'], response: { 200: { type: 'object', properties: { users: { type: 'array', items: { $ref: 'User#' } } } }, ...ERROR_RESPONSES } },
  }, async () => ({ users: users.list() }))

  app.post<{ Body: { username: string; password: string; role: Role } }>('/api/users', {
    config: { roles: ADMIN_ONLY, rateLimit: writeLimit },
    schema: { tags: ['users'], body: UserCreateBody, response: { 201: { $ref: 'User#' }, ...ERROR_RESPONSES } },
  }, async (req, reply) => {
    const u = await users.create(req.body)
    req.log.info({ by: req.user!.username, username: u.username, role: u.role }, 'user created')
    return reply.code(201).send(u)
  })

  app.patch<{ Params: { username: string }; Body: { password?: string; role?: Role } }>('/api/users/:username', {
    config: { roles: ADMIN_ONLY, rateLimit: writeLimit },
    schema: { tags: ['users'], params, body: UserPatchBody, response: { 200: { $ref: 'User#' }, ...ERROR_RESPONSES } },
  }, async (req) => {
    const target = users.get(req.params.username)
    if (target?.role === 'admin' && req.body.role !== undefined && req.body.role !== 'admin' && users.list().filter((x) => x.role === 'admin').length === 1) {
      throw new ApiError('ERR_USER_LAST_ADMIN', `"${target.username}" is the only admin; make another admin first`, 'body.role')
    }
    const u = await users.update(req.params.username, req.body)
    // A changed password or role ends the user's sessions: they sign in again under the new terms.
    sessions.dropUser(u.username)
    req.log.info({ by: req.user!.username, username: u.username }, 'user changed')
    return u
  })

  app.delete<{ Params: { username: string } }>('/api/users/:username', {
    config: { roles: ADMIN_ONLY, rateLimit: writeLimit },
    schema: { tags: ['users'], params, response: { 204: { type: 'null' }, ...ERROR_RESPONSES } },
  }, async (req, reply) => {
    if (req.params.username === req.user!.username) throw new ApiError('ERR_USER_SELF', 'an admin cannot delete their own account', 'params.username')
    await users.remove(req.params.username)
    sessions.dropUser(req.params.username)
    req.log.info({ by: req.user!.username, username: req.params.username }, 'user deleted')
    return reply.code(204).send()
  })
}
