import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { harness, USERNAMES, PASSWORDS } from './support.ts'
import { openUserStore } from '../server/users.ts'
import type { Role } from '../server/users.ts'

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE'
const ALL: Role[] = ['operator', 'regulator', 'admin']

// Every route of docs/API.md and who may call it. Admin may do everything.
const ROUTES: { method: Method; url: string; roles: Role[] }[] = [
  { method: 'GET', url: '/api/me', roles: ALL },
  { method: 'GET', url: '/api/tokens', roles: ALL },
  { method: 'POST', url: '/api/tokens', roles: ALL },
  { method: 'DELETE', url: '/api/tokens/0123456789abcdef', roles: ALL },
  { method: 'GET', url: '/api/users', roles: ['admin'] },
  { method: 'POST', url: '/api/users', roles: ['admin'] },
  { method: 'PATCH', url: '/api/users/someone', roles: ['admin'] },
  { method: 'DELETE', url: '/api/users/someone', roles: ['admin'] },
  { method: 'GET', url: '/api/audit', roles: ['admin'] },
  { method: 'GET', url: '/api/shipments', roles: ALL },
  { method: 'GET', url: '/api/profiles', roles: ALL },
  { method: 'GET', url: '/api/shipments/S1', roles: ALL },
  { method: 'GET', url: '/api/shipments/S1/readings', roles: ALL },
  { method: 'POST', url: '/api/shipments', roles: ['operator', 'admin'] },
  { method: 'POST', url: '/api/shipments/S1/close', roles: ['operator', 'admin'] },
  { method: 'GET', url: '/api/alarms', roles: ALL },
  { method: 'POST', url: '/api/shipments/S1/alarms/a1/ack', roles: ['operator', 'admin'] },
  { method: 'GET', url: '/api/devices', roles: ALL },
  { method: 'GET', url: '/api/devices/d1', roles: ALL },
  { method: 'POST', url: '/api/devices', roles: ['admin'] },
  { method: 'POST', url: '/api/devices/d1/revoke', roles: ['admin'] },
  { method: 'GET', url: '/api/ledger', roles: ALL },
  { method: 'GET', url: '/api/ledger/checkpoint', roles: ALL },
  { method: 'GET', url: '/api/ledger/entries/0', roles: ALL },
  { method: 'GET', url: '/api/ledger/entries/0/proof', roles: ALL },
  { method: 'GET', url: '/api/ledger/consistency?from=0&to=0', roles: ALL },
  { method: 'GET', url: '/api/ledger/quarantine', roles: ['operator', 'admin'] },
  { method: 'POST', url: '/api/ledger/check', roles: ['operator', 'admin'] },
  { method: 'GET', url: '/api/admin/backup', roles: ['admin'] },
  { method: 'GET', url: '/api/shipments/S1/report.pdf', roles: ALL },
  { method: 'GET', url: '/api/shipments/S1/readings.csv', roles: ALL },
  { method: 'GET', url: '/api/shipments/S1/epcis.json', roles: ALL },
  { method: 'GET', url: '/api/shipments/S1/bundle.json', roles: ALL },
  { method: 'GET', url: '/metrics', roles: ALL },
  { method: 'GET', url: '/docs/json', roles: ALL },
  { method: 'GET', url: '/docs', roles: ALL },
  { method: 'GET', url: '/index.html', roles: ALL },
]

t.test('every route: 401 without a session, 403 for a wrong role, allowed otherwise', async (t) => {
  const h = await harness(t)
  for (const r of ROUTES) {
    const payload = r.method === 'GET' || r.method === 'DELETE' ? undefined : {}
    const anon = await h.app.inject({ method: r.method, url: r.url, payload })
    t.equal(anon.statusCode, 401, `${r.method} ${r.url} without a session`)
    t.equal(anon.json().code, 'ERR_AUTH_REQUIRED')
    for (const role of ALL) {
      const res = await h.app.inject({
        method: r.method,
        url: r.url,
        payload,
        headers: { cookie: await h.cookie(role) },
      })
      if (r.roles.includes(role))
        t.not([401, 403].includes(res.statusCode), true, `${role} may ${r.method} ${r.url} (got ${res.statusCode})`)
      else {
        t.equal(res.statusCode, 403, `${role} may not ${r.method} ${r.url}`)
        t.equal(res.json().code, 'ERR_AUTH_FORBIDDEN')
      }
    }
  }
})

