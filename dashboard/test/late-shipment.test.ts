/**
 * Alarms always current (issue 18.4): readings that arrived before their shipment was
 * created raise the shipment's alarms at once, in the create's answer, without a restart.
 */
import t from 'tap'
import { harness, TestDevice, register, T0 } from './support.ts'

const MIN = 60_000

t.test('readings first, shipment after: alarms and status "alarm" at once', async (t) => {
  const h = await harness(t)
  const dev = new TestDevice('logger-late', 11)
  await register(h.ledger, dev)
  // 12 °C for 40 min on a 2–8 °C profile, logged while the logger belongs to no shipment.
  const temps = Array.from({ length: 30 }, (_, i) => (i >= 10 && i < 18 ? 1200 : 500))
  h.clock.now = T0 + 29 * 5 * MIN + 2_000
  await Promise.all(
    temps.map((temp, i) => h.ledger.appendReading(dev.next(T0 + i * 5 * MIN, temp), T0 + i * 5 * MIN + 2_000)),
  )
  t.same(h.app.dashboard.monitor.alarms({}), [], 'no shipment, no alarm yet')

  const res = await h.app.inject({
    method: 'POST',
    url: '/api/shipments',
    headers: { cookie: await h.cookie('operator') },
    payload: {
      shipmentId: 'LATE-1',
      product: 'Insulin',
      profileId: 'refrigerated-2-8',
      route: { from: 'Basel', to: 'Lyon' },
      devices: ['logger-late'],
      startAt: T0,
    },
  })
  t.equal(res.statusCode, 201, res.body)
  const created = JSON.parse(res.body)
  t.equal(created.status, 'alarm', 'the create answer already says alarm')
  t.ok(created.openAlarms > 0)
  t.ok(
    created.alarms.some((a: { kind: string }) => a.kind === 'excursion_alarm'),
    'the excursion alarm is listed',
  )
  t.equal(created.currentTempCentiC, 500, 'the current temperature is the last reading')

  const list = await h.app.inject({
    method: 'GET',
    url: '/api/alarms?shipmentId=LATE-1',
    headers: { cookie: await h.cookie('regulator') },
  })
  t.equal(list.statusCode, 200, list.body)
  const alarms = JSON.parse(list.body).alarms as { alarmId: string }[]
  t.same(
    alarms.map((a) => a.alarmId).sort(),
    created.alarms.map((a: { alarmId: string }) => a.alarmId).sort(),
    'the alarms list agrees',
  )
  const fleet = JSON.parse(
    (await h.app.inject({ method: 'GET', url: '/api/shipments', headers: { cookie: await h.cookie('regulator') } }))
      .body,
  )
  t.equal(fleet.shipments.find((s: { shipmentId: string }) => s.shipmentId === 'LATE-1').status, 'alarm')
})
