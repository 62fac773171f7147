import t from 'tap'
import { harness, TestDevice, register, until, T0, type Harness } from './support.ts'
import { BUILTIN_PROFILES } from '../compliance/index.ts'
import { verifyInclusion, verifyConsistency, leafHash } from '../../ledger/tlog/index.ts'
import { verifyCheckpoint } from '../../ledger/tlog/index.ts'
import { fromBase64, readingHash, toHex } from '../../ledger/protocol/index.ts'

const MIN = 60_000
const GS1 = { sscc: '106141411928374657', gtin: '4006381333931', lot: 'L2407', expiry: '2027-06-30' }

async function json(
  h: Harness,
  role: 'operator' | 'regulator' | 'admin',
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  payload?: unknown,
) {
  const res = await h.app.inject({
    method,
    url,
    payload: payload as Record<string, unknown>,
    headers: { cookie: await h.cookie(role) },
  })
  return { status: res.statusCode, body: res.body ? res.json() : null, headers: res.headers }
}

/** A shipment with one logger: in range, then 40 min above 8 °C (alarm after the 15 min delay), back in range. */
async function fleet(h: Harness, shipmentId = 'SHP-1') {
  const dev = new TestDevice('logger-1', 7)
  await register(h.ledger, dev)
  const created = await json(h, 'operator', 'POST', '/api/shipments', {
    shipmentId,
    product: 'Insulin',
    profileId: 'refrigerated-2-8',
    route: { from: 'Basel', to: 'Lyon' },
    devices: ['logger-1'],
    gs1: GS1,
    startAt: T0,
  })
  const temps: number[] = []
  for (let i = 0; i < 30; i++) temps.push(i >= 10 && i < 18 ? 950 : 500)
  // Submitted together: the ledger group-commits them in order (one fsync, not thirty).
  h.clock.now = T0 + (temps.length - 1) * 5 * MIN + 2_000
  await Promise.all(
    temps.map((temp, i) =>
      h.ledger.appendReading(dev.next(T0 + i * 5 * MIN, temp, { batteryPct: 90 }), T0 + i * 5 * MIN + 2_000),
    ),
  )
  return { dev, created }
}

t.test('create a shipment: GS1 normalised, profile bound, detail and list', async (t) => {
  const h = await harness(t)
  const { created } = await fleet(h)
  t.equal(created.status, 201, JSON.stringify(created.body))
  t.equal(created.body.gs1.gtin, '04006381333931', 'GTIN-13 padded to 14 digits')
  t.equal(created.body.productClass, 'refrigerated')
  t.same(created.body.range, { minCentiC: 200, maxCentiC: 800 })
  t.match(created.body.profileHash, /^[0-9a-f]{64}$/)
  t.equal(created.body.createdBy, 'olivia')
  await until(() => h.app.dashboard.monitor.summary('SHP-1')?.lastReadingAt === T0 + 29 * 5 * MIN)
  const detail = await json(h, 'regulator', 'GET', '/api/shipments/SHP-1')
  t.equal(detail.status, 200)
  t.equal(detail.body.currentTempCentiC, 500)
  t.equal(detail.body.result.readingCount, 30)
  t.equal(detail.body.result.excursions.length, 1)
  t.equal(detail.body.result.excursions[0].kind, 'above')
  t.equal(detail.body.result.excursions[0].peakCentiC, 950)
  t.equal(detail.body.status, 'alarm', 'an unacknowledged alarm')
  t.ok(detail.body.alarms.some((a: { kind: string }) => a.kind === 'excursion_alarm'))
  t.equal(detail.body.deviceStates[0].deviceId, 'logger-1')
  const list = await json(h, 'regulator', 'GET', '/api/shipments?status=alarm')
  t.same(
    list.body.shipments.map((s: { shipmentId: string }) => s.shipmentId),
    ['SHP-1'],
  )
  t.same((await json(h, 'regulator', 'GET', '/api/shipments?status=closed')).body.shipments, [])
  const readings = await json(h, 'regulator', 'GET', '/api/shipments/SHP-1/readings?limit=5')
  t.equal(readings.body.readings.length, 5)
  t.same(
    readings.body.readings.map((r: { seq: number }) => r.seq),
    [1, 2, 3, 4, 5],
  )
  t.equal(readings.body.readings[0].batteryPct, 90)
  t.equal(readings.body.readings[0].late, false)
  const profiles = await json(h, 'operator', 'GET', '/api/profiles')
  t.ok(profiles.body.profiles.some((p: { id: string }) => p.id === 'refrigerated-2-8'))
})

