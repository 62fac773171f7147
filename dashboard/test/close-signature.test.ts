/**
 * Closing with an electronic signature (docs/API.md, "Shipments"): the password is
 * re-checked, a wrong one logs nothing and counts as a failed sign-in; open critical
 * alarms refuse the close unless acknowledged or overridden with a reason; the
 * signature lands in the ledger's close entry.
 */
import t from 'tap'
import { harness, TestDevice, register, until, T0, PASSWORDS, type Harness } from './support.ts'

const MIN = 60_000

async function post(h: Harness, url: string, payload: unknown) {
  const res = await h.app.inject({
    method: 'POST',
    url,
    headers: { cookie: await h.cookie('operator') },
    payload: payload as Record<string, unknown>,
  })
  return { status: res.statusCode, body: JSON.parse(res.body || 'null') }
}

/** A shipment whose logger read 12 °C for 40 min (critical alarm on the 2–8 °C profile). */
async function hotShipment(h: Harness) {
  const dev = new TestDevice('logger-9', 9)
  await register(h.ledger, dev)
  const c = await post(h, '/api/shipments', {
    shipmentId: 'SIG-1',
    product: 'Insulin',
    profileId: 'refrigerated-2-8',
    route: { from: 'Basel', to: 'Lyon' },
    devices: ['logger-9'],
    startAt: T0,
  })
  if (c.status !== 201) throw new Error(JSON.stringify(c.body))
  const temps = Array.from({ length: 30 }, (_, i) => (i >= 10 && i < 18 ? 1200 : 500))
  h.clock.now = T0 + 29 * 5 * MIN + 2_000
  await Promise.all(
    temps.map((temp, i) => h.ledger.appendReading(dev.next(T0 + i * 5 * MIN, temp), T0 + i * 5 * MIN + 2_000)),
  )
  await until(
    () => h.app.dashboard.monitor.alarms({ shipmentId: 'SIG-1', state: 'open' }).some((a) => a.severity === 'critical'),
    60_000,
  )
}

const sig = (password = PASSWORDS.operator) => ({
  password,
  meaning: 'received and reviewed',
  reason: 'pallet checked at the dock',
})
const closeAt = T0 + 29 * 5 * MIN

t.test('a wrong password is refused, logs nothing, and counts as a failed sign-in', async (t) => {
  const h = await harness(t)
  await hotShipment(h)
  const size = h.ledger.size()
  const r = await post(h, '/api/shipments/SIG-1/close', {
    closedAt: closeAt,
    signature: sig('not-my-password'),
    override: { reason: 'reviewed' },
  })
  t.equal(r.status, 403)
  t.equal(r.body.code, 'ERR_SIGNATURE_PASSWORD')
  t.equal(r.body.field, 'body.signature.password')
  t.equal(h.ledger.size(), size, 'nothing logged')
  t.equal(h.ledger.shipment('SIG-1')!.closedAt, undefined)
  const metrics = await h.app.inject({ method: 'GET', url: '/metrics', headers: { cookie: await h.cookie('admin') } })
  t.match(metrics.body, /coldproof_http_login_failures_total\{reason="signature_password"\} 1/)
  t.equal(
    (await post(h, '/api/shipments/SIG-1/close', { closedAt: closeAt })).body.code,
    'ERR_VALIDATION',
    'a close without a signature is refused',
  )
})

t.test(
  'open critical alarms refuse the close; an override needs a reason and is recorded in the signature',
  async (t) => {
    const h = await harness(t)
    await hotShipment(h)
    const refused = await post(h, '/api/shipments/SIG-1/close', { closedAt: closeAt, signature: sig() })
    t.equal(refused.status, 409)
    t.equal(refused.body.code, 'ERR_CLOSE_OPEN_ALARMS')
    const open = h.app.dashboard.monitor
      .alarms({ shipmentId: 'SIG-1', state: 'open' })
      .filter((a) => a.severity === 'critical')
      .map((a) => a.alarmId)
    t.same(
      refused.body.details.alarms.map((a: { alarmId: string }) => a.alarmId),
      open,
      'lists each open critical alarm',
    )
    const noReason = await post(h, '/api/shipments/SIG-1/close', { closedAt: closeAt, signature: sig(), override: {} })
    t.equal(noReason.body.code, 'ERR_VALIDATION', 'an override without a reason is refused')
    const closed = await post(h, '/api/shipments/SIG-1/close', {
      closedAt: closeAt,
      signature: sig(),
      override: { reason: 'product inspected, QA released' },
    })
    t.equal(closed.status, 200, JSON.stringify(closed.body))
    t.same(closed.body.closeSignature, {
      by: 'olivia',
      meaning: 'received and reviewed',
      reason: 'pallet checked at the dock',
      at: h.clock.now,
      override: { reason: 'product inspected, QA released', alarms: open },
    })
    const entry = (await h.ledger.entriesByType('shipment.close')).at(-1)!.entry
    t.same(entry.body.signature, closed.body.closeSignature, 'the signature is in the ledger close entry')
    t.notOk('password' in (entry.body.signature as object), 'never the password')
  },
)

t.test('acknowledged alarms allow a plain signed close', async (t) => {
  const h = await harness(t)
  await hotShipment(h)
  for (const a of h.app.dashboard.monitor.alarms({ shipmentId: 'SIG-1', state: 'open' })) {
    const r = await post(h, `/api/shipments/SIG-1/alarms/${encodeURIComponent(a.alarmId)}/ack`, {
      reason: 'reviewed',
      comment: '',
    })
    t.equal(r.status, 200)
  }
  await until(
    () =>
      h.app.dashboard.monitor.alarms({ shipmentId: 'SIG-1', state: 'open' }).every((a) => a.severity !== 'critical'),
    60_000,
  )
  const closed = await post(h, '/api/shipments/SIG-1/close', { closedAt: closeAt, signature: sig() })
  t.equal(closed.status, 200, JSON.stringify(closed.body))
  t.equal(closed.body.closeSignature.override, undefined)
  t.equal(closed.body.closeSignature.meaning, 'received and reviewed')
})
