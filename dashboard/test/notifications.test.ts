/**
 * Alarm notifications through the dashboard: alarms raised by real readings in
 * a real ledger reach a real SMTP server and a real webhook receiver; the alarm
 * views carry what was sent; escalation runs on the test's clock; a hanging
 * receiver never holds up the ingest or the alarms; the admin rules API.
 */
import t from 'tap'
import { harness, TestDevice, register, until, T0, type Harness } from './support.ts'
import { startReceiver, startSmtp } from '../notify/test/servers.ts'

const MIN = 60_000
const SECRET = 'receiver-shared-secret-0123456789'

async function call(
  h: Harness,
  role: 'operator' | 'regulator' | 'admin',
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await h.app.inject({
    method,
    url,
    payload: payload as Record<string, unknown>,
    headers: { cookie: await h.cookie(role), ...headers },
  })
  return { status: res.statusCode, body: res.body ? res.json() : null }
}

/** A shipment with one logger that goes above 8 °C for 40 min: an excursion alarm (major). */
async function excursion(h: Harness, shipmentId: string, deviceId: string, seed: number) {
  const dev = new TestDevice(deviceId, seed)
  await register(h.ledger, dev)
  const created = await call(h, 'operator', 'POST', '/api/shipments', {
    shipmentId,
    product: 'Insulin',
    profileId: 'refrigerated-2-8',
    route: { from: 'Basel', to: 'Lyon' },
    devices: [deviceId],
    startAt: T0,
  })
  if (created.status !== 201) throw new Error(JSON.stringify(created.body))
  h.clock.now = Math.max(h.clock.now, T0 + 29 * 5 * MIN + 2_000)
  await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      h.ledger.appendReading(dev.next(T0 + i * 5 * MIN, i >= 10 && i < 18 ? 950 : 500), T0 + i * 5 * MIN + 2_000),
    ),
  )
}

const excursionOf = (h: Harness, shipmentId: string) =>
  h.app.dashboard.monitor.alarms({ shipmentId }).find((a) => a.kind === 'excursion_alarm')

t.test(
  'an alarm from the ingest is e-mailed, shown on the alarm, escalated while unacknowledged, and stops when acknowledged',
  async (t) => {
    const smtp = await startSmtp(t)
    const h = await harness(t, {
      notifications: {
        recordsFile: null,
        escalationCheckMs: 0,
        sleep: async () => {},
        config: {
          baseUrl: 'https://coldproof.example.com',
          channels: {
            mail: { type: 'smtp', host: '127.0.0.1', port: smtp.port, from: 'alarms@example.com', maxAttempts: 1 },
          },
          contacts: [
            { name: 'qa', roles: ['qa'], channel: 'mail', to: 'qa@example.com' },
            { name: 'lead', channel: 'mail', to: 'lead@example.com' },
          ],
          rules: [
            {
              id: 'excursions',
              severities: ['critical', 'major'],
              roles: ['qa'],
              escalation: { afterMs: 30 * MIN, contacts: ['lead'] },
            },
          ],
        },
      },
    })
    await excursion(h, 'SHP-1', 'logger-1', 7)
    await until(() => excursionOf(h, 'SHP-1') !== undefined, 60_000)
    await until(() => smtp.mails.length >= 1, 60_000)
    await h.app.dashboard.notifier!.idle()
    const a = excursionOf(h, 'SHP-1')!
    const mail = smtp.mails.find((m) => m.subject.includes('excursion alarm'))!
    t.same(mail.to, ['qa@example.com'])
    t.equal(mail.subject, '[ColdProof] MAJOR alarm on shipment SHP-1: excursion alarm')
    t.match(mail.text, `Alarm:     ${a.alarmId}`)
    t.match(mail.text, 'https://coldproof.example.com/#/shipment/SHP-1')
    const list = await call(h, 'regulator', 'GET', '/api/alarms?shipmentId=SHP-1')
    const shown = list.body.alarms.find((x: { alarmId: string }) => x.alarmId === a.alarmId)
    t.match(shown.notifications, [{ channel: 'mail', to: 'qa@example.com', status: 'sent', attempts: 1, level: 0 }])
    t.type(shown.notifications[0].at, 'number')
    const detail = await call(h, 'regulator', 'GET', '/api/shipments/SHP-1')
    t.equal(
      detail.body.alarms.find((x: { alarmId: string }) => x.alarmId === a.alarmId).notifications.length,
      1,
      'on the shipment detail too',
    )
    const metrics = await h.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { cookie: await h.cookie('regulator') },
    })
    t.match(metrics.body, /^coldproof_notifications_total\{channel="mail",status="sent"\} [1-9]/m, 'counted')
    t.match(metrics.body, /^coldproof_notifications_pending 0$/m)

    // Escalation counts from the first notice (queued at the harness clock's now).
    const sentAt = h.clock.now
    h.clock.now = sentAt + 30 * MIN - 1
    h.app.dashboard.notifier!.tick()
    await h.app.dashboard.notifier!.idle()
    t.notOk(
      smtp.mails.some((m) => m.to.includes('lead@example.com')),
      'not before the delay',
    )
    h.clock.now = sentAt + 30 * MIN
    h.app.dashboard.notifier!.tick()
    await h.app.dashboard.notifier!.idle()
    const esc = smtp.mails.filter((m) => m.to.includes('lead@example.com') && m.text.includes(a.alarmId))
    t.equal(esc.length, 1, 'the next contact, once')
    t.match(esc[0]!.subject, /^\[ESCALATION 1\] /)

    // Acknowledged: no further escalation for it (and the response lists what was sent).
    const acked = await call(
      h,
      'operator',
      'POST',
      `/api/shipments/SHP-1/alarms/${encodeURIComponent(a.alarmId)}/ack`,
      { reason: 'door left open', comment: '' },
    )
    t.equal(acked.status, 200)
    t.equal(acked.body.notifications.length, 2)
  },
)