t.test('shipment validation and conflicts name the field', async (t) => {
  const h = await harness(t)
  const dev = new TestDevice('logger-1', 7)
  await register(h.ledger, dev)
  const base = {
    shipmentId: 'SHP-2',
    product: 'X',
    profileId: 'refrigerated-2-8',
    route: { from: 'A', to: 'B' },
    devices: ['logger-1'],
  }
  const cases: [string, unknown, number, string, string][] = [
    [
      'bad SSCC check digit',
      { ...base, gs1: { ...GS1, sscc: '106141411928374650' } },
      400,
      'ERR_GS1_CHECK_DIGIT',
      'body.gs1.sscc',
    ],
    ['bad GTIN length', { ...base, gs1: { ...GS1, gtin: '1234567' } }, 400, 'ERR_GS1_FORMAT', 'body.gs1.gtin'],
    ['bad expiry', { ...base, gs1: { ...GS1, expiry: '2027-02-30' } }, 400, 'ERR_GS1_FORMAT', 'body.gs1.expiry'],
    ['unknown device', { ...base, devices: ['logger-1', 'nope'] }, 400, 'ERR_DEVICE_UNKNOWN', 'body.devices[1]'],
    ['bad device id', { ...base, devices: ['Logger_1'] }, 400, 'ERR_VALIDATION', 'body.devices[0]'],
    ['missing route', { ...base, route: undefined }, 400, 'ERR_VALIDATION', 'body.route'],
    ['missing route.to', { ...base, route: { from: 'A' } }, 400, 'ERR_VALIDATION', 'body.route.to'],
    ['unknown profile', { ...base, profileId: 'warm' }, 400, 'ERR_PROFILE_INVALID', 'body.profileId'],
    ['no profile', { ...base, profileId: undefined }, 400, 'ERR_VALIDATION', 'body.profileId'],
    [
      'invalid custom profile',
      { ...base, profileId: undefined, profile: { ...BUILTIN_PROFILES['refrigerated-2-8'], hysteresisCentiC: -1 } },
      400,
      'ERR_PROFILE_INVALID',
      'body.profile.hysteresisCentiC',
    ],
    ['unexpected field', { ...base, owner: 'me' }, 400, 'ERR_VALIDATION', 'body.owner'],
  ]
  for (const [desc, payload, status, code, field] of cases) {
    const res = await json(h, 'operator', 'POST', '/api/shipments', payload)
    t.equal(res.status, status, desc)
    t.equal(res.body.code, code, desc)
    t.equal(res.body.field, field, desc)
  }
  t.equal((await json(h, 'operator', 'POST', '/api/shipments', base)).status, 201)
  const dup = await json(h, 'operator', 'POST', '/api/shipments', base)
  t.equal(dup.status, 409)
  t.equal(dup.body.code, 'ERR_SHIPMENT_EXISTS')
  t.equal((await json(h, 'operator', 'GET', '/api/shipments/NOPE')).body.code, 'ERR_SHIPMENT_NOT_FOUND')
  t.equal((await json(h, 'operator', 'GET', '/api/shipments/bad%20id')).body.field, 'params.id')
})

