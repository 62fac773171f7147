/**
 * HTTP fuzzing over the API's own routes and schemas (fast-check generates
 * the bodies from a seed): bad JSON, wrong types in every field, huge bodies,
 * path traversal, tampered session cookies, every route under every role it
 * does not allow, and script in every user-settable text field. Targets of
 * state-changing admin routes are ids that do not exist, so the fuzzer never
 * revokes a fleet logger or closes a chaos shipment.
 */
import fc from 'fast-check'
import type { HttpClient, Role } from './http.ts'

const XSS = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  'javascript:alert(1)',
  '\u202eevil',
  '{{constructor.constructor("alert(1)")()}}',
  '../../etc/passwd',
]

interface Route {
  method: string
  path: string
  roles: readonly Role[] | 'any'
  body?: () => unknown
}

/** Every route and who may call it (admin may call everything). */
let serial = 0
function routes(rogueDevice: string, seed: number): Route[] {
  const shipment = () => ({
    shipmentId: `fz-${seed}-${serial++}`,
    product: 'Fuzz',
    profileId: 'refrigerated-2-8',
    route: { from: 'A', to: 'B' },
    devices: [rogueDevice],
  })
  return [
    { method: 'GET', path: '/api/users', roles: [] },
    {
      method: 'POST',
      path: '/api/users',
      roles: [],
      body: () => ({ username: `fz${seed}x${serial++}`, password: 'correct horse battery staple', role: 'regulator' }),
    },
    { method: 'PATCH', path: '/api/users/no-such-user-fz', roles: [], body: () => ({ role: 'admin' }) },
    { method: 'DELETE', path: '/api/users/no-such-user-fz', roles: [] },
    {
      method: 'POST',
      path: '/api/devices',
      roles: [],
      body: () => ({ deviceId: 'fz-dev', publicKey: '00'.repeat(32) }),
    },
    { method: 'POST', path: '/api/devices/no-such-device-fz/revoke', roles: [], body: () => ({ reason: 'fuzz' }) },
    {
      method: 'POST',
      path: '/api/devices/no-such-device-fz/gaps',
      roles: [],
      body: () => ({ fromSeq: 1, toSeq: 2, detail: 'fuzz' }),
    },
    { method: 'GET', path: '/api/admin/backup', roles: [] },
    { method: 'POST', path: '/api/shipments', roles: ['operator'], body: shipment },
    { method: 'POST', path: '/api/shipments/no-such-shipment-fz/close', roles: ['operator'], body: () => ({}) },
    {
      method: 'POST',
      path: '/api/shipments/no-such-shipment-fz/alarms/1/ack',
      roles: ['operator'],
      body: () => ({ reason: 'other', comment: 'fuzz' }),
    },
    { method: 'POST', path: '/api/ledger/check', roles: ['operator'] },
    { method: 'GET', path: '/api/ledger/quarantine', roles: ['operator'] },
    { method: 'GET', path: '/api/shipments', roles: 'any' },
    { method: 'GET', path: '/api/devices', roles: 'any' },
    { method: 'GET', path: '/api/ledger', roles: 'any' },
    { method: 'GET', path: '/api/me', roles: 'any' },
  ]
}

const TRAVERSALS = [
  '/..%2f..%2f..%2fetc%2fpasswd',
  '/%2e%2e/%2e%2e/package.json',
  '/api/shipments/..%2f..%2fpackage.json',
  '/api/shipments/..%252f..%252fetc%252fpasswd/report.pdf',
  '/static/../../package.json',
  '/assets/..%5c..%5cpackage.json',
  '/api/ledger/entries/..%2f1',
  '/api/devices/%00',
  '/api/shipments/%2e%2e',
  '/login.html/../../package.json',
]

export interface HttpAttackResult {
  cases: number
  failures: string[]
}

