/**
 * Assigning and removing loggers on an open shipment (docs/API.md, "Shipments"; docs/BUNDLE.md,
 * "Assigned loggers"): an added logger counts from the change's time, its earlier readings raise
 * their alarms at once; a removed logger's readings after its removal do not count. The derived
 * state passes the integrity check, a restarted monitor agrees with the live one, and the offline
 * verifier replays the same rule from the bundle (and notices a left-out assignment).
 */
import t from 'tap'
import { harness, TestDevice, register, T0, PASSWORDS, type Harness } from './support.ts'
import { createIntegrityChecker } from '../server/integrity.ts'
import { createFleetMonitor } from '../server/monitor.ts'
import { verifyBundle, formatReport } from '../evidence/verify.ts'
import { createBundleBuilder } from '../evidence/collect.ts'

const MIN = 60_000
const STEP = 5 * MIN

async function post(h: Harness, url: string, payload: unknown) {
  const res = await h.app.inject({
    method: 'POST',
    url,
    headers: { cookie: await h.cookie('operator') },
    payload: payload as Record<string, unknown>,
  })
  return { status: res.statusCode, body: JSON.parse(res.body || 'null') }
}

t.test('assign a logger after its readings, remove another, close, verify offline', async (t) => {
  const h = await harness(t, (ledger) => ({ bundle: createBundleBuilder(ledger) }))
  const a = new TestDevice('logger-a', 31),
    b = new TestDevice('logger-b', 32),
    c = new TestDevice('logger-c', 33)
  for (const d of [a, b, c]) await register(h.ledger, d)
  const created = await post(h, '/api/shipments', {
    shipmentId: 'ASG-1',
    product: 'Insulin',
    profileId: 'refrigerated-2-8',
    route: { from: 'Basel', to: 'Lyon' },
    devices: ['logger-a', 'logger-c'],
    startAt: T0,
  })
  t.equal(created.status, 201, JSON.stringify(created.body))

  // 13 readings each, T0 .. T0+60 min. A: 5 °C throughout. B: hot (12 °C) for its first 40 min, then 5 °C.
  // C: 5 °C until 30 min, then hot — but C is removed at 30 min, so its heat must not count.
  h.clock.now = T0 + 12 * STEP + 2_000
  for (let i = 0; i <= 12; i++) {
    await h.ledger.appendReading(a.next(T0 + i * STEP, 500), T0 + i * STEP + 2_000)
    await h.ledger.appendReading(b.next(T0 + i * STEP, i < 8 ? 1200 : 500), T0 + i * STEP + 2_000)
  }
  for (let i = 0; i <= 6; i++) await h.ledger.appendReading(c.next(T0 + i * STEP, 500), T0 + i * STEP + 2_000)
  t.equal(h.app.dashboard.monitor.alarms({ shipmentId: 'ASG-1' }).length, 0, 'no alarm: B is not assigned yet')

  // Refusals, each naming its field.
  t.equal(
    (await post(h, '/api/shipments/ASG-1/devices', { add: ['logger-a'] })).body.field,
    'body.add[0]',
    'already assigned',
  )
  t.equal(
    (await post(h, '/api/shipments/ASG-1/devices', { remove: ['logger-b'] })).body.field,
    'body.remove[0]',
    'not assigned',
  )
  t.equal((await post(h, '/api/shipments/ASG-1/devices', { add: ['nope-1'] })).body.code, 'ERR_DEVICE_UNKNOWN')
  t.equal(
    (await post(h, '/api/shipments/ASG-1/devices', { add: ['logger-b'], at: h.clock.now + 1 })).body.field,
    'body.at',
    'not in the future',
  )
  t.equal(
    (await post(h, '/api/shipments/ASG-1/devices', { remove: ['logger-a', 'logger-c'] })).body.field,
    'body.remove',
    'a shipment keeps a logger',
  )

  // B joins at T0+20 min: its readings from then on count (hot until 40 min: an alarm, raised now).
  const added = await post(h, '/api/shipments/ASG-1/devices', { add: ['logger-b'], at: T0 + 20 * MIN })
  t.equal(added.status, 200, JSON.stringify(added.body))
  t.same(added.body.devices, ['logger-a', 'logger-c', 'logger-b'])
  t.equal(added.body.status, 'alarm', "the added logger's earlier readings raise their alarm in the answer")
  t.ok(
    added.body.alarms.some(
      (x: { deviceId: string; kind: string }) => x.deviceId === 'logger-b' && x.kind === 'excursion_alarm',
    ),
  )
  const bReadings = added.body.result.loggers.find((l: { deviceId: string }) => l.deviceId === 'logger-b').readings
  t.equal(bReadings, 9, 'B counts from 20 min: readings at 20..60 min')
  t.same(
    added.body.loggers.find((l: { deviceId: string }) => l.deviceId === 'logger-b'),
    {
      deviceId: 'logger-b',
      from: T0 + 20 * MIN,
      until: null,
      addedEntry: added.body.loggers[2].addedEntry,
      removedEntry: null,
    },
  )

  // C leaves at T0+30 min; its readings logged afterwards (hot) are not the shipment's.
  const removed = await post(h, '/api/shipments/ASG-1/devices', { remove: ['logger-c'], at: T0 + 30 * MIN })
  t.equal(removed.status, 200, JSON.stringify(removed.body))
  t.same(removed.body.devices, ['logger-a', 'logger-b'])
  t.equal(
    (await post(h, '/api/shipments/ASG-1/devices', { add: ['logger-c'] })).body.field,
    'body.add[0]',
    'a removed logger is not assigned again',
  )
  for (let i = 7; i <= 12; i++) await h.ledger.appendReading(c.next(T0 + i * STEP, 1500), T0 + i * STEP + 2_000)
  await h.app.dashboard.monitor.settled('ASG-1')
  t.notOk(
    h.app.dashboard.monitor.alarms({ shipmentId: 'ASG-1' }).some((x) => x.deviceId === 'logger-c'),
    'no alarm from the removed logger',
  )
  const detail = (
    await h.app.inject({ url: '/api/shipments/ASG-1', headers: { cookie: await h.cookie('regulator') } })
  ).json()
  t.equal(
    detail.result.loggers.find((l: { deviceId: string }) => l.deviceId === 'logger-c').readings,
    7,
    'C counts 0..30 min only',
  )
  t.equal(
    detail.result.loggers.find((l: { deviceId: string }) => l.deviceId === 'logger-c').maxCentiC,
    500,
    'its later heat is not evidence',
  )

  // Acknowledge, then close (signed).
  for (const x of h.app.dashboard.monitor.alarms({ shipmentId: 'ASG-1', state: 'open' })) {
    t.equal(
      (
        await post(h, `/api/shipments/ASG-1/alarms/${encodeURIComponent(x.alarmId)}/ack`, {
          reason: 'reviewed',
          comment: '',
        })
      ).status,
      200,
    )
  }
  const closed = await post(h, '/api/shipments/ASG-1/close', {
    closedAt: T0 + 60 * MIN,
    signature: { password: PASSWORDS.operator, meaning: 'received and reviewed', reason: 'QA done' },
  })
  t.equal(closed.status, 200, JSON.stringify(closed.body))

  // The PDF names each logger's window.
  const pdf = await h.app.inject({
    url: '/api/shipments/ASG-1/report.pdf',
    headers: { cookie: await h.cookie('regulator') },
  })
  t.equal(pdf.statusCode, 200)
  const { getDocument } = await import('pdfjs-dist/legacy/build/pdf.mjs')
  const doc = await getDocument({ data: new Uint8Array(pdf.rawPayload), isEvalSupported: false }).promise
  let text = ''
  for (let p = 1; p <= doc.numPages; p++)
    text += (await (await doc.getPage(p)).getTextContent()).items.map((i) => ('str' in i ? i.str : '')).join(' ') + '\n'
  await doc.destroy()
  t.match(text, /Logger logger-c\s+counts from .* to .* \(removed\)/, "the PDF says the removed logger's window")
  t.match(text, /Logger logger-b\s+counts from/, "and the added one's")

  // The full integrity check (entries, chains, Merkle tree, indexes and derived state) replays the same windows.
  const fsck = await createIntegrityChecker(h.ledger, () => h.clock.now).run()
  t.ok(fsck.ok, JSON.stringify(fsck.failure))

  // A monitor started now, folding the log from the start, raises the same alarms as the live one did.
  const fresh = createFleetMonitor({ ledger: h.ledger, clock: () => h.clock.now })
  await fresh.start()
  await fresh.caughtUp()
  t.same(
    fresh
      .alarms({ shipmentId: 'ASG-1' })
      .map((x) => x.alarmId)
      .sort(),
    h.app.dashboard.monitor
      .alarms({ shipmentId: 'ASG-1' })
      .map((x) => x.alarmId)
      .sort(),
    'restart gives the same alarms',
  )
  t.same(fresh.summary('ASG-1')!.devices, ['logger-a', 'logger-b'])
  fresh.stop()

  // The offline verifier replays the assignments from the bundle and recomputes the same result.
  const res = await h.app.inject({
    url: '/api/shipments/ASG-1/bundle.json',
    headers: { cookie: await h.cookie('regulator') },
  })
  t.equal(res.statusCode, 200, res.body.slice(0, 300))
  const bundle = JSON.parse(res.body)
  t.equal(bundle.shipment.assignments.length, 2, 'both shipment.devices entries travel in the bundle')
  t.same(bundle.claimed.verdict, detail.result.verdict, "the bundle claims the dashboard's verdict")
  const report = await verifyBundle(res.body, { trustedKey: h.ledger.verifierKey })
  t.equal(report.result, 'VERIFIED', formatReport(report))
  t.same(report.loggers, [
    { deviceId: 'logger-a', from: T0, until: null },
    { deviceId: 'logger-c', from: T0, until: T0 + 30 * MIN },
    { deviceId: 'logger-b', from: T0 + 20 * MIN, until: null },
  ])
  t.match(formatReport(report), /logger logger-c: counts from .* up to .* \(removed\)/)

  // Leaving out the removal: the close anchors name other loggers than the entries give.
  const noRemoval = structuredClone(bundle)
  noRemoval.shipment.assignments = noRemoval.shipment.assignments.slice(0, 1)
  const r2 = await verifyBundle(JSON.stringify(noRemoval), { trustedKey: h.ledger.verifierKey })
  t.equal(r2.result, 'NOT VERIFIED')
  t.ok(
    r2.checks
      .find((x) => x.id === 'shipment')!
      .failures.some((f) => f.code === 'SHIPMENT_MISMATCH' && /assignment or removal entry is missing/.test(f.message)),
    'SHIPMENT_MISMATCH names the missing entry',
  )
  // Leaving out every assignment: B's chain belongs to no logger of the shipment.
  const none = structuredClone(bundle)
  delete none.shipment.assignments
  const r3 = await verifyBundle(JSON.stringify(none), { trustedKey: h.ledger.verifierKey })
  t.equal(r3.result, 'NOT VERIFIED')
  t.ok(r3.checks.find((x) => x.id === 'membership')!.failures.some((f) => f.code === 'DEVICE_NOT_IN_SHIPMENT'))
})