t.test('close a shipment; closing twice is a conflict', async (t) => {
  const h = await harness(t)
  await fleet(h)
  // The last reading is at T0 + 145 min: a close at 150 min needs the "evidence ends early" confirmation.
  const short = await json(h, 'operator', 'POST', '/api/shipments/SHP-1/close', {
    closedAt: T0 + 30 * 5 * MIN,
    signature: { password: 'operator-pass-123', meaning: 'received and reviewed', reason: 'checked at receipt' },
    override: { reason: 'excursion reviewed by QA' },
  })
  t.equal(short.status, 409)
  t.equal(short.body.code, 'ERR_EVIDENCE_ENDS_EARLY')
  t.same(short.body.details.devices, [{ deviceId: 'logger-1', headSeq: 30, headDeviceTime: T0 + 29 * 5 * MIN }])
  t.equal(
    (
      await json(h, 'operator', 'POST', '/api/shipments/SHP-1/close', {
        closedAt: T0 + 30 * 5 * MIN,
        endsEarly: { reason: '' },
        signature: { password: 'operator-pass-123', meaning: 'received and reviewed', reason: 'checked at receipt' },
        override: { reason: 'excursion reviewed by QA' },
      })
    ).body.code,
    'ERR_VALIDATION',
    'a reason is required',
  )
  const closed = await json(h, 'operator', 'POST', '/api/shipments/SHP-1/close', {
    closedAt: T0 + 30 * 5 * MIN,
    endsEarly: { reason: 'logger removed at the hub' },
    signature: { password: 'operator-pass-123', meaning: 'received and reviewed', reason: 'checked at receipt' },
    override: { reason: 'excursion reviewed by QA' },
  })
  t.equal(closed.status, 200)
  t.equal(closed.body.closedAt, T0 + 150 * MIN)
  t.equal(closed.body.closedEntry > closed.body.createdEntry, true)
  await until(() => h.app.dashboard.monitor.summary('SHP-1')?.status === 'closed')
  t.equal((await json(h, 'operator', 'GET', '/api/shipments/SHP-1')).body.status, 'closed')
  const again = await json(h, 'operator', 'POST', '/api/shipments/SHP-1/close', {
    signature: { password: 'operator-pass-123', meaning: 'received and reviewed', reason: 'checked at receipt' },
    override: { reason: 'excursion reviewed by QA' },
  })
  t.equal(again.status, 409)
  t.equal(again.body.code, 'ERR_SHIPMENT_CLOSED')
})

t.test('alarms: live from the fold, acknowledged into the ledger', async (t) => {
  const h = await harness(t)
  await fleet(h)
  await until(() => h.app.dashboard.monitor.openAlarmCount() > 0)
  const open = await json(h, 'regulator', 'GET', '/api/alarms?state=open')
  t.ok(open.body.alarms.length >= 1)
  const alarm = open.body.alarms.find((a: { kind: string }) => a.kind === 'excursion_alarm')
  t.ok(alarm, 'an excursion alarm')
  t.equal(alarm.deviceId, 'logger-1')
  t.equal(alarm.state, 'open')
  t.equal(alarm.endedAt, T0 + 18 * 5 * MIN, 'ended when the temperature returned')
  const url = `/api/shipments/SHP-1/alarms/${encodeURIComponent(alarm.alarmId)}/ack`
  t.equal((await json(h, 'regulator', 'POST', url, { reason: 'x', comment: '' })).status, 403)
  t.equal((await json(h, 'operator', 'POST', url, { comment: 'no reason' })).body.field, 'body.reason')
  const ack = await json(h, 'operator', 'POST', url, {
    reason: 'door left open at depot',
    comment: 'product quarantined for QA review',
  })
  t.equal(ack.status, 200)
  t.equal(ack.body.state, 'acknowledged')
  t.equal(ack.body.ack.by, 'olivia')
  const entry = await h.ledger.getEntry(ack.body.ack.index)
  t.equal(entry.entry.type, 'alarm.ack')
  t.same(entry.entry.body, {
    shipmentId: 'SHP-1',
    alarmId: alarm.alarmId,
    reason: 'door left open at depot',
    comment: 'product quarantined for QA review',
    by: 'olivia',
  })
  await until(() => h.app.dashboard.monitor.alarm('SHP-1', alarm.alarmId)?.state === 'acknowledged')
  const again = await json(h, 'operator', 'POST', url, { reason: 'again', comment: '' })
  t.equal(again.status, 409)
  t.equal(again.body.code, 'ERR_ALARM_ACKNOWLEDGED')
  t.equal(
    (await json(h, 'operator', 'POST', '/api/shipments/SHP-1/alarms/nope/ack', { reason: 'r', comment: '' })).body.code,
    'ERR_ALARM_NOT_FOUND',
  )
})