export async function httpAttackBatch(
  http: HttpClient,
  opts: { seed: number; cases: number; rogueDevice: string; sessions: Record<Role, string>; hugeBodies?: boolean },
): Promise<HttpAttackResult> {
  const failures: string[] = []
  let cases = 0
  const rs = routes(opts.rogueDevice, opts.seed)
  const { sessions } = opts
  const ok = (s: number) => s >= 200 && s < 300

  // 1. Every route under every role it does not allow, and with no session.
  for (const r of rs) {
    if (r.roles === 'any') {
      cases++
      const res = await http.req(r.method, r.path, { cookie: '' })
      if (res.status !== 401)
        failures.push(`${r.method} ${r.path} without a session answered ${res.status}, expected 401`)
      continue
    }
    for (const role of ['operator', 'regulator'] as const) {
      if (r.roles.includes(role)) continue
      cases++
      const res = await http.req(r.method, r.path, { cookie: sessions[role], ...(r.body ? { body: r.body() } : {}) })
      if (ok(res.status)) http.tally.roleBreaches.push({ role, method: r.method, path: r.path, status: res.status })
      else if (res.status !== 403)
        failures.push(`${r.method} ${r.path} as ${role} answered ${res.status}, expected 403`)
    }
    cases++
    const anon = await http.req(r.method, r.path, r.body ? { body: r.body(), cookie: '' } : { cookie: '' })
    if (anon.status !== 401)
      failures.push(`${r.method} ${r.path} without a session answered ${anon.status}, expected 401`)
  }

  // 2. Tampered and forged session cookies.
  const real = sessions.operator
  const [name, value = ''] = real.split('=')
  const tampered = [
    `${name}=${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`,
    `${name}=${value}x`,
    `${name}=`,
    `${name}=${'A'.repeat(4096)}`,
    `${name}=../../users.json`,
    `${name}=${value.split('.')[0]}`,
    `${name}=%00`,
    `${name}=${encodeURIComponent('<script>')}`,
  ]
  for (const cookie of tampered) {
    cases++
    const res = await http.req('GET', '/api/me', { cookie })
    if (res.status !== 401) failures.push(`GET /api/me with a tampered cookie answered ${res.status}, expected 401`)
  }

  // 3. Path traversal: never a file from outside the web root.
  for (const p of TRAVERSALS) {
    cases++
    const res = await http.req('GET', p, { cookie: sessions.admin })
    if (res.status === 200 && /root:x:0:0|"name": "coldproof"|"devDependencies"/.test(res.text))
      failures.push(`GET ${p} served a file from outside the web root`)
  }

  // 4. Bad JSON, wrong content types and huge bodies on every route that takes one.
  const bodied = rs.filter((r) => r.body)
  const garbage = [
    '{',
    '{"a":',
    '[1,2',
    'null',
    '"x"',
    '\u0000',
    '{"__proto__":{"admin":true}}',
    '{"constructor":{"prototype":{"x":1}}}',
    'NaN',
    '1e999',
  ]
  for (const r of bodied) {
    for (const g of garbage) {
      cases++
      const res = await http.req(r.method, r.path, { raw: g, cookie: sessions.admin })
      if (ok(res.status) && r.path.includes('no-such'))
        failures.push(`${r.method} ${r.path} accepted garbage body ${JSON.stringify(g)}`)
    }
    if (!opts.hugeBodies) continue
    cases += 2
    // A huge body: a 413, or the server closing the connection mid-upload (counted as refused).
    try {
      await http.req(r.method, r.path, { raw: `{"x":"${'a'.repeat(2 * 1024 * 1024)}"}`, cookie: sessions.admin })
    } catch {
      http.tally.byStatus['connection closed (huge body)'] =
        (http.tally.byStatus['connection closed (huge body)'] ?? 0) + 1
      http.tally.networkErrors--
    }
    await http.req(r.method, r.path, {
      raw: 'deviceId=x',
      cookie: sessions.admin,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
  }

  // 5. The schemas' own fields with wrong types, and script in every text field (fast-check, seeded).
  const weird = fc.oneof(
    fc.jsonValue(),
    fc.constantFrom(...XSS),
    fc.string({ maxLength: 300 }),
    fc.integer(),
    fc.double(),
    fc.constant(null),
    fc.array(fc.string(), { maxLength: 5 }),
  )
  const perRoute = Math.max(1, Math.floor(opts.cases / bodied.length))
  for (const [ri, r] of bodied.entries()) {
    const samples = fc.sample(fc.tuple(fc.nat(), weird, fc.boolean()), { seed: opts.seed + ri, numRuns: perRoute })
    for (const [fieldPick, v, asOperator] of samples) {
      const body = r.body!() as Record<string, unknown>
      const keys = Object.keys(body)
      const key = keys[fieldPick % keys.length]!
      // Nested text fields too (route.from/to).
      if (key === 'route' && typeof v === 'string') body.route = { from: v, to: 'B' }
      else body[key] = v
      cases++
      const res = await http.req(r.method, r.path, {
        body,
        cookie: asOperator && r.roles !== 'any' && r.roles.includes('operator') ? sessions.operator : sessions.admin,
      })
      if (ok(res.status) && typeof v === 'string' && XSS.includes(v)) {
        // Accepted: the text must come back only as JSON (never as HTML that runs).
        const ct = res.headers.get('content-type') ?? ''
        if (!ct.includes('application/json')) failures.push(`${r.method} ${r.path} echoed script text as ${ct}`)
      }
    }
  }
  return { cases, failures }
}
