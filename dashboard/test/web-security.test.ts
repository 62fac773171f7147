/**
 * The dashboard against a hostile browser page and a password guesser:
 * the login page's `next` never leaves the origin, cross-origin writes are
 * refused (403 ERR_AUTH_BAD_ORIGIN) while non-browser clients still work,
 * failed sign-ins back off per account and address before any scrypt work,
 * and every refusal is counted in /metrics.
 */
import t from 'tap'
import { harness, PASSWORDS, USERNAMES } from './support.ts'

function metric(text: string, name: string, labels = ''): number {
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)))
  return line ? Number(line.split(' ').pop()) : 0
}

t.test('GET /login.html with an unsafe next is redirected to the bare login page', async (t) => {
  const h = await harness(t)
  for (const next of [
    '/\\evil.example/phish',
    '//evil.example',
    '/%5Cevil',
    'https://evil.example',
    'javascript:alert(1)',
    '/\t/evil.example',
    '/%2F/evil',
  ]) {
    const res = await h.app.inject({ url: `/login.html?next=${encodeURIComponent(next)}` })
    t.equal(res.statusCode, 302, `next=${JSON.stringify(next)} refused`)
    t.equal(res.headers.location, '/login.html')
  }
  // Raw (not encoded) in the query: what an attacker's link would hold.
  const raw = await h.app.inject({ url: '/login.html?next=/\\evil.example/phish' })
  t.equal(raw.headers.location, '/login.html', 'raw backslash')
  const twice = await h.app.inject({ url: '/login.html?next=/ok&next=//evil.example' })
  t.equal(twice.headers.location, '/login.html', 'a second next is checked too')
  const ok = await h.app.inject({ url: `/login.html?next=${encodeURIComponent('/#/shipment/SHP-1')}` })
  t.equal(ok.statusCode, 200, 'a same-origin path is served')
  const page = await h.app.inject({ url: '//evil.example/x', headers: { accept: 'text/html' } })
  t.equal(page.statusCode, 302)
  t.equal(page.headers.location, '/login.html?next=%2F', 'the sign-in redirect never carries an unsafe path')
})

t.test('writes from another origin are refused; same origin and non-browser clients pass', async (t) => {
  const h = await harness(t, { allowedOrigins: ['https://coldproof.example.com'] })
  const login = (headers: Record<string, string>) =>
    h.app.inject({
      method: 'POST',
      url: '/api/login',
      headers: { host: '127.0.0.1:8080', ...headers },
      payload: { username: USERNAMES.operator, password: PASSWORDS.operator },
    })
  const cases: Array<[string, Record<string, string>, number]> = [
    ['same origin', { origin: 'http://127.0.0.1:8080' }, 200],
    ['configured public origin', { origin: 'https://coldproof.example.com' }, 200],
    ['no Origin, Sec-Fetch-Site same-origin', { 'sec-fetch-site': 'same-origin' }, 200],
    ['no Origin, Sec-Fetch-Site none (typed by the user)', { 'sec-fetch-site': 'none' }, 200],
    ['neither header (curl, CLI)', {}, 200],
    ['another port of the same host', { origin: 'http://127.0.0.1:9999' }, 403],
    ['another host', { origin: 'http://evil.example' }, 403],
    ['https vs http', { origin: 'https://127.0.0.1:8080' }, 403],
    ['Origin: null (sandboxed frame, file:)', { origin: 'null' }, 403],
    ['garbage Origin', { origin: 'not a url' }, 403],
    ['no Origin, Sec-Fetch-Site same-site', { 'sec-fetch-site': 'same-site' }, 403],
    ['no Origin, Sec-Fetch-Site cross-site', { 'sec-fetch-site': 'cross-site' }, 403],
  ]
  for (const [name, headers, status] of cases) {
    const res = await login(headers)
    t.equal(res.statusCode, status, name)
    if (status === 403) t.equal(res.json().code, 'ERR_AUTH_BAD_ORIGIN', `${name}: typed code`)
  }
  // A signed-in user's cookie does not help a cross-origin write, on any state-changing route.
  const cookie = await h.cookie('admin')
  for (const [method, url] of [
    ['POST', '/api/tokens'],
    ['DELETE', '/api/tokens/0123456789abcdef'],
    ['PATCH', '/api/users/olivia'],
    ['POST', '/api/logout'],
  ] as const) {
    const res = await h.app.inject({
      method,
      url,
      headers: { cookie, origin: 'http://127.0.0.1:9999', host: '127.0.0.1:8080' },
      payload: method === 'DELETE' || url === '/api/logout' ? undefined : { label: 'x' },
    })
    t.equal(res.statusCode, 403, `${method} ${url} cross-origin`)
  }
  const get = await h.app.inject({ url: '/api/me', headers: { cookie, origin: 'http://127.0.0.1:9999' } })
  t.equal(get.statusCode, 200, 'reads are not state-changing: not checked')
  const metrics = (await h.app.inject({ url: '/metrics', headers: { cookie } })).body
  t.equal(
    metric(metrics, 'coldproof_http_refusals_total', '{code="ERR_AUTH_BAD_ORIGIN"}'),
    11,
    'every refusal counted by code',
  )
})

