import t from 'tap'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { getDocument, OPS } from 'pdfjs-dist/legacy/build/pdf.mjs'

const standardFontDataUrl =
  dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json')) + '/standard_fonts/'
import { renderReportPdf, segments } from './pdf.ts'
import { sampleReportInput } from './test/sample-input.ts'
import { profileHash } from '../compliance/index.ts'

async function pdfText(bytes: Uint8Array): Promise<{ pages: number; text: string }> {
  const pdf = await getDocument({ data: bytes, isEvalSupported: false, standardFontDataUrl }).promise
  let text = ''
  for (let p = 1; p <= pdf.numPages; p++) {
    const content = await (await pdf.getPage(p)).getTextContent()
    text += content.items.map((i) => ('str' in i ? i.str : '')).join(' ') + '\n'
  }
  const pages = pdf.numPages
  await pdf.destroy()
  return { pages, text }
}

t.test('the report is a PDF that parses and says what matters', async (t) => {
  const input = sampleReportInput()
  input.bundleSha256 = 'b'.repeat(64)
  const pdf = await renderReportPdf(input)
  t.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-')
  const { pages, text } = await pdfText(new Uint8Array(pdf))
  t.ok(pages >= 1)
  t.match(text, /Verdict: FAIL/)
  t.match(text, input.shipment.profileHash, 'profile hash')
  t.match(text, 'b'.repeat(64), 'bundle hash')
  t.match(text, '0123456789abcdef', 'device key fingerprint')
  t.match(text, 'tree size 1234', 'checkpoint')
  t.match(text, '106141411928374657', 'SSCC')
  t.match(text, /6\.12 °C/, 'MKT')
  t.match(text, /Excursions \(1\)/)
  t.match(text, /40 min/, 'time above range')
})

t.test('a passing shipment without excursions or bundle', async (t) => {
  const input = sampleReportInput()
  input.result = { ...input.result, verdict: 'pass', excursions: [], reasons: [] }
  const { text } = await pdfText(new Uint8Array(await renderReportPdf(input)))
  t.match(text, /Verdict: PASS/)
  t.match(text, /evidence bundle module not installed/)
})

t.test('gaps and sensor faults break the curve', async (t) => {
  const r = (seq: number, at: number, flags: string[] = []) => ({
    deviceId: 'd',
    seq,
    deviceTimeMs: at,
    receivedAt: at,
    tempCentiC: 500,
    flags,
    late: false,
  })
  const segs = segments(
    [r(1, 0), r(2, 60_000), r(3, 10 * 60_000), r(4, 11 * 60_000, ['SENSOR_FAULT']), r(5, 12 * 60_000)],
    5 * 60_000,
  )
  t.same(
    segs.map((s) => s.map((x) => x.seq)),
    [[1, 2], [3], [5]],
  )
})

t.test('the curve is vector graphics: one path per logger segment, no images', async (t) => {
  const input = sampleReportInput()
  const pdf = await getDocument({
    data: new Uint8Array(await renderReportPdf(input)),
    isEvalSupported: false,
    standardFontDataUrl,
  }).promise
  const ops = await (await pdf.getPage(1)).getOperatorList()
  const count = (op: number) => ops.fnArray.filter((f) => f === op).length
  await pdf.destroy()
  // logger-a1: one segment; logger-b2: split by its sensor fault into two. Plus band, limits, excursion shading, boxes.
  t.ok(count(OPS.constructPath) >= 3 + 3, `paths drawn (${count(OPS.constructPath)})`)
  t.ok(count(OPS.stroke) >= 3, 'curves stroked')
  t.equal(count(OPS.paintImageXObject), 0, 'no raster image')
})

