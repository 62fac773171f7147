import t from 'tap'
import { readFileSync } from 'node:fs'
import { Ajv } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs'
import { harness, TestDevice, register, T0, type Harness } from './support.ts'
import { API_ERROR_CODES } from '../server/errors.ts'
import { createBundleBuilder } from '../evidence/collect.ts'
import { createHash } from 'node:crypto'

const MIN = 60_000
const standardFontDataUrl =
  dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json')) + '/standard_fonts/'
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  a: Ajv,
) => Ajv
const ajv = new Ajv({ strict: false, allErrors: true })
addFormats(ajv)
const validateEpcis = ajv.compile(
  JSON.parse(readFileSync(new URL('../reports/testdata/epcis/EPCIS-JSON-Schema.json', import.meta.url), 'utf8')),
)

/** Shipment "=SHP" (a formula-looking id) with two loggers, one excursion, one sensor fault. */
async function shipment(h: Harness) {
  const a = new TestDevice('logger-a', 11)
  const b = new TestDevice('logger-b', 12)
  await register(h.ledger, a)
  await register(h.ledger, b)
  const cookie = await h.cookie('operator')
  const res = await h.app.inject({
    method: 'POST',
    url: '/api/shipments',
    headers: { cookie },
    payload: {
      shipmentId: 'SHP-R',
      product: '=HYPERLINK("x")',
      profileId: 'refrigerated-2-8',
      route: { from: 'Basel', to: 'Lyon' },
      devices: ['logger-a', 'logger-b'],
      startAt: T0,
      gs1: { sscc: '106141411928374657', gtin: '09506000134352', lot: 'L1', expiry: '2027-01-31' },
    },
  })
  if (res.statusCode !== 201) throw new Error(res.body)
  const writes: Promise<unknown>[] = []
  for (let i = 0; i < 24; i++) {
    const at = T0 + i * 5 * MIN
    writes.push(h.ledger.appendReading(a.next(at, i >= 8 && i < 14 ? 1050 : 480), at + 1500))
    writes.push(h.ledger.appendReading(b.next(at + 3000, -150 + 700, i === 5 ? { status: 0x0001 } : {}), at + 4500))
  }
  h.clock.now = T0 + 23 * 5 * MIN + 4500
  await Promise.all(writes)
  await h.ledger.checkpoint()
}

t.test('PDF report: a PDF that parses, naming verdict, profile hash, fingerprints and checkpoint', async (t) => {
  const h = await harness(t)
  await shipment(h)
  const res = await h.app.inject({
    url: '/api/shipments/SHP-R/report.pdf',
    headers: { cookie: await h.cookie('regulator') },
  })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'application/pdf')
  t.match(res.headers['content-disposition'], /attachment; filename="SHP-R-report.pdf"/)
  t.equal(res.rawPayload.subarray(0, 5).toString('latin1'), '%PDF-')
  const pdf = await getDocument({ data: new Uint8Array(res.rawPayload), isEvalSupported: false, standardFontDataUrl })
    .promise
  let text = ''
  for (let p = 1; p <= pdf.numPages; p++)
    text += (await (await pdf.getPage(p)).getTextContent()).items.map((i) => ('str' in i ? i.str : '')).join(' ')
  await pdf.destroy()
  const detail = (
    await h.app.inject({ url: '/api/shipments/SHP-R', headers: { cookie: await h.cookie('regulator') } })
  ).json()
  const device = (
    await h.app.inject({ url: '/api/devices/logger-a', headers: { cookie: await h.cookie('regulator') } })
  ).json()
  t.match(text, `Verdict: ${detail.result.verdict}`)
  t.match(text, detail.profileHash)
  t.match(text, device.fingerprint)
  t.match(text, `tree size ${h.ledger.latestCheckpoint()!.size}`)
  t.match(text, 'evidence bundle module not installed')
})