t.test('a restarted dashboard rebuilds the same live state from the ledger', async (t) => {
  const h = await harness(t)
  await fleet(h)
  await until(() => h.app.dashboard.monitor.openAlarmCount() > 0)
  const before = h.app.dashboard.monitor.alarms()
  const { buildDashboard } = await import('../server/app.ts')
  const app2 = await buildDashboard({
    ledger: h.ledger,
    users: h.users,
    cookieSecret: 'another-cookie-secret-0123456789abcdef',
    clock: () => h.clock.now,
    integrityCheckOnStart: false,
  })
  await app2.ready()
  t.teardown(() => app2.close())
  t.same(app2.dashboard.monitor.alarms(), before)
  t.same(app2.dashboard.monitor.summaries(), h.app.dashboard.monitor.summaries())
})

t.test('devices: register (admin), refuse bad keys, revoke', async (t) => {
  const h = await harness(t)
  const dev = new TestDevice('logger-9', 9)
  const reg = await json(h, 'admin', 'POST', '/api/devices', {
    deviceId: 'logger-9',
    publicKey: dev.publicKeyHex,
    model: 'CP-T1',
  })
  t.equal(reg.status, 201)
  t.equal(reg.body.state, 'active')
  t.match(reg.body.fingerprint, /^[0-9a-f]{16}$/)
  t.equal(reg.body.registeredBy, 'ada')
  t.equal(
    (await json(h, 'admin', 'POST', '/api/devices', { deviceId: 'logger-9', publicKey: dev.publicKeyHex })).body.code,
    'ERR_DEVICE_EXISTS',
  )
  const small = await json(h, 'admin', 'POST', '/api/devices', {
    deviceId: 'logger-0',
    publicKey: '01' + '00'.repeat(31),
  })
  t.equal(small.status, 400, 'the identity point (small order) is refused')
  t.equal(small.body.code, 'ERR_KEY_INVALID')
  t.equal(small.body.field, 'body.publicKey')
  t.equal(
    (await json(h, 'admin', 'POST', '/api/devices', { deviceId: 'logger-0', publicKey: 'zz' })).body.field,
    'body.publicKey',
  )
  const list = await json(h, 'regulator', 'GET', '/api/devices')
  t.same(
    list.body.devices.map((d: { deviceId: string }) => d.deviceId),
    ['logger-9'],
  )
  t.equal((await json(h, 'regulator', 'GET', '/api/devices/logger-x')).body.code, 'ERR_DEVICE_NOT_FOUND')
  const rev = await json(h, 'admin', 'POST', '/api/devices/logger-9/revoke', { reason: 'key compromised' })
  t.equal(rev.status, 200)
  t.equal(rev.body.state, 'revoked')
  t.equal(rev.body.revokeReason, 'key compromised')
  const ship = await json(h, 'operator', 'POST', '/api/shipments', {
    shipmentId: 'S9',
    product: 'X',
    profileId: 'refrigerated-2-8',
    route: { from: 'A', to: 'B' },
    devices: ['logger-9'],
  })
  t.equal(ship.body.code, 'ERR_DEVICE_REVOKED')
})

