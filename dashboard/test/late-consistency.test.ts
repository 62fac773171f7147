/**
 * One lateness rule for the UI's data, the CSV and the PDF (docs/API.md,
 * "late"), in the demo's condition that made them disagree: the loggers'
 * clocks replay the last day 720× fast, so every reading is stored 22–24 h
 * after its device time although it arrived at once. Only the readings a
 * logger buffered through a dead zone are late; the API, the CSV and the PDF
 * mark the same ones, the CSV's delay_ms is the delay that decided it, and the
 * CSV says what its columns mean.
 */
import t from 'tap'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs'
import { harness, TestDevice, register, T0 } from './support.ts'
import { CSV_HEADER, CSV_NOTES } from '../reports/csv.ts'

const MIN = 60_000
const ACCEL = 720
const standardFontDataUrl =
  dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json')) + '/standard_fonts/'

t.test(
  'demo clock: the same readings are late in the API, the CSV and the PDF, with the delay that decided it',
  async (t) => {
    const h = await harness(t)
    const a = new TestDevice('demo-logger-a', 21)
    const b = new TestDevice('demo-logger-b', 22)
    await register(h.ledger, a)
    await register(h.ledger, b)
    const D0 = T0 - 24 * 3600_000 // device time starts a day back, as the demo's replay does
    const res = await h.app.inject({
      method: 'POST',
      url: '/api/shipments',
      headers: { cookie: await h.cookie('operator') },
      payload: {
        shipmentId: 'SHP-LATE',
        product: 'Vaccine',
        profileId: 'refrigerated-2-8',
        route: { from: 'Basel', to: 'Lyon' },
        devices: [a.deviceId, b.deviceId],
        startAt: D0,
      },
    })
    t.equal(res.statusCode, 201, 'shipment created')
    // Received 1 s after "now" on the fast device clock; B is out of coverage for seq 11..16 and sends them with seq 17.
    const recv = (deviceT: number) => T0 + Math.round((deviceT - D0) / ACCEL) + 1000
    const buffered: { payload: string; deviceId: string; seq: number }[] = []
    for (let i = 0; i < 30; i++) {
      const at = D0 + i * 5 * MIN
      await h.ledger.appendReading(a.next(at, 500), recv(at))
      const rb = b.next(at + 2000, 520)
      if (i >= 10 && i < 16) {
        buffered.push(rb)
        continue
      }
      for (const x of buffered.splice(0)) await h.ledger.appendReading(x, recv(at + 2000))
      await h.ledger.appendReading(rb, recv(at + 2000))
    }
    h.clock.now = recv(D0 + 30 * 5 * MIN)
    await h.ledger.checkpoint()
    const monitor = h.app.dashboard.monitor
    await monitor.caughtUp()
    const lateAfter = monitor.lateAfterMs('SHP-LATE')
    t.equal(lateAfter, 10 * MIN, 'two sampling intervals of the profile')

    const cookie = await h.cookie('regulator')
    const detail = (await h.app.inject({ url: '/api/shipments/SHP-LATE/readings', headers: { cookie } })).json() as {
      readings: {
        deviceId: string
        seq: number
        deviceTimeMs: number
        receivedAt: number
        late: boolean
        delayMs: number | null
      }[]
    }
    t.equal(detail.readings.length, 60)
    const lateApi = detail.readings.filter((r) => r.late).map((r) => `${r.deviceId}:${r.seq}`)
    // Buffered at device minutes 50..75, sent at 80: waited 30, 25, 20, 15 (late), 10 and 5 min (not above two intervals).
    t.same(
      lateApi,
      ['demo-logger-b:11', 'demo-logger-b:12', 'demo-logger-b:13', 'demo-logger-b:14'],
      'only the buffered readings that waited over two intervals are late',
    )
    t.ok(
      detail.readings.every((r) => r.receivedAt - r.deviceTimeMs > 12 * 3600_000),
      'every reading is stored 12+ h after its device time (the demo condition)',
    )
    for (const r of detail.readings) {
      if (typeof r.delayMs !== 'number') {
        t.fail(`${r.deviceId}:${r.seq} has no delay`)
        continue
      }
      if (r.late !== r.delayMs > lateAfter) t.fail(`${r.deviceId}:${r.seq}: late ${r.late} but delay ${r.delayMs}`)
    }
    t.ok(
      Math.abs(detail.readings.find((r) => r.deviceId === 'demo-logger-b' && r.seq === 11)!.delayMs! - 30 * MIN) <
        2 * MIN,
      'the delay is the time it waited in the buffer (device time), not the clock difference',
    )

    const csv = (await h.app.inject({ url: '/api/shipments/SHP-LATE/readings.csv', headers: { cookie } })).body
    const lines = csv.trimEnd().split('\r\n')
    t.same(lines.slice(0, CSV_NOTES.length), [...CSV_NOTES], 'the notes come first')
    for (const note of CSV_NOTES)
      t.ok(note.startsWith('# ') && !/[,"]/.test(note), 'a note is one cell: no comma, no quote')
    t.match(CSV_NOTES.join(' '), /received_at_iso/)
    t.match(CSV_NOTES.join(' '), /delay_ms/)
    t.equal(lines[CSV_NOTES.length], CSV_HEADER.join(','), 'then the header')
    const rows = lines.slice(CSV_NOTES.length + 1).map((l) => l.split(','))
    const col = (name: (typeof CSV_HEADER)[number]) => CSV_HEADER.indexOf(name)
    t.equal(rows.length, 60)
    t.same(
      rows.filter((r) => r[col('late')] === 'late').map((r) => `${r[col('device_id')]}:${r[col('seq')]}`),
      lateApi,
      'the CSV marks the same readings',
    )
    for (const r of rows) {
      if (Number(r[col('late_after_ms')]) !== lateAfter) t.fail(`late_after_ms ${r[col('late_after_ms')]}`)
      const delay = Number(r[col('delay_ms')])
      if ((r[col('late')] === 'late') !== delay > lateAfter) t.fail(`row ${r.join(',')}: late and delay_ms disagree`)
    }
    t.pass('each row: late exactly when delay_ms is above late_after_ms')

    const pdfRes = await h.app.inject({ url: '/api/shipments/SHP-LATE/report.pdf', headers: { cookie } })
    t.equal(pdfRes.statusCode, 200)
    const pdf = await getDocument({
      data: new Uint8Array(pdfRes.rawPayload),
      isEvalSupported: false,
      standardFontDataUrl,
    }).promise
    let text = ''
    for (let p = 1; p <= pdf.numPages; p++)
      text += (await (await pdf.getPage(p)).getTextContent()).items.map((i) => ('str' in i ? i.str : '')).join(' ')
    await pdf.destroy()
    t.match(text, /60 \(4 received late/, 'the PDF counts the same four')
  },
)
