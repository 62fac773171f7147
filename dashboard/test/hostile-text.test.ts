/**
 * Hostile text at the API: every string a user sets (shipment product and
 * route, GS1 lot, a custom profile's texts, alarm reasons and comments,
 * device model, calibration certificate, revocation reason, token labels,
 * login names) is refused when it holds a control character, a bidi
 * formatting character or a line separator, with ERR_TEXT_UNSAFE naming the
 * field and the code point; nothing is written to the ledger. Ordinary
 * Unicode (accents, Cyrillic, CJK, dashes) passes; lengths are capped.
 */
import t from 'tap'
import type { Test } from 'tap'
import { harness, TestDevice, register, until, T0, type Harness } from './support.ts'
import { BUILTIN_PROFILES } from '../compliance/index.ts'

const MIN = 60_000
const GS1 = { sscc: '106141411928374657', gtin: '4006381333931', lot: 'L2407', expiry: '2027-06-30' }

async function call(
  h: Harness,
  role: 'operator' | 'regulator' | 'admin',
  method: 'POST' | 'PATCH',
  url: string,
  payload: unknown,
) {
  const res = await h.app.inject({
    method,
    url,
    payload: payload as Record<string, unknown>,
    headers: { cookie: await h.cookie(role) },
  })
  return { status: res.statusCode, body: res.json() }
}

function refused(
  t: Test,
  res: { status: number; body: { code: string; field?: string; message: string } },
  field: string,
  codePoint: string,
) {
  t.equal(res.status, 400, `${field}: 400`)
  t.equal(res.body.code, 'ERR_TEXT_UNSAFE', `${field}: ERR_TEXT_UNSAFE`)
  t.equal(res.body.field, field, `${field}: names the field`)
  t.match(res.body.message, codePoint, `${field}: names the character`)
}

t.test('a shipment: product, route, GS1 lot and custom profile texts are refused with the field named', async (t) => {
  const h = await harness(t)
  const dev = new TestDevice('logger-1', 7)
  await register(h.ledger, dev)
  const base = {
    shipmentId: 'SHP-T',
    product: 'Insulin',
    profileId: 'refrigerated-2-8',
    route: { from: 'Basel', to: 'Lyon' },
    devices: ['logger-1'],
    gs1: GS1,
  }
  const custom = { ...BUILTIN_PROFILES['refrigerated-2-8'], id: 'acme-insulin', name: 'Acme insulin' }
  const size = h.ledger.size()
  const cases: [unknown, string, string][] = [
    [{ ...base, product: '\u001b[2J\u001b[32mVERIFIED — shipment OK' }, 'body.product', 'U+001B'],
    [{ ...base, product: 'Insulin\u0000glargine' }, 'body.product', 'U+0000'],
    [{ ...base, product: 'Insulin\u009b31m' }, 'body.product', 'U+009B'],
    [{ ...base, product: 'Insulin\u007f' }, 'body.product', 'U+007F'],
    [{ ...base, route: { from: 'Basel', to: 'noyL\u202e' } }, 'body.route.to', 'U+202E'],
    [{ ...base, route: { from: '\u2066Basel\u2069', to: 'Lyon' } }, 'body.route.from', 'U+2066'],
    [{ ...base, route: { from: 'Basel\nVERIFIED', to: 'Lyon' } }, 'body.route.from', 'U+000A'],
    [{ ...base, gs1: { ...GS1, lot: 'L24\u200f07' } }, 'body.gs1.lot', 'U+200F'],
    [
      { ...base, profileId: undefined, profile: { ...custom, name: 'Acme \u061cinsulin' } },
      'body.profile.name',
      'U+061C',
    ],
    [
      { ...base, profileId: undefined, profile: { ...custom, labelStatement: 'Store cold\u2028really' } },
      'body.profile.labelStatement',
      'U+2028',
    ],
  ]
  for (const [payload, field, cp] of cases)
    refused(t, await call(h, 'operator', 'POST', '/api/shipments', payload), field, cp)
  t.equal(h.ledger.size(), size, 'nothing was written')

  const long = await call(h, 'operator', 'POST', '/api/shipments', { ...base, product: 'x'.repeat(201) })
  t.equal(long.status, 400, 'the length is capped')
  t.equal(long.body.field, 'body.product')

  const fine = await call(h, 'operator', 'POST', '/api/shipments', {
    ...base,
    product: 'Инсулин гларгин 100 E/мл — インスリン',
    route: { from: 'Zürich', to: 'Łódź' },
  })
  t.equal(fine.status, 201, JSON.stringify(fine.body))
  t.equal(fine.body.route.to, 'Łódź')
})

