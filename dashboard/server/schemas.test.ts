/**
 * The response schemas are the one owner of the API's shapes: real responses
 * of a running dashboard (fastify inject, and the live stream over HTTP on
 * 127.0.0.1) must validate against them with ajv, and the types derived from
 * them (FromSchema) must be the ones the server's view builders produce and
 * the browser's client reads. The type checks run at `tsc --noEmit`; a wrong
 * derived type fails the build, not this run.
 */
import t, { type Test } from 'tap'
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Ajv, type ValidateFunction } from 'ajv'
import {
  SHARED_SCHEMAS,
  IntegrityCheckSchema,
  LedgerSummarySchema,
  AuditPageSchema,
  ProfileListSchema,
  TokenCreatedSchema,
  type AlarmWire,
  type AuditRecordWire,
  type CheckpointWire,
  type DeviceStateWire,
  type DeviceWire,
  type ExcursionWire,
  type Gs1Wire,
  type LedgerSummaryWire,
  type ReadingWire,
  type ResultWire,
  type ShipmentDetailWire,
  type ShipmentSummaryWire,
  type TokenWire,
  type UserWire,
} from './schemas.ts'
import type { FromSchema } from '../common/from-schema.ts'
import type { deviceView, readingView, resultView, excursionsOf } from './views.ts'
import type { alarmView, summaryOf, deviceStates } from './live-views.ts'
import type { NotificationView } from '../notify/view.ts'
import type { CloseSignatureView, ShipmentDetail } from '../web/types.ts'
import { harness, TestDevice, register, until, T0, type Harness } from '../test/support.ts'

const MIN = 60_000
const GS1 = { sscc: '106141411928374657', gtin: '4006381333931', lot: 'L2407', expiry: '2027-06-30' }
const SIGN = { password: 'operator-pass-123', reason: 'checked at the dock' }

// ---------- type-level checks (compile time) ----------

type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false
const same = <X, Y>(ok: Equal<X, Y>) => ok

// FromSchema over the subset the schemas use.
same<FromSchema<{ type: 'string'; enum: readonly ['a', 'b'] }>, 'a' | 'b'>(true)
same<FromSchema<{ const: 7 }>, 7>(true)
same<FromSchema<{ type: readonly ['integer', 'null'] }>, number | null>(true)
same<FromSchema<{ anyOf: readonly [{ type: 'string' }, { type: 'null' }] }>, string | null>(true)
same<FromSchema<{ oneOf: readonly [{ type: 'boolean' }, { type: 'number' }] }>, boolean | number>(true)
same<FromSchema<{ type: 'array'; items: { type: 'string' } }>, string[]>(true)
same<
  FromSchema<{
    type: 'object'
    properties: { a: { type: 'string' }; b: { type: 'integer' } }
    required: readonly ['a']
  }>,
  { a: string; b?: number }
>(true)
same<FromSchema<{ type: 'object'; additionalProperties: { type: 'integer' } }>, Record<string, number>>(true)
same<FromSchema<{ type: 'object' }>, Record<string, unknown>>(true)
same<FromSchema<{ type: 'object'; properties: { a: { type: 'null' } }; required: readonly ['a'] }>, { a: null }>(true)