t.test('public: /health, /checkpoint, the login page and its assets only', async (t) => {
  const h = await harness(t)
  const health = await h.app.inject('/health')
  t.equal(health.statusCode, 200)
  t.same(health.json(), {
    status: 'ok',
    ledgerSize: 0,
    ledger: { ok: true },
    live: { state: 'live', readingsFolded: 0, readingsTotal: 0 },
  })
  const cp = await h.app.inject('/checkpoint')
  t.equal(cp.statusCode, 404, 'GET /checkpoint is public; an empty ledger has signed none yet')
  t.match(cp.headers['content-type'], /^text\/plain/)
  for (const url of ['/login.html', '/styles.css', '/favicon.svg']) {
    const res = await h.app.inject(url)
    t.equal(res.statusCode, 200, url)
  }
  const page = await h.app.inject({ url: '/', headers: { accept: 'text/html' } })
  t.equal(page.statusCode, 302, 'a browser without a session is sent to sign in')
  t.match(page.headers.location, /^\/login\.html\?next=/)
  t.equal((await h.app.inject('/index.html')).statusCode, 401)
})

t.test('security headers: strict CSP without inline script', async (t) => {
  const h = await harness(t)
  const res = await h.app.inject('/login.html')
  const csp = String(res.headers['content-security-policy'])
  t.match(csp, /script-src 'self'(;|$)/)
  t.notMatch(csp, /unsafe-inline|unsafe-eval/)
  t.match(csp, /frame-ancestors 'none'/)
  t.equal(res.headers['x-content-type-options'], 'nosniff')
})

t.test('login, me, logout', async (t) => {
  const h = await harness(t)
  const bad = await h.app.inject({
    method: 'POST',
    url: '/api/login',
    payload: { username: 'olivia', password: 'wrong-password' },
  })
  t.equal(bad.statusCode, 401)
  t.equal(bad.json().code, 'ERR_AUTH_BAD_CREDENTIALS')
  const unknown = await h.app.inject({
    method: 'POST',
    url: '/api/login',
    payload: { username: 'nobody', password: 'wrong-password' },
  })
  t.same(unknown.json(), bad.json(), 'unknown user and wrong password look the same')

  const ok = await h.app.inject({
    method: 'POST',
    url: '/api/login',
    payload: { username: 'olivia', password: PASSWORDS.operator },
  })
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { user: { username: 'olivia', role: 'operator' } })
  const c = ok.cookies.find((x) => x.name === 'coldproof_session')!
  t.ok(c.httpOnly, 'HttpOnly')
  t.equal(c.sameSite, 'Strict')
  t.equal(c.path, '/')
  t.notOk(c.secure, 'not Secure over plain HTTP')
  const cookie = `coldproof_session=${c.value}`
  t.same((await h.app.inject({ url: '/api/me', headers: { cookie } })).json(), { username: 'olivia', role: 'operator' })

  const forged = await h.app.inject({
    url: '/api/me',
    headers: { cookie: `coldproof_session=${c.value.split('.')[0]}.AAAA` },
  })
  t.equal(forged.statusCode, 401, 'a cookie with a bad signature is refused')

  const out = await h.app.inject({ method: 'POST', url: '/api/logout', headers: { cookie } })
  t.equal(out.statusCode, 204)
  t.equal((await h.app.inject({ url: '/api/me', headers: { cookie } })).statusCode, 401, 'the session is gone')
})

t.test('Secure cookie behind a TLS proxy', async (t) => {
  const h = await harness(t, { trustProxy: true })
  const ok = await h.app.inject({
    method: 'POST',
    url: '/api/login',
    headers: { 'x-forwarded-proto': 'https' },
    payload: { username: 'rita', password: PASSWORDS.regulator },
  })
  t.ok(ok.cookies.find((x) => x.name === 'coldproof_session')!.secure)
})