t.test('PDF names the evidence bundle hash when a bundle builder is wired', async (t) => {
  const h = await harness(t, {
    bundle: async (id) => ({ json: JSON.stringify({ shipmentId: id }), sha256: 'c'.repeat(64) }),
  })
  await shipment(h)
  const res = await h.app.inject({
    url: '/api/shipments/SHP-R/report.pdf',
    headers: { cookie: await h.cookie('regulator') },
  })
  const pdf = await getDocument({ data: new Uint8Array(res.rawPayload), isEvalSupported: false, standardFontDataUrl })
    .promise
  let text = ''
  for (let p = 1; p <= pdf.numPages; p++)
    text += (await (await pdf.getPage(p)).getTextContent()).items.map((i) => ('str' in i ? i.str : '')).join(' ')
  await pdf.destroy()
  t.match(text, 'c'.repeat(64))
  const bundle = await h.app.inject({
    url: '/api/shipments/SHP-R/bundle.json',
    headers: { cookie: await h.cookie('regulator') },
  })
  t.equal(bundle.statusCode, 200)
  t.same(bundle.json(), { shipmentId: 'SHP-R' })
  t.equal(bundle.headers['x-content-sha256'], 'c'.repeat(64))
})

t.test('with the real bundle module: the PDF names exactly the bundle that is downloaded', async (t) => {
  const h = await harness(t, (ledger) => ({ bundle: createBundleBuilder(ledger) }))
  await shipment(h)
  await h.app.inject({
    method: 'POST',
    url: '/api/shipments/SHP-R/close',
    headers: { cookie: await h.cookie('operator') },
    payload: {
      closedAt: T0 + 23 * 5 * MIN,
      signature: { password: 'operator-pass-123', meaning: 'received and reviewed', reason: 'checked at receipt' },
      override: { reason: 'excursion reviewed by QA' },
    },
  })
  await h.ledger.checkpoint()
  const bundle = await h.app.inject({
    url: '/api/shipments/SHP-R/bundle.json',
    headers: { cookie: await h.cookie('regulator') },
  })
  t.equal(bundle.statusCode, 200, bundle.body.slice(0, 300))
  const sha = createHash('sha256').update(bundle.rawPayload).digest('hex')
  t.equal(bundle.headers['x-content-sha256'], sha, 'the header is the hash of the bytes sent')
  const res = await h.app.inject({
    url: '/api/shipments/SHP-R/report.pdf',
    headers: { cookie: await h.cookie('regulator') },
  })
  const pdf = await getDocument({ data: new Uint8Array(res.rawPayload), isEvalSupported: false, standardFontDataUrl })
    .promise
  let text = ''
  for (let p = 1; p <= pdf.numPages; p++)
    text += (await (await pdf.getPage(p)).getTextContent()).items.map((i) => ('str' in i ? i.str : '')).join(' ')
  await pdf.destroy()
  t.match(text, sha, 'the report names the bundle by its SHA-256')
})

async function pdfTextOf(h: Harness, url: string): Promise<string> {
  const res = await h.app.inject({ url, headers: { cookie: await h.cookie('regulator') } })
  const pdf = await getDocument({ data: new Uint8Array(res.rawPayload), isEvalSupported: false, standardFontDataUrl })
    .promise
  let text = ''
  for (let p = 1; p <= pdf.numPages; p++)
    text += (await (await pdf.getPage(p)).getTextContent()).items.map((i) => ('str' in i ? i.str : '')).join(' ') + '\n'
  await pdf.destroy()
  return text.replace(/\s+/g, ' ')
}