t.test('devices: an admin declares the range below a held reading lost; a fork raises a device alarm', async (t) => {
  const h = await harness(t)
  const dev = new TestDevice('logger-7', 7)
  await register(h.ledger, dev)
  const r = [1, 2, 3, 4, 5].map((i) => dev.next(T0 + i * 60_000, 500))
  await h.ledger.appendReading(r[0], T0)
  await h.ledger.holdReading(r[3], T0)
  await h.ledger.holdReading(r[4], T0)
  const gap = (role: 'admin' | 'operator', body: unknown) => json(h, role, 'POST', '/api/devices/logger-7/gaps', body)
  t.equal((await gap('operator', { fromSeq: 2, toSeq: 3, detail: 'logger reset' })).status, 403, 'admins only')
  t.equal((await gap('admin', { fromSeq: 2, toSeq: 3 })).body.code, 'ERR_VALIDATION', 'the detail is required')
  const wrong = await gap('admin', { fromSeq: 2, toSeq: 2, detail: 'logger reset' })
  t.match(
    wrong.body,
    { code: 'ERR_GAP_RANGE', message: /2\.\.3/ },
    'only the whole range below the lowest held reading',
  )
  const ok = await gap('admin', { fromSeq: 2, toSeq: 3, detail: 'logger reset at the hub' })
  t.equal(ok.status, 201)
  t.match(ok.body, { fromSeq: 2, toSeq: 3, device: { deviceId: 'logger-7', lastSeq: 5 } })
  const e = await h.ledger.getEntry(ok.body.index)
  t.same(
    e.entry.body,
    { deviceId: 'logger-7', fromSeq: 2, toSeq: 3, cause: 'operator', by: 'ada', detail: 'logger reset at the hub' },
    'who and why are in the log',
  )
  t.match(h.ledger.device('logger-7'), { contiguous: 5, gaps: [] })
  t.equal((await gap('admin', { fromSeq: 6, toSeq: 6, detail: 'x' })).body.code, 'ERR_GAP_RANGE')

  // Two different signed readings of seq 5: the fork is logged, the device alarm is listed.
  dev.seq = 4
  dev.prev = readingHash(fromBase64(r[3].payload))
  const other = dev.next(T0 + 5 * 60_000 + 1, 900)
  const hashOf = (b64: string) => toHex(readingHash(fromBase64(b64)))
  await h.ledger.recordFork({
    deviceId: 'logger-7',
    seq: 5,
    payloads: [r[4].payload, other.payload].sort((x, y) => (hashOf(x) < hashOf(y) ? -1 : 1)) as [string, string],
  })
  const alarms = await json(h, 'operator', 'GET', '/api/alarms')
  t.match(alarms.body.alarms, [
    { deviceId: 'logger-7', kind: 'device_compromised', severity: 'critical', state: 'open' },
  ])
})