t.test('API tokens: created for oneself, stored hashed, revocable', async (t) => {
  const h = await harness(t)
  const cookie = await h.cookie('regulator')
  const created = await h.app.inject({
    method: 'POST',
    url: '/api/tokens',
    headers: { cookie },
    payload: { label: 'nightly export' },
  })
  t.equal(created.statusCode, 201)
  const { token, id } = created.json()
  t.match(token, /^cpt_[0-9a-f]{16}_/)
  const me = await h.app.inject({ url: '/api/me', headers: { authorization: `Bearer ${token}` } })
  t.same(me.json(), { username: 'rita', role: 'regulator' })
  t.equal(
    (
      await h.app.inject({
        method: 'POST',
        url: '/api/shipments',
        headers: { authorization: `Bearer ${token}` },
        payload: {},
      })
    ).statusCode,
    403,
    "a token has its owner's role",
  )
  const file = await readFile(join(h.dir, 'users.json'), 'utf8')
  t.notMatch(file, token.split('_')[2], 'the secret is not in the users file')
  t.notMatch(file, PASSWORDS.regulator, 'nor is the password')
  t.match(file, /scrypt\$16384\$8\$1\$/)
  const list = await h.app.inject({ url: '/api/tokens', headers: { cookie } })
  t.same(
    list.json().tokens.map((x: { id: string }) => x.id),
    [id],
  )
  t.type(list.json().tokens[0].lastUsedAt, 'number')
  t.equal(
    (await h.app.inject({ url: '/api/tokens', headers: { cookie: await h.cookie('operator') } })).json().tokens.length,
    0,
    'others do not see it',
  )
  t.equal(
    (
      await h.app.inject({
        method: 'DELETE',
        url: `/api/tokens/${id}`,
        headers: { cookie: await h.cookie('operator') },
      })
    ).statusCode,
    404,
    'nor revoke it',
  )
  t.equal((await h.app.inject({ method: 'DELETE', url: `/api/tokens/${id}`, headers: { cookie } })).statusCode, 204)
  t.equal((await h.app.inject({ url: '/api/me', headers: { authorization: `Bearer ${token}` } })).statusCode, 401)
  t.equal(
    (
      await h.app.inject({
        url: '/api/me',
        headers: { authorization: 'Bearer cpt_0123456789abcdef_' + 'x'.repeat(43) },
      })
    ).statusCode,
    401,
  )
})

t.test('users: admin manages them; changes persist', async (t) => {
  const h = await harness(t)
  const cookie = await h.cookie('admin')
  const created = await h.app.inject({
    method: 'POST',
    url: '/api/users',
    headers: { cookie },
    payload: { username: 'quinn', password: 'a-long-password', role: 'regulator' },
  })
  t.equal(created.statusCode, 201)
  t.match(created.json(), { username: 'quinn', role: 'regulator', disabled: false })
  t.equal(
    (
      await h.app.inject({
        method: 'POST',
        url: '/api/users',
        headers: { cookie },
        payload: { username: 'quinn', password: 'a-long-password', role: 'admin' },
      })
    ).json().code,
    'ERR_USER_EXISTS',
  )
  const login = await h.app.inject({
    method: 'POST',
    url: '/api/login',
    payload: { username: 'quinn', password: 'a-long-password' },
  })
  t.equal(login.statusCode, 200)
  const patched = await h.app.inject({
    method: 'PATCH',
    url: '/api/users/quinn',
    headers: { cookie },
    payload: { role: 'operator' },
  })
  t.match(patched.json(), { username: 'quinn', role: 'operator', disabled: false })
  const quinn = `coldproof_session=${login.cookies[0].value}`
  t.equal(
    (await h.app.inject({ url: '/api/me', headers: { cookie: quinn } })).statusCode,
    401,
    'a role change ends the sessions',
  )
  t.equal(
    (await h.app.inject({ method: 'DELETE', url: `/api/users/${USERNAMES.admin}`, headers: { cookie } })).json().code,
    'ERR_USER_SELF',
  )
  const demote = await h.app.inject({
    method: 'PATCH',
    url: `/api/users/${USERNAMES.admin}`,
    headers: { cookie },
    payload: { role: 'operator' },
  })
  t.equal(demote.json().code, 'ERR_USER_LAST_ADMIN', 'the only admin stays an admin')
  t.equal((await h.app.inject({ method: 'DELETE', url: '/api/users/quinn', headers: { cookie } })).statusCode, 204)
  t.equal((await h.app.inject({ method: 'DELETE', url: '/api/users/quinn', headers: { cookie } })).statusCode, 404)
  const list = (await h.app.inject({ url: '/api/users', headers: { cookie } }))
    .json()
    .users.map((u: { username: string }) => u.username)
    .sort()
  t.same(list, ['ada', 'olivia', 'rita'])
  t.notMatch(
    JSON.stringify((await h.app.inject({ url: '/api/users', headers: { cookie } })).json()),
    /scrypt|password/,
    'no hash leaks',
  )
})