t.test(
  'a hanging webhook receiver never blocks the ingest or the alarms; a full queue is recorded as failed',
  async (t) => {
    const rx = await startReceiver(t, () => 'hang')
    const h = await harness(t, {
      notifications: {
        recordsFile: null,
        escalationCheckMs: 0,
        sleep: async () => {},
        config: {
          queueLimit: 1,
          // Three receivers on one channel: 2 sends in flight (hung), 1 waiting, the rest refused.
          channels: { hook: { type: 'webhook', url: rx.url, secret: SECRET, timeoutMs: 300_000, maxAttempts: 1 } },
          contacts: ['a', 'b', 'c'].map((n) => ({ name: n, roles: ['ops'], channel: 'hook', to: `${rx.url}/${n}` })),
          rules: [{ id: 'all', severities: ['critical', 'major', 'minor'], roles: ['ops'] }],
        },
      },
    })
    await excursion(h, 'SHP-1', 'logger-1', 7)
    await until(() => rx.hanging() === 2, 60_000)
    t.equal(h.app.dashboard.notifier!.pending().inFlight, 2, 'two sends hang at the receiver')

    // While they hang: more readings are stored and their alarms raised.
    const before = h.ledger.stats().entriesByType.reading ?? 0
    await excursion(h, 'SHP-2', 'logger-2', 8)
    t.equal((h.ledger.stats().entriesByType.reading ?? 0) - before, 30, 'every reading stored')
    await until(() => excursionOf(h, 'SHP-2') !== undefined, 60_000)
    const a2 = excursionOf(h, 'SHP-2')!
    t.equal(a2.state, 'open', 'the alarm raised')
    t.equal(rx.hanging(), 2, 'the receiver still has not answered')
    const shown = (await call(h, 'regulator', 'GET', '/api/alarms?shipmentId=SHP-2')).body.alarms.find(
      (x: { alarmId: string }) => x.alarmId === a2.alarmId,
    )
    t.ok(shown.notifications.length > 0)
    t.ok(
      shown.notifications.every(
        (n: { status: string; error: string; attempts: number }) =>
          n.status === 'failed' && n.attempts === 0 && /queue full/.test(n.error),
      ),
      'refused at the full queue, and recorded',
    )
  },
)

t.test('rules API: admin only, origin-checked, validated with the JSON path, secrets redacted', async (t) => {
  const h = await harness(t, { notifications: { recordsFile: null, configFile: null, escalationCheckMs: 0 } })
  const good = {
    channels: { hook: { type: 'webhook', url: 'https://hooks.example.com/cp', secret: SECRET } },
    contacts: [{ name: 'pager', roles: ['ops'], channel: 'hook' }],
    rules: [{ id: 'crit', severities: ['critical'], shipments: ['SHP-1'], roles: ['ops'] }],
  }
  t.equal((await call(h, 'operator', 'GET', '/api/notifications/rules')).body.code, 'ERR_AUTH_FORBIDDEN')
  t.equal((await call(h, 'operator', 'PUT', '/api/notifications/rules', good)).body.code, 'ERR_AUTH_FORBIDDEN')
  const cross = await call(h, 'admin', 'PUT', '/api/notifications/rules', good, { origin: 'https://evil.example.com' })
  t.equal(cross.body.code, 'ERR_AUTH_BAD_ORIGIN')
  const bad = await call(h, 'admin', 'PUT', '/api/notifications/rules', {
    ...good,
    rules: [{ ...good.rules[0], severities: ['high'] }],
  })
  t.equal(bad.status, 400)
  t.equal(bad.body.code, 'ERR_VALIDATION')
  t.equal(bad.body.field, 'body.rules[0].severities[0]')
  t.match(bad.body.message, /expected one of critical, major, minor, got "high"/)
  const put = await call(h, 'admin', 'PUT', '/api/notifications/rules', good)
  t.equal(put.status, 200, JSON.stringify(put.body))
  t.equal(put.body.channels.hook.secret, '********')
  const got = await call(h, 'admin', 'GET', '/api/notifications/rules')
  t.same(got.body.rules, [
    { id: 'crit', severities: ['critical'], shipments: ['SHP-1'], roles: ['ops'], contacts: [], escalation: null },
  ])
  t.equal(got.body.channels.hook.secret, '********', 'never shown')
})