t.test('PDF lists alarms and acknowledgements (GDP 9.2) and says which bundle it names', async (t) => {
  const h = await harness(t, (ledger) => ({ bundle: createBundleBuilder(ledger) }))
  await shipment(h)
  const alarms = h.app.dashboard.monitor.alarms({ shipmentId: 'SHP-R' })
  const excursion = alarms.find((a) => a.kind === 'excursion_alarm')
  if (!excursion) throw new Error(`no excursion alarm in ${JSON.stringify(alarms.map((a) => a.kind))}`)
  const comment =
    'Product moved to the backup reefer at Mâcon; QA (Dr. Weber) reviewed the stability data. <b>not markup</b>'
  const ack = await h.app.inject({
    method: 'POST',
    url: `/api/shipments/SHP-R/alarms/${encodeURIComponent(excursion.alarmId)}/ack`,
    headers: { cookie: await h.cookie('operator') },
    payload: { reason: 'reefer door seal failed', comment },
  })
  t.equal(ack.statusCode, 200, ack.body)
  for (let i = 0; i < 50 && h.app.dashboard.monitor.alarm('SHP-R', excursion.alarmId)?.state !== 'acknowledged'; i++)
    await new Promise((r) => setTimeout(r, 20))
  await h.ledger.checkpoint()
  const text = await pdfTextOf(h, '/api/shipments/SHP-R/report.pdf')
  t.match(text, `Alarms and acknowledgements (${alarms.length}, 1 acknowledged)`)
  t.match(text, 'excursion alarm')
  t.match(text, 'reefer door seal failed', 'ack reason')
  t.match(text, 'olivia', 'who acknowledged')
  t.match(text, 'Dr. Weber', 'the comment, wrapped')
  t.match(text, '<b>not markup</b>', 'the comment is drawn as text')
  t.notMatch(text, /\(above-\d+\)/, 'no internal rule id in the alarm text')
  // The bundle's checkpoint size is printed beside its hash; the shipment is open, so the report says the bundle moves.
  const bundle = await h.app.inject({
    url: '/api/shipments/SHP-R/bundle.json',
    headers: { cookie: await h.cookie('regulator') },
  })
  const size = Number(String(bundle.json().checkpoint).split('\n')[1])
  t.ok(size > 0)
  t.match(text, `${bundle.headers['x-content-sha256']} (built at tree size ${size},`)
  t.match(text, 'This shipment is open')
  await h.app.inject({
    method: 'POST',
    url: '/api/shipments/SHP-R/close',
    headers: { cookie: await h.cookie('operator') },
    payload: {
      closedAt: T0 + 23 * 5 * MIN,
      signature: { password: 'operator-pass-123', meaning: 'received and reviewed', reason: 'checked at receipt' },
      override: { reason: 'excursion reviewed by QA' },
    },
  })
  await h.ledger.checkpoint()
  t.notMatch(await pdfTextOf(h, '/api/shipments/SHP-R/report.pdf'), 'This shipment is open', 'no such line once closed')
})

t.test('bundle.json answers 501 until the bundle module is installed', async (t) => {
  const h = await harness(t)
  await shipment(h)
  const res = await h.app.inject({
    url: '/api/shipments/SHP-R/bundle.json',
    headers: { cookie: await h.cookie('regulator') },
  })
  t.equal(res.statusCode, 501)
  t.equal(res.json().code, 'ERR_BUNDLE_UNAVAILABLE')
  t.match(res.json().message, 'evidence bundle module not installed yet')
  t.equal(
    (await h.app.inject({ url: '/api/shipments/NOPE/bundle.json', headers: { cookie: await h.cookie('regulator') } }))
      .statusCode,
    404,
  )
})

t.test('CSV of readings: every reading, ISO and ms times, flags', async (t) => {
  const h = await harness(t)
  await shipment(h)
  const res = await h.app.inject({
    url: '/api/shipments/SHP-R/readings.csv',
    headers: { cookie: await h.cookie('regulator') },
  })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/csv/)
  const lines = res.body
    .trimEnd()
    .split('\r\n')
    .filter((l) => !l.startsWith('# '))
  t.equal(
    lines[0],
    'shipment_id,device_id,seq,device_time_iso,device_time_ms,received_at_iso,temp_c,flags,late,delay_ms,late_after_ms',
  )
  t.equal(lines.length, 1 + 48)
  t.ok(
    lines.some((l) => l.includes(',SENSOR_FAULT,')),
    'the faulty reading is flagged',
  )
  t.ok(
    lines.some(
      (l) =>
        l.startsWith(`SHP-R,logger-a,9,${new Date(T0 + 40 * MIN).toISOString()},${T0 + 40 * MIN},`) &&
        l.includes(',10.50,'),
    ),
  )
})