t.test('alarm acknowledgements, devices, tokens and logins are checked the same way', async (t) => {
  const h = await harness(t)
  const dev = new TestDevice('logger-1', 7)
  await register(h.ledger, dev)
  t.equal(
    (
      await call(h, 'operator', 'POST', '/api/shipments', {
        shipmentId: 'SHP-A',
        product: 'P',
        profileId: 'refrigerated-2-8',
        route: { from: 'A', to: 'B' },
        devices: ['logger-1'],
        startAt: T0,
      })
    ).status,
    201,
  )
  h.clock.now = T0 + 10 * 5 * MIN
  for (let i = 0; i < 10; i++)
    await h.ledger.appendReading(dev.next(T0 + i * 5 * MIN, i >= 2 ? 1000 : 500), T0 + i * 5 * MIN + 1000)
  await until(() => h.app.dashboard.monitor.openAlarmCount() > 0)
  const alarm = h.app.dashboard.monitor.alarms({ shipmentId: 'SHP-A' }).find((a) => a.kind === 'excursion_alarm')!
  const url = `/api/shipments/SHP-A/alarms/${encodeURIComponent(alarm.alarmId)}/ack`
  refused(
    t,
    await call(h, 'operator', 'POST', url, { reason: 'door open\u0085', comment: '' }),
    'body.reason',
    'U+0085',
  )
  refused(
    t,
    await call(h, 'operator', 'POST', url, { reason: 'door open', comment: 'moved to\u0000 QA' }),
    'body.comment',
    'U+0000',
  )
  refused(
    t,
    await call(h, 'operator', 'POST', url, { reason: 'door open', comment: 'a\r\nb' }),
    'body.comment',
    'U+000D',
  )
  t.equal((await call(h, 'operator', 'POST', url, { reason: 'door open', comment: 'moved to QA — «ok»' })).status, 200)

  const d = new TestDevice('logger-2', 8)
  refused(
    t,
    await call(h, 'admin', 'POST', '/api/devices', {
      deviceId: 'logger-2',
      publicKey: d.publicKeyHex,
      model: 'CP\u202dT1',
    }),
    'body.model',
    'U+202D',
  )
  refused(
    t,
    await call(h, 'admin', 'POST', '/api/devices', {
      deviceId: 'logger-2',
      publicKey: d.publicKeyHex,
      calibration: { certificate: 'CAL\t1', calibratedAt: 0, dueAt: 1 },
    }),
    'body.calibration.certificate',
    'U+0009',
  )
  refused(
    t,
    await call(h, 'admin', 'POST', '/api/devices/logger-1/revoke', { reason: 'lost\u200e' }),
    'body.reason',
    'U+200E',
  )
  refused(t, await call(h, 'admin', 'POST', '/api/tokens', { label: 'ci\u001b]0;x\u0007' }), 'body.label', 'U+001B')
  t.equal(h.ledger.device('logger-1')!.revoked, false, 'the refused revocation was not written')

  const login = await h.app.inject({
    method: 'POST',
    url: '/api/login',
    payload: { username: 'ada\u001b', password: 'x' },
  })
  t.equal(login.statusCode, 400)
  t.equal(login.json().field, 'body.username')
  const pw = await h.app.inject({
    method: 'POST',
    url: '/api/login',
    payload: { username: 'ada', password: 'wrong\u0001password' },
  })
  t.equal(pw.statusCode, 401, 'a password is never shown, so it is not checked for text safety')
})