// The derived shapes, spot-checked against what docs/API.md says.
same<ShipmentSummaryWire['gs1'], Gs1Wire | null>(true)
same<Gs1Wire, { sscc: string; gtin: string; lot: string; expiry: string }>(true)
same<ShipmentSummaryWire['status'], 'in_range' | 'alarm' | 'closed'>(true)
same<AlarmWire['ack'], { by: string; reason: string; comment: string; at: number; index: number } | null>(true)
same<AlarmWire['notifications'], NotificationView[] | undefined>(true)
same<DeviceWire['state'], 'active' | 'revoked'>(true)
same<UserWire, { username: string; role: 'operator' | 'regulator' | 'admin'; disabled?: boolean; createdAt?: number }>(
  true,
)
same<TokenWire['scope'], 'read-only' | 'role'>(true)
same<AuditRecordWire['details'], Record<string, string | number | boolean | null> | undefined>(true)
same<ShipmentDetailWire['result'], ResultWire | undefined>(true)
same<ShipmentDetailWire['postClose'], ReadingWire[]>(true)
same<ShipmentDetailWire['deviceStates'], DeviceStateWire[]>(true)
same<ResultWire['excursions'], ExcursionWire[]>(true)
same<LedgerSummaryWire['latestCheckpoint'], CheckpointWire | null>(true)
// The browser's view types take the wire's shapes where they show them as sent.
same<CloseSignatureView, NonNullable<ShipmentDetailWire['closeSignature']>>(true)
same<ShipmentDetail['loggers'], ShipmentDetailWire['loggers']>(true)

// The view builders return the derived types (a mismatch does not compile).
type Returns<F extends (...a: never[]) => unknown, W> = Equal<ReturnType<F>, W>
const builders: [
  Returns<typeof readingView, ReadingWire>,
  Returns<typeof deviceView, DeviceWire>,
  Returns<typeof resultView, ResultWire>,
  Returns<typeof excursionsOf, ExcursionWire[]>,
  Returns<typeof summaryOf, ShipmentSummaryWire>,
  Returns<typeof deviceStates, DeviceStateWire[]>,
  Returns<typeof alarmView, Omit<AlarmWire, 'notifications'> | undefined>,
] = [true, true, true, true, true, true, true]

// ---------- real responses against the schemas (run time) ----------

const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false })
for (const s of SHARED_SCHEMAS) ajv.addSchema(s)
const byRef = (id: string) => ajv.getSchema(`${id}#`) as ValidateFunction
const envelope = (key: string, id: string) =>
  ajv.compile({ type: 'object', properties: { [key]: { type: 'array', items: { $ref: `${id}#` } } }, required: [key] })

function valid(t: Test, v: ValidateFunction, body: unknown, what: string): void {
  t.ok(v(body), `${what} matches its schema`, { errors: v.errors, body })
}

async function call(
  h: Harness,
  role: 'operator' | 'regulator' | 'admin',
  method: string,
  url: string,
  payload?: unknown,
) {
  const res = await h.app.inject({
    method: method as 'GET',
    url,
    payload: payload as Record<string, unknown>,
    headers: { cookie: await h.cookie(role) },
  })
  return { status: res.statusCode, body: res.body ? res.json() : null }
}

/** One shipment with an excursion (alarm), a second logger, and a registered but unassigned third. */
async function fleet(h: Harness) {
  const dev = new TestDevice('logger-1', 7)
  await register(h.ledger, dev)
  const created = await call(h, 'operator', 'POST', '/api/shipments', {
    shipmentId: 'SHP-1',
    product: 'Insulin',
    profileId: 'refrigerated-2-8',
    route: { from: 'Basel', to: 'Lyon' },
    devices: ['logger-1'],
    gs1: GS1,
    startAt: T0,
  })
  const temps = Array.from({ length: 30 }, (_, i) => (i >= 10 && i < 18 ? 950 : 500))
  h.clock.now = T0 + (temps.length - 1) * 5 * MIN + 2_000
  await Promise.all(
    temps.map((temp, i) =>
      h.ledger.appendReading(dev.next(T0 + i * 5 * MIN, temp, { batteryPct: 90 }), T0 + i * 5 * MIN + 2_000),
    ),
  )
  await until(() => h.app.dashboard.monitor.summary('SHP-1')?.lastReadingAt === T0 + 29 * 5 * MIN)
  return created
}