t.test('EPCIS export validates against the GS1 EPCIS 2.0 schema; excursion readings marked', async (t) => {
  const h = await harness(t)
  await shipment(h)
  const res = await h.app.inject({
    url: '/api/shipments/SHP-R/epcis.json',
    headers: { cookie: await h.cookie('regulator') },
  })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/ld\+json/)
  const doc = res.json()
  t.ok(validateEpcis(doc), JSON.stringify(validateEpcis.errors?.slice(0, 3)))
  const all = doc.epcisBody.eventList
  t.equal(all[0].bizStep, 'shipping', "the shipment's start first")
  const events = all.filter((e: any) => e.sensorElementList)
  t.equal(events.length, 48)
  t.notMatch(
    JSON.stringify(doc),
    /localhost|127\.0\.0\.1/,
    'identifiers name the ledger, not the host the request came to',
  )
  const marks = events.map((e: any) => e.sensorElementList[0].sensorReport[0].exception ?? null)
  t.equal(marks.filter((m: string | null) => m === 'ALARM_CONDITION').length, 6, 'the six readings at 10.50 °C')
  t.equal(marks.filter((m: string | null) => m === 'ERROR_CONDITION').length, 1, 'the sensor fault')
  t.same(events[0].epcList, ['https://id.gs1.org/00/106141411928374657'])
})

t.test('metrics: Prometheus text with the documented series; token or session required', async (t) => {
  const h = await harness(t, {
    metricsToken: 'scrape-secret',
    brokerMetrics: () => ({
      connections: 7,
      refusals: { bad_password: 3, protocol_version: 1 },
      securityEvents: { login_failed: 3, protocol: 1 },
      throttled: 2,
      idleSockets: 4,
      passwordChecks: 5,
    }),
    ingestMetrics: () => ({ received: 60, pending: 12 }),
  })
  await shipment(h)
  t.equal((await h.app.inject('/metrics')).statusCode, 401)
  t.equal((await h.app.inject({ url: '/metrics', headers: { authorization: 'Bearer wrong' } })).statusCode, 401)
  const res = await h.app.inject({ url: '/metrics', headers: { authorization: 'Bearer scrape-secret' } })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/plain/)
  const values = new Map<string, number>()
  for (const line of res.body.split('\n')) {
    if (!line || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.e+-]+|NaN|\+Inf)$/.exec(line)
    t.ok(m, `line parses: ${line}`)
    if (m) values.set(m[1], Number(m[2]))
  }
  t.equal(values.get('coldproof_readings_ingested_total'), 48)
  t.equal(values.get('coldproof_log_size'), h.ledger.size())
  t.equal(values.get('coldproof_broker_connections'), 7)
  t.ok((values.get('coldproof_open_alarms') ?? 0) >= 1)
  t.equal(values.get('coldproof_ingest_latency_seconds_count'), 48)
  t.ok(values.has('coldproof_sse_clients'))
  t.equal(values.get('coldproof_broker_refusals_total{reason="bad_password"}'), 3)
  t.equal(values.get('coldproof_broker_refusals_total{reason="protocol_version"}'), 1)
  t.equal(values.get('coldproof_security_events_total{kind="login_failed"}'), 3)
  t.equal(values.get('coldproof_security_events_total{kind="throttled"}'), 2)
  t.equal(
    values.get('coldproof_security_events_total{kind="quarantined"}'),
    Object.values(h.ledger.stats().quarantineByReason).reduce((a, n) => a + (n ?? 0), 0),
  )
  t.equal(values.get('coldproof_broker_idle_sockets'), 4)
  t.equal(values.get('coldproof_broker_password_checks_total'), 5)
  t.equal(values.get('coldproof_ingest_pending'), 12, "the ingest's own figure, not a constant")
  t.match(res.body, /# TYPE coldproof_quarantined_total counter/)
  const bySession = await h.app.inject({ url: '/metrics', headers: { cookie: await h.cookie('regulator') } })
  t.equal(bySession.statusCode, 200)
})

t.test('docs/API.md lists every error code and SSE event', async (t) => {
  const doc = readFileSync(new URL('../../docs/API.md', import.meta.url), 'utf8')
  for (const code of Object.keys(API_ERROR_CODES)) {
    if (code === 'ERR_INTERNAL' || code === 'ERR_LEDGER_UNAVAILABLE') continue
    t.ok(doc.includes(code) || doc.includes(code.replace(/_[A-Z]+$/, '_*')), `${code} documented`)
  }
  for (const ev of ['hello', 'reading', 'alarm', 'ack', 'shipment', 'device', 'checkpoint'])
    t.match(doc, `| \`${ev}\` |`)
})