t.test('ledger: entries, inclusion and consistency proofs verify', async (t) => {
  const h = await harness(t)
  await fleet(h)
  const before = h.ledger.size()
  await h.ledger.checkpoint()
  const info = await json(h, 'regulator', 'GET', '/api/ledger')
  const size1: number = info.body.latestCheckpoint.size
  t.equal(size1, before, 'the checkpoint covers every entry written before it')
  t.equal(info.body.size, h.ledger.size())
  t.equal(info.body.entriesByType.reading, 30)
  const cp = await json(h, 'regulator', 'GET', '/api/ledger/checkpoint')
  t.match(cp.body.note, /coldproof/)
  // The newest anchored checkpoint, as a C2SP signed note without a session (witnesses, mirrors).
  const plain = await h.app.inject('/checkpoint')
  t.equal(plain.statusCode, 200)
  t.match(plain.headers['content-type'], /^text\/plain/)
  t.equal(plain.body, h.ledger.latestAnchor()!.note)
  t.equal(plain.body.split('\n')[1], String(size1), 'it signs the anchored size')
  t.equal((await verifyCheckpoint(plain.body, h.ledger.verifierKey)).size, size1, 'it verifies under the ledger key')
  t.match(cp.body.publicKey, /^[0-9a-f]{64}$/)
  const root = Buffer.from(cp.body.rootHash, 'base64')
  for (const i of [0, 5, size1 - 1]) {
    const e = await json(h, 'regulator', 'GET', `/api/ledger/entries/${i}`)
    t.equal(e.body.index, i)
    const p = await json(h, 'regulator', 'GET', `/api/ledger/entries/${i}/proof`)
    t.equal(p.body.size, size1)
    t.match(p.body.tlogProof, /^c2sp\.org\/tlog-proof@v1\nindex /)
    const leaf = leafHash(Buffer.from(e.body.bytes, 'base64'))
    t.equal(Buffer.from(leaf).toString('base64'), p.body.leafHash)
    t.doesNotThrow(
      () =>
        verifyInclusion(
          leaf,
          i,
          size1,
          p.body.proof.map((x: string) => Buffer.from(x, 'base64')),
          root,
        ),
      `entry ${i} is in the checkpoint`,
    )
  }
  t.equal(
    (await json(h, 'regulator', 'GET', `/api/ledger/entries/${h.ledger.size()}`)).body.code,
    'ERR_ENTRY_NOT_FOUND',
  )
  t.equal((await json(h, 'regulator', 'GET', '/api/ledger/entries/-1')).body.field, 'params.index')
  await h.ledger.acknowledgeAlarm({ shipmentId: 'SHP-1', alarmId: 'x', reason: 'r', comment: '', by: 'test' })
  await h.ledger.checkpoint()
  const cp2 = (await json(h, 'regulator', 'GET', '/api/ledger/checkpoint')).body
  const size2: number = cp2.size
  t.ok(size2 > size1)
  const root2 = Buffer.from(cp2.rootHash, 'base64')
  const c = await json(h, 'regulator', 'GET', `/api/ledger/consistency?from=${size1}&to=${size2}`)
  t.doesNotThrow(() =>
    verifyConsistency(
      size1,
      size2,
      root,
      root2,
      c.body.proof.map((x: string) => Buffer.from(x, 'base64')),
    ),
  )
  t.equal(
    (await json(h, 'regulator', 'GET', `/api/ledger/consistency?from=${size2}&to=${size1}`)).body.field,
    'querystring.from',
  )
  t.equal((await json(h, 'regulator', 'GET', '/api/ledger/consistency?from=0')).body.field, 'querystring.to')
  const check = await json(h, 'operator', 'POST', '/api/ledger/check')
  t.equal(check.status, 200)
  t.equal(check.body.ok, true, JSON.stringify(check.body.failure))
  t.equal(check.body.size, h.ledger.size())
  t.same((await json(h, 'regulator', 'GET', '/api/ledger')).body.lastIntegrityCheck, check.body)
  const q = await json(h, 'admin', 'GET', '/api/ledger/quarantine')
  t.same(q.body.items, [])
})

t.test('XSS: strings from devices and users come back JSON-escaped, never as HTML', async (t) => {
  const h = await harness(t)
  const dev = new TestDevice('logger-x', 3)
  await register(h.ledger, dev)
  const evil = '<script>alert("x")</script>'
  const created = await json(h, 'operator', 'POST', '/api/shipments', {
    shipmentId: 'SHP-X',
    product: evil,
    profileId: 'refrigerated-2-8',
    route: { from: evil, to: '<img src=x onerror=alert(1)>' },
    devices: ['logger-x'],
    startAt: T0,
  })
  t.equal(created.status, 201)
  h.clock.now = T0 + 7 * 5 * MIN + 1000
  await Promise.all(
    [0, 1, 2, 3, 4, 5, 6, 7].map((i) =>
      h.ledger.appendReading(dev.next(T0 + i * 5 * MIN, i > 2 ? 1200 : 500), T0 + i * 5 * MIN + 1000),
    ),
  )
  await until(() => h.app.dashboard.monitor.openAlarmCount() > 0)
  const alarm = h.app.dashboard.monitor.alarms()[0]
  await json(h, 'operator', 'POST', `/api/shipments/SHP-X/alarms/${encodeURIComponent(alarm.alarmId)}/ack`, {
    reason: evil,
    comment: `</script><script>alert(2)</script>`,
  })
  for (const url of ['/api/shipments/SHP-X', '/api/shipments', '/api/alarms']) {
    const res = await h.app.inject({ url, headers: { cookie: await h.cookie('regulator') } })
    t.match(res.headers['content-type'], /^application\/json/, url)
    t.notMatch(res.body, /<script>|<img/i, `${url}: no raw markup in the body`)
    t.match(res.body, /\\u003cscript\\u003e|\\u003cimg/, `${url}: markup arrives escaped`)
    t.match(JSON.stringify(res.json()), /script/, 'and decodes back to the original text')
  }
  t.equal(
    JSON.parse(
      (await h.app.inject({ url: '/api/shipments/SHP-X', headers: { cookie: await h.cookie('regulator') } })).body,
    ).product,
    evil,
  )
  const nf = await h.app.inject({
    url: '/api/%3Cscript%3Ealert(1)%3C/script%3E',
    headers: { cookie: await h.cookie('regulator') },
  })
  t.equal(nf.statusCode, 404)
  t.notMatch(nf.body, /<script>/i, 'a path echoed in an error is escaped too')
  const devY = await json(h, 'admin', 'POST', '/api/devices', {
    deviceId: 'logger-y',
    publicKey: new TestDevice('logger-y', 8).publicKeyHex,
    model: evil,
  })
  t.equal(devY.body.model, evil)
  const raw = await h.app.inject({ url: '/api/devices/logger-y', headers: { cookie: await h.cookie('regulator') } })
  t.notMatch(raw.body, /<script>/i, 'a device model from an admin comes back escaped')
})