t.test('failed sign-ins back off per account and per address, before any password hashing', async (t) => {
  const clock = { now: 1_000_000 }
  const h = await harness(t, {
    loginBackoff: { clock: () => clock.now, freeFailures: 3, baseMs: 1000, maxMs: 8000 },
    rateLimits: { login: 1000 },
  })
  const tryLogin = (username: string, password: string, ip = '10.0.0.1') =>
    h.app.inject({ method: 'POST', url: '/api/login', remoteAddress: ip, payload: { username, password } })
  const codes: number[] = []
  for (let i = 0; i < 4; i++) codes.push((await tryLogin('olivia', 'wrong-password')).statusCode)
  t.same(codes, [401, 401, 401, 401], 'three free failures, the fourth sets a wait')
  const refused = await tryLogin('olivia', PASSWORDS.operator)
  t.equal(refused.statusCode, 429, 'inside the wait even the right password is refused')
  t.equal(refused.json().code, 'ERR_AUTH_BACKOFF')
  t.equal(refused.headers['retry-after'], '1')
  t.same(refused.json().details, { retryAfterS: 1 })
  const otherIp = await tryLogin('olivia', PASSWORDS.operator, '10.0.0.2')
  t.equal(otherIp.statusCode, 429, 'the account backs off from every address')
  const otherUserSameIp = await tryLogin('rita', PASSWORDS.regulator, '10.0.0.1')
  t.equal(otherUserSameIp.statusCode, 429, 'the address backs off for every account')
  const fresh = await tryLogin('rita', PASSWORDS.regulator, '10.0.0.3')
  t.equal(fresh.statusCode, 200, 'another account from another address is not affected')

  clock.now += 1000
  t.equal(
    (await tryLogin('olivia', 'wrong-password', '10.0.0.4')).statusCode,
    401,
    'after the wait one more try is allowed',
  )
  const doubled = await tryLogin('olivia', PASSWORDS.operator, '10.0.0.4')
  t.equal(doubled.headers['retry-after'], '2', 'the wait doubles per failure')
  for (let i = 0; i < 10; i++) {
    clock.now += 8000
    await tryLogin('olivia', 'wrong-password', '10.0.0.5')
  }
  t.equal((await tryLogin('olivia', 'x', '10.0.0.6')).headers['retry-after'], '8', 'capped at maxMs')
  clock.now += 8000
  t.equal(
    (await tryLogin('olivia', PASSWORDS.operator, '10.0.0.7')).statusCode,
    200,
    'the right password after the wait',
  )
  t.equal(
    (await tryLogin('olivia', 'wrong-password', '10.0.0.8')).statusCode,
    401,
    'a success clears the account: the next failure is free again',
  )

  const metrics = (await h.app.inject({ url: '/metrics', headers: { cookie: await h.cookie('admin') } })).body
  t.ok(
    metric(metrics, 'coldproof_http_login_failures_total', '{reason="bad_credentials"}') >= 16,
    'wrong passwords counted',
  )
  t.ok(metric(metrics, 'coldproof_http_login_failures_total', '{reason="backoff"}') >= 4, 'backoff refusals counted')
  t.ok(metric(metrics, 'coldproof_http_refusals_total', '{code="ERR_AUTH_BACKOFF"}') >= 4)
  t.ok(metric(metrics, 'coldproof_http_refusals_total', '{code="ERR_AUTH_BAD_CREDENTIALS"}') >= 16)
})

t.test('failed sign-ins are logged as structured JSON', async (t) => {
  const lines: string[] = []
  const stream = {
    write: (s: string) => {
      lines.push(s)
    },
  }
  const h = await harness(t, { logger: { level: 'warn', stream } })
  await h.app.inject({
    method: 'POST',
    url: '/api/login',
    remoteAddress: '10.1.2.3',
    payload: { username: 'olivia', password: 'wrong-password' },
  })
  await h.app.inject({
    method: 'POST',
    url: '/api/login',
    headers: { origin: 'http://evil.example' },
    payload: { username: 'olivia', password: 'wrong-password' },
  })
  const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
  const failed = events.find((e) => e.event === 'login_failed')
  t.match(failed, {
    level: 40,
    event: 'login_failed',
    reason: 'bad_credentials',
    username: 'olivia',
    ip: '10.1.2.3',
    msg: 'login failed',
  })
  t.notOk(
    lines.some((l) => l.includes('wrong-password')),
    'the password is never logged',
  )
  t.match(
    events.find((e) => e.event === 'origin_refused'),
    { level: 40, origin: 'http://evil.example', method: 'POST', url: '/api/login' },
  )
})
