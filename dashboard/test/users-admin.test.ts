/**
 * User administration and its audit trail (docs/API.md, "Users" and "Audit
 * trail"): disabling ends a user's sessions and tokens at once and refuses
 * their sign-in with its own code; the last enabled admin stays one; every
 * change is an fsynced JSON line with who, what, when and from where, never a
 * password or a token; GET /api/audit pages it, newest first.
 */
import t from 'tap'
import { readFile, appendFile } from 'node:fs/promises'
import { join } from 'node:path'
import { harness, PASSWORDS, T0 } from './support.ts'
import { openAuditLog } from '../server/audit.ts'

const NEW_PW = 'fresh-password-456'

t.test('disable and enable: sign-in, sessions and tokens stop at once and come back', async (t) => {
  const h = await harness(t, (l) => ({ auditFile: join(l.dir, '..', 'audit.jsonl') }))
  const admin = await h.cookie('admin')
  const olivia = await h.cookie('operator')
  const token = (
    await h.app.inject({ method: 'POST', url: '/api/tokens', headers: { cookie: olivia }, payload: { label: 'ci' } })
  ).json().token as string
  const asToken = () => h.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${token}` } })
  const asSession = () => h.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: olivia } })
  t.equal((await asToken()).statusCode, 200)

  const off = await h.app.inject({
    method: 'PATCH',
    url: '/api/users/olivia',
    headers: { cookie: admin },
    payload: { disabled: true },
  })
  t.equal(off.statusCode, 200, off.body)
  t.equal(off.json().disabled, true)
  t.equal((await asSession()).statusCode, 401, 'the open session ends')
  const tk = await asToken()
  t.equal(tk.statusCode, 401, 'the token stops working')
  t.equal(tk.json().code, 'ERR_AUTH_USER_DISABLED')
  const login = await h.app.inject({
    method: 'POST',
    url: '/api/login',
    payload: { username: 'olivia', password: PASSWORDS.operator },
  })
  t.equal(login.statusCode, 401)
  t.equal(login.json().code, 'ERR_AUTH_USER_DISABLED', 'the right password of a disabled account: its own code')
  t.match(login.json().message, /disabled.*admin/)
  const wrong = await h.app.inject({
    method: 'POST',
    url: '/api/login',
    payload: { username: 'olivia', password: 'not-her-password' },
  })
  t.equal(wrong.json().code, 'ERR_AUTH_BAD_CREDENTIALS', 'a wrong password learns nothing about the account')
  const list = (await h.app.inject({ method: 'GET', url: '/api/users', headers: { cookie: admin } })).json()
    .users as Array<{ username: string; disabled: boolean; createdAt: number; role: string }>
  const o = list.find((u) => u.username === 'olivia')!
  t.same({ disabled: o.disabled, role: o.role }, { disabled: true, role: 'operator' })
  t.type(o.createdAt, 'number')
  t.notOk(JSON.stringify(list).includes('scrypt'), 'no password hash in the list')
  const metrics = await h.app.inject({ method: 'GET', url: '/metrics', headers: { cookie: admin } })
  t.match(metrics.body, /coldproof_http_login_failures_total\{reason="user_disabled"\} 1/)

  const on = await h.app.inject({
    method: 'PATCH',
    url: '/api/users/olivia',
    headers: { cookie: admin },
    payload: { disabled: false },
  })
  t.equal(on.json().disabled, false)
  t.equal((await asToken()).statusCode, 200, 'enabled: the token works again')
  t.equal(
    (
      await h.app.inject({
        method: 'POST',
        url: '/api/login',
        payload: { username: 'olivia', password: PASSWORDS.operator },
      })
    ).statusCode,
    200,
  )
})

t.test('the last enabled admin cannot be disabled or demoted; nobody disables themself', async (t) => {
  const h = await harness(t)
  const admin = await h.cookie('admin')
  const patch = (u: string, payload: object, cookie = admin) =>
    h.app.inject({ method: 'PATCH', url: `/api/users/${u}`, headers: { cookie }, payload })
  for (const [body, field] of [
    [{ disabled: true }, 'body.disabled'],
    [{ role: 'operator' }, 'body.role'],
  ] as const) {
    const r = await patch('ada', body)
    t.equal(r.statusCode, 409)
    t.equal(r.json().code, 'ERR_USER_LAST_ADMIN')
    t.equal(r.json().field, field)
  }
  // A second admin: now ada may be demoted by her, but still not disable herself.
  t.equal(
    (
      await h.app.inject({
        method: 'POST',
        url: '/api/users',
        headers: { cookie: admin },
        payload: { username: 'bert', password: NEW_PW, role: 'admin' },
      })
    ).statusCode,
    201,
  )
  const self = await patch('ada', { disabled: true })
  t.equal(self.json().code, 'ERR_USER_SELF')
  t.equal((await patch('bert', { disabled: true })).statusCode, 200, 'another admin may be disabled')
  // A disabled admin does not count: ada is again the only enabled admin.
  t.equal((await patch('ada', { role: 'operator' })).json().code, 'ERR_USER_LAST_ADMIN')
  const missing = await patch('nobody', { disabled: true })
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().code, 'ERR_USER_NOT_FOUND')
  const bad = await patch('bert', { disabled: 'yes' })
  t.equal(bad.json().code, 'ERR_VALIDATION')
  t.equal(bad.json().field, 'body.disabled')
})

t.test('every admin change is in the audit trail: who, what, when, from where; never a secret', async (t) => {
  const h = await harness(t, (l) => ({ auditFile: join(l.dir, '..', 'audit.jsonl') }))
  const file = join(h.dir, 'audit.jsonl')
  const admin = await h.cookie('admin')
  const req = (method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, cookie = admin) =>
    h.app.inject({ method, url, headers: { cookie }, ...(payload ? { payload } : {}), remoteAddress: '192.0.2.7' })
  t.equal((await req('POST', '/api/users', { username: 'carl', password: NEW_PW, role: 'regulator' })).statusCode, 201)
  h.clock.now += 1000
  t.equal((await req('PATCH', '/api/users/carl', { role: 'operator', password: `${NEW_PW}x` })).statusCode, 200)
  t.equal((await req('PATCH', '/api/users/carl', { disabled: true })).statusCode, 200)
  t.equal((await req('PATCH', '/api/users/carl', { disabled: true })).statusCode, 200, 'no change: nothing recorded')
  t.equal((await req('PATCH', '/api/users/carl', { disabled: false })).statusCode, 200)
  const created = (
    await req('POST', '/api/tokens', { label: 'nightly report', scope: 'read-only', expiresInDays: 7 })
  ).json()
  t.equal((await req('DELETE', `/api/tokens/${created.id}`)).statusCode, 204)
  t.equal((await req('DELETE', '/api/users/carl')).statusCode, 204)
  // A refused change is not a change.
  t.equal((await req('PATCH', '/api/users/ada', { disabled: true })).statusCode, 409)

  const page = (q = '') => h.app.inject({ method: 'GET', url: `/api/audit${q}`, headers: { cookie: admin } })
  const all = (await page()).json()
  t.equal(all.total, 8)
  t.equal(all.next, null)
  t.same(all.entries.map((e: { action: string; target: string }) => [e.action, e.target]).reverse(), [
    ['user.created', 'carl'],
    ['user.password_reset', 'carl'],
    ['user.role_changed', 'carl'],
    ['user.disabled', 'carl'],
    ['user.enabled', 'carl'],
    ['token.created', created.id],
    ['token.revoked', created.id],
    ['user.deleted', 'carl'],
  ])
  const first = all.entries[all.entries.length - 1]
  t.same(
    { by: first.by, ip: first.ip, at: first.at, details: first.details },
    { by: 'ada', ip: '192.0.2.7', at: T0, details: { role: 'regulator' } },
  )
  t.same(all.entries.find((e: { action: string }) => e.action === 'user.role_changed').details, {
    from: 'regulator',
    to: 'operator',
  })
  // The users store keeps its own (here the real) clock for expiries.
  t.same(all.entries.find((e: { action: string }) => e.action === 'token.created').details, {
    label: 'nightly report',
    scope: 'read-only',
    expiresAt: created.expiresAt,
  })
  t.same(all.entries.find((e: { action: string }) => e.action === 'token.revoked').details, { label: 'nightly report' })

  // Paged, newest first: 3 + 3 + 2.
  const p1 = (await page('?limit=3')).json()
  const p2 = (await page(`?limit=3&before=${p1.next}`)).json()
  const p3 = (await page(`?limit=3&before=${p2.next}`)).json()
  t.same(
    [...p1.entries, ...p2.entries, ...p3.entries].map((e: { seq: number }) => e.seq),
    [8, 7, 6, 5, 4, 3, 2, 1],
  )
  t.equal(p3.next, null)
  t.equal((await page('?limit=0')).json().code, 'ERR_VALIDATION')
  t.equal(
    (await h.app.inject({ method: 'GET', url: '/api/audit', headers: { cookie: await h.cookie('operator') } }))
      .statusCode,
    403,
    'admins only',
  )

  // On disk: one JSON line each, in order, no password and no token secret anywhere.
  const text = await readFile(file, 'utf8')
  const lines = text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  t.same(
    lines.map((l) => l.seq),
    [1, 2, 3, 4, 5, 6, 7, 8],
  )
  t.notOk(text.includes(NEW_PW), 'no password')
  t.notOk(text.includes(created.token.slice(21)), 'no token secret')
  t.notOk(/scrypt|"password"|"token"/.test(text), 'no password or token field at all')
})

t.test('the trail survives a reopen and a torn last line', async (t) => {
  const h = await harness(t)
  const file = join(h.dir, 'trail.jsonl')
  const a = await openAuditLog(file)
  await a.append({ at: 1, by: 'ada', action: 'user.created', target: 'x', ip: '127.0.0.1' })
  await a.append({ at: 2, by: 'ada', action: 'user.disabled', target: 'x', ip: '127.0.0.1' })
  await a.close()
  await appendFile(file, '{"seq":3,"at":3,"by":"ad') // a crash mid-write
  const bad: number[] = []
  const b = await openAuditLog(file, (line) => bad.push(line))
  t.same(bad, [3])
  const r = await b.append({ at: 4, by: 'ada', action: 'user.enabled', target: 'x', ip: '127.0.0.1' })
  t.equal(r.seq, 3, 'numbering goes on from the last whole record')
  await b.close()
  const c = await openAuditLog(file)
  t.same(
    c.page().entries.map((e) => [e.seq, e.action]),
    [
      [3, 'user.enabled'],
      [2, 'user.disabled'],
      [1, 'user.created'],
    ],
  )
  // Another process (`coldproof user add`) appends while this one has the file open: numbering goes on after its record.
  const cli = await openAuditLog(file)
  await cli.append({ at: 5, by: 'cli:root', action: 'user.created', target: 'y', ip: 'local' })
  await cli.close()
  const r2 = await c.append({ at: 6, by: 'ada', action: 'user.deleted', target: 'x', ip: '127.0.0.1' })
  t.equal(r2.seq, 5)
  t.same(
    c.page().entries.map((e) => [e.seq, e.by]),
    [
      [5, 'ada'],
      [4, 'cli:root'],
      [3, 'ada'],
      [2, 'ada'],
      [1, 'ada'],
    ],
  )
  await c.close()
})