t.test('shipments, readings, alarms, devices and the ledger validate against their schemas', async (t) => {
  const h = await harness(t)
  const created = await fleet(h)
  t.equal(created.status, 201)
  valid(t, byRef('ShipmentDetail'), created.body, 'POST /api/shipments')

  const detail = await call(h, 'regulator', 'GET', '/api/shipments/SHP-1')
  t.ok(detail.body.result, 'judged: the detail carries a result')
  t.ok(detail.body.alarms.length > 0, 'and alarms')
  valid(t, byRef('ShipmentDetail'), detail.body, 'GET /api/shipments/:id')
  valid(t, envelope('shipments', 'ShipmentSummary'), (await call(h, 'regulator', 'GET', '/api/shipments')).body, 'list')
  const profiles = await call(h, 'regulator', 'GET', '/api/profiles')
  t.ok(profiles.body.profiles.length > 0, 'built-in profiles')
  valid(t, ajv.compile(ProfileListSchema), profiles.body, 'GET /api/profiles')
  const readings = await call(h, 'regulator', 'GET', '/api/shipments/SHP-1/readings?limit=5')
  t.equal(readings.body.readings.length, 5)
  valid(t, envelope('readings', 'Reading'), readings.body, 'GET /api/shipments/:id/readings')

  const alarms = await call(h, 'regulator', 'GET', '/api/alarms')
  valid(t, envelope('alarms', 'Alarm'), alarms.body, 'GET /api/alarms')
  const alarm = alarms.body.alarms.find((a: AlarmWire) => a.kind === 'excursion_alarm')
  const ack = await call(
    h,
    'operator',
    'POST',
    `/api/shipments/SHP-1/alarms/${encodeURIComponent(alarm.alarmId)}/ack`,
    { reason: 'door left open', comment: 'QA informed' },
  )
  t.equal(ack.status, 200)
  t.ok(ack.body.ack, 'acknowledged')
  valid(t, byRef('Alarm'), ack.body, 'POST .../ack')

  const spare = new TestDevice('logger-2', 9)
  const reg = await call(h, 'admin', 'POST', '/api/devices', {
    deviceId: 'logger-2',
    publicKey: spare.publicKeyHex,
    model: 'CP-T1',
    calibration: { certificate: 'CAL-2', calibratedAt: T0 - 1, dueAt: T0 + 365 * 24 * 60 * MIN },
  })
  t.equal(reg.status, 201)
  valid(t, byRef('Device'), reg.body, 'POST /api/devices')
  valid(t, envelope('devices', 'Device'), (await call(h, 'regulator', 'GET', '/api/devices')).body, 'GET /api/devices')
  valid(t, byRef('Device'), (await call(h, 'regulator', 'GET', '/api/devices/logger-1')).body, 'GET /api/devices/:id')

  const moved = await call(h, 'operator', 'POST', '/api/shipments/SHP-1/devices', { add: ['logger-2'] })
  t.equal(moved.status, 200, JSON.stringify(moved.body))
  valid(t, byRef('ShipmentDetail'), moved.body, 'POST .../devices')
  const received = await call(h, 'operator', 'POST', '/api/shipments/SHP-1/receive', {
    signature: { ...SIGN, meaning: 'received at destination' },
  })
  t.equal(received.status, 200, JSON.stringify(received.body))
  t.ok(received.body.receiveSignature, 'signed receipt')
  valid(t, byRef('ShipmentDetail'), received.body, 'POST .../receive')
  const closed = await call(h, 'operator', 'POST', '/api/shipments/SHP-1/close', {
    endsEarly: { reason: 'logger-2 never reported' },
    signature: { ...SIGN, meaning: 'received and reviewed' },
    override: { reason: 'QA released' },
  })
  t.equal(closed.status, 200, JSON.stringify(closed.body))
  t.ok(closed.body.closeSignature, 'signed close')
  valid(t, byRef('ShipmentDetail'), closed.body, 'POST .../close')

  const revoked = await call(h, 'admin', 'POST', '/api/devices/logger-2/revoke', { reason: 'lost in transit' })
  valid(t, byRef('Device'), revoked.body, 'POST .../revoke')

  await h.ledger.checkpoint()
  const check = await call(h, 'operator', 'POST', '/api/ledger/check')
  valid(t, ajv.compile(IntegrityCheckSchema), check.body, 'POST /api/ledger/check')
  const ledger = await call(h, 'regulator', 'GET', '/api/ledger')
  t.ok(ledger.body.latestCheckpoint && ledger.body.lastIntegrityCheck, 'a checkpoint and a check to show')
  valid(t, ajv.compile(LedgerSummarySchema), ledger.body, 'GET /api/ledger')
  valid(t, byRef('Checkpoint'), (await call(h, 'regulator', 'GET', '/api/ledger/checkpoint')).body, 'checkpoint')
})

