/** API tokens: a scope (read-only or the owner's role) and an expiry, enforced by the server (docs/API.md, "Authentication and roles"). */
import t from 'tap'
import { join } from 'node:path'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { harness, PASSWORDS, USERNAMES } from './support.ts'
import { openUserStore, type Role, type UserStore } from '../server/users.ts'

const DAY = 86_400_000

t.test('an expired token is 401 ERR_AUTH_TOKEN_EXPIRED; a read-only token may read but not write', async (t) => {
  const userClock = { now: Date.UTC(2026, 10, 20) }
  // A users store on its own clock, so expiry is tested without waiting.
  const dir = await mkdtemp(join(tmpdir(), 'coldproof-tokens-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const users: UserStore = await openUserStore({
    file: join(dir, 'users.json'),
    clock: () => userClock.now,
    seed: (Object.keys(USERNAMES) as Role[]).map((role) => ({
      username: USERNAMES[role],
      password: PASSWORDS[role],
      role,
    })),
  })
  const h = await harness(t, { users })
  const short = await users.createToken('olivia', 'one day', { expiresInDays: 1 })
  const ro = await users.createToken('olivia', 'reader', { scope: 'read-only' })
  t.equal(short.expiresAt, userClock.now + DAY)
  const as = (token: string, method: 'GET' | 'POST', url: string, payload?: object) =>
    h.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) })
  t.equal((await as(short.token, 'GET', '/api/me')).statusCode, 200, 'valid before its expiry')
  userClock.now += DAY
  const expired = await as(short.token, 'GET', '/api/me')
  t.equal(expired.statusCode, 401)
  t.equal(JSON.parse(expired.body).code, 'ERR_AUTH_TOKEN_EXPIRED')
  t.equal((await as(ro.token, 'GET', '/api/shipments')).statusCode, 200, 'a read-only token reads')
  const write = await as(ro.token, 'POST', '/api/shipments', {
    shipmentId: 'RO-1',
    product: 'x',
    profileId: 'refrigerated-2-8',
    route: { from: 'a', to: 'b' },
    devices: ['none-1'],
  })
  t.equal(write.statusCode, 403)
  t.equal(JSON.parse(write.body).code, 'ERR_AUTH_TOKEN_SCOPE')
  t.same(
    users.listTokens('olivia').map((x) => [x.label, x.scope, x.expiresAt]),
    [
      ['one day', 'role', short.expiresAt],
      ['reader', 'read-only', null],
    ],
  )
})

t.test('POST /api/tokens takes a scope and an expiry', async (t) => {
  const h = await harness(t)
  const res = await h.app.inject({
    method: 'POST',
    url: '/api/tokens',
    headers: { cookie: await h.cookie('operator') },
    payload: { label: 'ci', scope: 'read-only', expiresInDays: 30 },
  })
  t.equal(res.statusCode, 201, res.body)
  const b = JSON.parse(res.body)
  t.equal(b.scope, 'read-only')
  t.type(b.expiresAt, 'number')
  t.match(b.token, /^cpt_/)
  const bad = await h.app.inject({
    method: 'POST',
    url: '/api/tokens',
    headers: { cookie: await h.cookie('operator') },
    payload: { label: 'ci', scope: 'admin' },
  })
  t.equal(JSON.parse(bad.body).code, 'ERR_VALIDATION')
})