t.test('post-close evidence and an early end are printed apart from the verdict', async (t) => {
  const input = sampleReportInput()
  const r = input.readings[3]
  input.postClose = [{ ...r, seq: 9001, tempCentiC: 1234 }]
  input.endsEarly = 'logger removed at the hub'
  const { text } = await pdfText(new Uint8Array(await renderReportPdf(input)))
  const flat = text.replace(/\s+/g, ' ')
  t.match(flat, /Evidence ends early/)
  t.match(flat, /logger removed at the hub/)
  t.match(flat, /Post-close evidence \(1\) — not part of the verdict/)
  t.match(flat, /9001/)
  t.match(flat, /12\.34 °C/)
  const none = await pdfText(new Uint8Array(await renderReportPdf(sampleReportInput())))
  t.notMatch(none.text, /Post-close evidence/, 'no section without post-close readings')
})

t.test(
  'hostile and non-Latin text: drawn as written where the font can, marked visibly where not, never garbled',
  async (t) => {
    const input = sampleReportInput()
    input.shipment.product = 'Vaccine\u0000 <hidden> \u202eexe.gpj ワクチン'
    input.shipment.route = { from: 'Plzeň', to: 'Łódź\u001b[2J' }
    input.alarms = [
      {
        alarmId: 'a',
        kind: 'excursion_alarm',
        deviceId: 'logger-a1',
        severity: 'major',
        message: 'above 8.00 °C',
        raisedAt: 0,
        endedAt: null,
        state: 'acknowledged',
        ack: { by: 'olivia', at: 0, reason: 'door', comment: 'moved\u0000to QA — ok' },
      },
    ] as never
    const embedded = (await pdfText(new Uint8Array(await renderReportPdf(input)))).text
    t.match(embedded, 'Plzeň', 'Latin Extended prints as written (embedded Unicode font)')
    t.match(embedded, 'Łódź[U+001B][2J', 'the escape sequence is shown, not obeyed')
    t.match(
      embedded,
      'Vaccine[U+0000] <hidden> [U+202E]exe.gpj [U+30EF][U+30AF][U+30C1][U+30F3]',
      'NUL and bidi override visible; glyphs the font lacks as code points',
    )
    t.match(embedded, 'moved[U+0000]to QA — ok', 'the comment after a NUL is still there')
    t.match(embedded, /printed as its Unicode code point/, 'the report says so')

    const standard = (await pdfText(new Uint8Array(await renderReportPdf(input, { standardFonts: true })))).text
    t.match(standard, '[U+0141]ód[U+017A]', 'the Helvetica fallback marks what WinAnsi lacks')
    t.match(standard, 'Plze[U+0148]')
    t.match(standard, /Unicode report font not installed/)

    const clean = (await pdfText(new Uint8Array(await renderReportPdf(sampleReportInput())))).text
    t.notMatch(clean, /code point/, 'no footnote when nothing was marked')
  },
)

t.test(
  'the rule profile: built-in by its shipped hash, or whose custom profile, and the rules that decided the verdict',
  async (t) => {
    const input = sampleReportInput()
    const builtin = (await pdfText(new Uint8Array(await renderReportPdf(input)))).text
    t.match(builtin, 'built-in profile refrigerated-2-8 v1, hash matches the built-in')
    t.match(builtin, 'Rules that decided the verdict')
    t.match(builtin, 'MKT limit: at most 8.00 °C')
    t.match(builtin, 'hard limit freezing: any reading with T ≤ 0.00 °C fails at once')

    const lax = { ...input.shipment.profile, hardLimits: [], mktMaxCentiC: null }
    const fake = sampleReportInput()
    fake.shipment.profile = lax
    fake.shipment.profileHash = profileHash(lax as never)
    t.match(
      (await pdfText(new Uint8Array(await renderReportPdf(fake)))).text,
      /NOT the built-in: claims built-in id refrigerated-2-8 v1 with another hash \(defined by olivia\s+at 2026-11-20T05:50:00Z\)/,
    )

    const own = sampleReportInput()
    own.shipment.profile = { ...lax, id: 'acme-insulin' }
    own.shipment.profileHash = profileHash(own.shipment.profile as never)
    const text = (await pdfText(new Uint8Array(await renderReportPdf(own)))).text
    t.match(text, /CUSTOM profile, defined by olivia\s+at 2026-11-20T05:50:00Z/)
    t.match(text, 'MKT limit: none')
  },
)