t.test('a silent logger: its open alarm says the sensor is lost, the device state shows how long', async (t) => {
  const h = await harness(t)
  const dev = new TestDevice('logger-q', 4)
  await register(h.ledger, dev)
  await json(h, 'operator', 'POST', '/api/shipments', {
    shipmentId: 'SHP-Q',
    product: 'P',
    profileId: 'refrigerated-2-8',
    route: { from: 'A', to: 'B' },
    devices: ['logger-q'],
    startAt: T0,
  })
  h.clock.now = T0 + 5 * 5 * MIN + 1000
  await Promise.all(
    [0, 1, 2, 3, 4, 5].map((i) =>
      h.ledger.appendReading(dev.next(T0 + i * 5 * MIN, i ? 1100 : 500), T0 + i * 5 * MIN + 1000),
    ),
  )
  await until(() => h.app.dashboard.monitor.openAlarmCount() > 0)
  const before = (await json(h, 'operator', 'GET', '/api/alarms?state=open')).body.alarms.find(
    (a: { kind: string }) => a.kind === 'excursion_alarm',
  )
  t.equal(before.sensorLost, false)
  t.equal(before.endedAt, null, 'the excursion is still going on')
  h.clock.now += 31 * MIN // the profile's maxDataGapMs is 30 min
  const after = (await json(h, 'operator', 'GET', '/api/alarms?state=open')).body.alarms.find(
    (a: { alarmId: string }) => a.alarmId === before.alarmId,
  )
  t.equal(after.sensorLost, true)
  t.match(after.message, /sensor lost/)
  const detail = (await json(h, 'operator', 'GET', '/api/shipments/SHP-Q')).body
  t.equal(detail.deviceStates[0].lost, true)
  t.equal(detail.deviceStates[0].silentForMs, 31 * MIN)
  t.equal(detail.result.excursions[0].endAt, null, 'an open excursion is reported as ongoing, not as ended')
})

t.test(
  'the integrity check runs again a little after start, so it does not stay the empty-ledger result',
  async (t) => {
    // The follow-up waits 4 s: ample for two writes, so the test does not hinge on speed.
    const h = await harness(t, { integrityCheckOnStart: true, integrityFollowUpMs: 4000, integrityCheckIntervalMs: 0 })
    await until(() => h.app.dashboard.integrity.last() !== null, 30_000)
    const first = h.app.dashboard.integrity.last()!
    await register(h.ledger, new TestDevice('logger-late', 41))
    await h.ledger.checkpoint()
    await until(() => (h.app.dashboard.integrity.last()?.size ?? 0) > first.size, 30_000)
    const second = h.app.dashboard.integrity.last()!
    t.ok(second.ok, `the follow-up check passed (${JSON.stringify(second.failure)})`)
    t.equal(second.size, h.ledger.size(), 'and covered the entries written after start')
  },
)