t.test('users, tokens, audit and errors validate against their schemas', async (t) => {
  const h = await harness(t)
  valid(t, byRef('User'), (await call(h, 'regulator', 'GET', '/api/me')).body, 'GET /api/me')
  const user = await call(h, 'admin', 'POST', '/api/users', {
    username: 'quinn',
    password: 'quinn-pass-123',
    role: 'regulator',
  })
  t.equal(user.status, 201)
  valid(t, byRef('User'), user.body, 'POST /api/users')
  valid(t, byRef('User'), (await call(h, 'admin', 'PATCH', '/api/users/quinn', { disabled: true })).body, 'PATCH')
  valid(t, envelope('users', 'User'), (await call(h, 'admin', 'GET', '/api/users')).body, 'GET /api/users')
  const made = await call(h, 'operator', 'POST', '/api/tokens', { label: 'ci', scope: 'read-only', expiresInDays: 7 })
  t.equal(made.status, 201)
  valid(t, ajv.compile(TokenCreatedSchema), made.body, 'POST /api/tokens')
  valid(t, envelope('tokens', 'Token'), (await call(h, 'operator', 'GET', '/api/tokens')).body, 'GET /api/tokens')
  const audit = await call(h, 'admin', 'GET', '/api/audit?limit=50')
  t.ok(audit.body.entries.length > 0, 'the changes above are audited')
  valid(t, ajv.compile(AuditPageSchema), audit.body, 'GET /api/audit')
  const refused = await call(h, 'operator', 'POST', '/api/shipments', { shipmentId: 'x' })
  t.equal(refused.status, 400)
  valid(t, byRef('Error'), refused.body, 'a 400')
  valid(t, byRef('Error'), (await call(h, 'regulator', 'GET', '/api/users')).body, 'a 403')
})

t.test('the live stream sends readings, shipments and alarms in their schemas', async (t) => {
  const h = await harness(t)
  await h.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = h.app.server.address() as AddressInfo
  const cookie = await h.cookie('operator')
  const events: { event: string; data: unknown }[] = []
  const req = request({ host: '127.0.0.1', port, path: '/api/stream', headers: { cookie } }, (res) => {
    let buf = ''
    res.setEncoding('utf8')
    res.on('data', (chunk: string) => {
      buf += chunk
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const block = buf.slice(0, i)
        buf = buf.slice(i + 2)
        const event = /^event: (.+)$/m.exec(block)?.[1]
        const data = /^data: (.+)$/m.exec(block)?.[1]
        if (event && data) events.push({ event, data: JSON.parse(data) })
      }
    })
  })
  req.on('error', () => {})
  req.end()
  t.teardown(() => req.destroy())
  await until(() => events.some((e) => e.event === 'hello'))
  await fleet(h)
  await until(() => ['reading', 'shipment', 'alarm'].every((name) => events.some((e) => e.event === name)))
  const schemaOf: Record<string, string> = {
    reading: 'StreamReading',
    shipment: 'ShipmentSummary',
    alarm: 'Alarm',
    ack: 'Alarm',
    device: 'Device',
  }
  for (const e of events) {
    const id = schemaOf[e.event]
    if (id) valid(t, byRef(id), e.data, `stream event "${e.event}"`)
  }
  t.ok(builders.every(Boolean))
})