t.test('a report a QA person signs: deciding reason first, figures per logger, page x of y, round ticks', async (t) => {
  const input = sampleReportInput()
  input.result = {
    ...input.result,
    reasons: [
      'mean kinetic temperature 25.40 °C is above the limit 25.00 °C',
      'zone "above-8": an excursion within its allowance',
    ],
    deciding: 1,
    loggers: [{ deviceId: input.shipment.devices[0], minCentiC: 212, maxCentiC: 931, meanCentiC: 548, readings: 42 }],
  }
  const { pages, text } = await pdfText(new Uint8Array(await renderReportPdf(input)))
  const flat = text.replace(/\s+/g, ' ')
  t.match(
    flat,
    /Decided by: • mean kinetic temperature 25\.40 °C is above the limit 25\.00 °C Also noted \(not deciding\): • zone "above-8"/,
    'the deciding reason first, the other apart',
  )
  t.match(
    flat,
    new RegExp(`${input.shipment.devices[0]} 2\\.12 °C 9\\.31 °C 5\\.48 °C 42`),
    'min, max, mean per logger',
  )
  for (let p = 1; p <= pages; p++) t.match(flat, `page ${p} of ${pages}`, `page ${p} numbered`)
})

t.test('round ticks fall on round values and never more than six', async (t) => {
  const { roundTicks } = await import('./pdf.ts')
  t.same(roundTicks(-37, 1062, [50, 100, 200, 500, 1000]), [0, 200, 400, 600, 800, 1000])
  const H = 3_600_000
  const t0 = Date.UTC(2026, 0, 1, 7, 32)
  const ticks = roundTicks(
    t0,
    t0 + 9 * H,
    [15, 30, 60, 120, 180, 360].map((m) => m * 60_000),
  )
  t.same(
    ticks.map((x) => new Date(x).toISOString().slice(11, 16)),
    ['08:00', '10:00', '12:00', '14:00', '16:00'],
    'whole hours on a 2 h grid, not 07:32',
  )
  t.same(roundTicks(0, 0, [50]), [0])
})

t.test('each alarm lists the notifications sent or failed for it', async (t) => {
  const input = sampleReportInput()
  input.alarms = [
    {
      alarmId: 'a',
      kind: 'excursion_alarm',
      deviceId: 'logger-a1',
      severity: 'major',
      message: 'above 8.00 °C',
      raisedAt: 0,
      endedAt: null,
      state: 'open',
      ack: null,
      notifications: [
        {
          channel: 'mail',
          to: 'qa@example.com',
          at: Date.UTC(2026, 10, 20, 6, 5),
          status: 'sent',
          attempts: 1,
          level: 0,
        },
        {
          channel: 'pager',
          to: 'https://hooks.example.com/cp',
          at: Date.UTC(2026, 10, 20, 6, 6),
          status: 'failed',
          attempts: 5,
          level: 0,
          error: 'gave up after 5 attempt(s): HTTP 500 from the receiver',
        },
        {
          channel: 'mail',
          to: 'lead@example.com',
          at: Date.UTC(2026, 10, 20, 6, 20),
          status: 'sent',
          attempts: 2,
          level: 1,
        },
      ],
    },
  ]
  const { text } = await pdfText(new Uint8Array(await renderReportPdf(input)))
  t.match(text, 'Notified: mail to qa@example.com at 2026-11-20T06:05:00Z, sent (1 attempt)')
  t.match(
    text,
    /Notified: pager to https:\/\/hooks\.example\.com\/cp at 2026-11-20T06:06:00Z, FAILED after 5 attempts: gave up after 5 attempt\(s\):\s+HTTP 500/,
    'a failure says so, and why',
  )
  t.match(text, 'Escalation 1: mail to lead@example.com at 2026-11-20T06:20:00Z, sent (2 attempts)')
})