t.test('login is rate limited', async (t) => {
  const h = await harness(t, { rateLimits: { login: 3 } })
  const codes: number[] = []
  for (let i = 0; i < 5; i++) {
    codes.push(
      (
        await h.app.inject({
          method: 'POST',
          url: '/api/login',
          payload: { username: 'x-user', password: 'wrong-password' },
        })
      ).statusCode,
    )
  }
  t.same(codes, [401, 401, 401, 429, 429])
  const res = await h.app.inject({
    method: 'POST',
    url: '/api/login',
    payload: { username: 'x-user', password: 'wrong-password' },
  })
  t.equal(res.json().code, 'ERR_RATE_LIMITED')
})

t.test('validation errors name the field', async (t) => {
  const h = await harness(t)
  const missing = await h.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'olivia' } })
  t.equal(missing.statusCode, 400)
  t.equal(missing.json().code, 'ERR_VALIDATION')
  t.equal(missing.json().field, 'body.password')
  const extra = await h.app.inject({
    method: 'POST',
    url: '/api/login',
    payload: { username: 'olivia', password: 'x', admin: true },
  })
  t.equal(extra.json().field, 'body.admin')
  const cookie = await h.cookie('admin')
  const role = await h.app.inject({
    method: 'POST',
    url: '/api/users',
    headers: { cookie },
    payload: { username: 'zed', password: 'a-long-password', role: 'root' },
  })
  t.equal(role.statusCode, 400)
  t.equal(role.json().field, 'body.role')
  const short = await h.app.inject({
    method: 'POST',
    url: '/api/users',
    headers: { cookie },
    payload: { username: 'zed', password: 'short', role: 'admin' },
  })
  t.equal(short.json().field, 'body.password')
})

t.test('the users file survives a reopen; seeds never overwrite an existing user', async (t) => {
  const h = await harness(t)
  const cookie = await h.cookie('admin')
  await h.app.inject({
    method: 'PATCH',
    url: '/api/users/olivia',
    headers: { cookie },
    payload: { password: 'a-new-password-1' },
  })
  const again = await openUserStore({
    file: join(h.dir, 'users.json'),
    seed: [{ username: 'olivia', password: PASSWORDS.operator, role: 'operator' }],
  })
  t.match(await again.authenticate('olivia', 'a-new-password-1'), {
    username: 'olivia',
    role: 'operator',
    disabled: false,
  })
  t.equal(await again.authenticate('olivia', PASSWORDS.operator), null, 'the seed password did not come back')
  t.same(
    again
      .list()
      .map((u) => u.username)
      .sort(),
    ['ada', 'olivia', 'rita'],
  )
})

t.test('the OpenAPI document at /docs/json lists every API route with shared schemas', async (t) => {
  const h = await harness(t)
  const doc = (await h.app.inject({ url: '/docs/json', headers: { cookie: await h.cookie('regulator') } })).json()
  t.match(doc.openapi, /^3\./)
  for (const r of ROUTES) {
    if (!r.url.startsWith('/api/')) continue
    const path = r.url
      .split('?')[0]
      .replace(/^\/api\/tokens\/[0-9a-f]+$/, '/api/tokens/{id}')
      .replace(/^\/api\/users\/[^/]+$/, '/api/users/{username}')
      .replace(/^\/api\/shipments\/S1\/alarms\/a1\/ack$/, '/api/shipments/{id}/alarms/{alarmId}/ack')
      .replace(/^\/api\/shipments\/S1/, '/api/shipments/{id}')
      .replace(/^\/api\/devices\/d1/, '/api/devices/{id}')
      .replace(/^\/api\/ledger\/entries\/0/, '/api/ledger/entries/{index}')
    t.ok(doc.paths[path]?.[r.method.toLowerCase()], `${r.method} ${path} documented`)
  }
  for (const name of ['ShipmentSummary', 'ShipmentDetail', 'Alarm', 'Reading', 'Device', 'Checkpoint', 'Error'])
    t.ok(doc.components.schemas[name], `schema ${name}`)
})

t.test('writes are rate limited per client', async (t) => {
  const h = await harness(t, { rateLimits: { writes: 2 } })
  const cookie = await h.cookie('operator')
  const codes: number[] = []
  for (let i = 0; i < 3; i++)
    codes.push(
      (await h.app.inject({ method: 'POST', url: '/api/tokens', headers: { cookie }, payload: { label: `t${i}` } }))
        .statusCode,
    )
  t.same(codes, [201, 201, 429])
  t.equal((await h.app.inject({ url: '/api/tokens', headers: { cookie } })).statusCode, 200, 'reads are not limited')
})
