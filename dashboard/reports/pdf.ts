/**
 * The PDF compliance report of one shipment (pdfkit): verdict, the temperature
 * curve drawn as vector paths over the allowed range band with excursions
 * shaded and gaps left as gaps, the excursion table, MKT and time in/above/
 * below range, the rule profile and its hash, the devices and their key
 * fingerprints, the alarms and their acknowledgements, and the signed
 * checkpoint (and evidence bundle hash) that anchor the evidence. Pure apart
 * from producing bytes.
 */
import PDFDocument from 'pdfkit'
import type { ReportAlarm, ReportDevice, ReportExcursion, ReportInput, ReportReading, ReportResult } from './types.ts'
import { centiToDecimal } from './csv.ts'
import { describeRule } from './rule-text.ts'
import { reportFonts, type ReportFonts } from './pdf-text.ts'
import { showUnsafe } from '../common/unsafe-text.ts'
import { profileOrigin, profileRules, validateProfile } from '../compliance/index.ts'
// One duration rule for the UI and the PDF ("0 s", "3 min", "2 h 05 min"): a pure formatter, shared.
import { formatDuration } from '../common/format.ts'

export { formatDuration }

const MARGIN = 50
const PAGE_W = 595.28 // A4, points
const CONTENT_W = PAGE_W - 2 * MARGIN
const COLORS = ['#1f6feb', '#8250df', '#bf8700', '#0a7d6e', '#cf222e', '#57606a']

const iso = (ms: number | null) => (ms === null ? '—' : new Date(ms).toISOString().replace('.000Z', 'Z'))
const degC = (c: number | null) => (c === null ? '—' : `${centiToDecimal(c)} °C`)

const DAY_MS = 86_400_000
/** Tick steps in centi-°C: 0.5, 1, 2, 5, 10, 20, 50 °C. */
const TEMP_STEPS = [50, 100, 200, 500, 1000, 2000, 5000]
/** Tick steps in ms: 15 and 30 min; 1, 2, 3, 6, 12 h; 1, 2, 7, 14 days. */
const TIME_STEPS = [15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080, 20160].map((m) => m * 60_000)

/**
 * Round tick values inside [lo, hi]: the smallest step from `steps` that gives at most 6 ticks,
 * each a multiple of the step (UTC midnight-aligned for times, since epoch 0 is a UTC midnight).
 */
export function roundTicks(lo: number, hi: number, steps: readonly number[]): number[] {
  const step =
    steps.find((s) => Math.floor(hi / s) - Math.ceil(lo / s) + 1 <= 6) ??
    steps[steps.length - 1] * Math.ceil((hi - lo) / (6 * steps[steps.length - 1]))
  const out: number[] = []
  for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) out.push(v)
  return out
}

/** Splits a device's readings where the interval exceeds `maxGapMs`: a gap is drawn as a gap, never interpolated. */
export function segments(readings: readonly ReportReading[], maxGapMs: number): ReportReading[][] {
  const out: ReportReading[][] = []
  let cur: ReportReading[] = []
  for (const r of readings) {
    if (r.flags.includes('SENSOR_FAULT')) {
      // A faulty probe's value is not a temperature: it breaks the curve.
      if (cur.length) out.push(cur)
      cur = []
      continue
    }
    if (cur.length && r.deviceTimeMs - cur[cur.length - 1].deviceTimeMs > maxGapMs) {
      out.push(cur)
      cur = []
    }
    cur.push(r)
  }
  if (cur.length) out.push(cur)
  return out
}

function profileGapMs(profile: Record<string, unknown>): number {
  const g = profile.maxDataGapMs
  return typeof g === 'number' && g > 0 ? g : 30 * 60_000
}

function heading(doc: PDFKit.PDFDocument, f: ReportFonts, text: string): void {
  if (doc.y > 720) doc.addPage()
  doc.moveDown(0.8).font(f.bold).fontSize(12).fillColor('#111').text(text, MARGIN, doc.y).moveDown(0.3)
  doc.font(f.regular).fontSize(9).fillColor('#222')
}

function keyValues(doc: PDFKit.PDFDocument, f: ReportFonts, rows: [string, string][]): void {
  for (const [k, v] of rows) {
    const y = doc.y
    doc.font(f.bold).text(k, MARGIN, y, { width: 130 })
    doc.font(f.regular).text(v, MARGIN + 135, y, { width: CONTENT_W - 135 })
    doc.moveDown(0.15)
  }
}

/** A table column: its title, its width in points, and the text of its cell in a row. */
interface Column<T> {
  title: string
  width: number
  cell: (row: T) => string
}

/** A header row and one row per item, each ruled off below; rows that do not fit open a new page. */
function table<T>(doc: PDFKit.PDFDocument, f: ReportFonts, cols: readonly Column<T>[], rows: readonly T[]): void {
  const drawRow = (cells: string[], bold: boolean) => {
    if (doc.y > 760) doc.addPage()
    const y = doc.y
    let x = MARGIN
    let h = 0
    doc.font(bold ? f.bold : f.regular).fontSize(8)
    cells.forEach((c, i) => {
      h = Math.max(h, doc.heightOfString(c, { width: cols[i].width - 4 }))
      doc.text(c, x, y, { width: cols[i].width - 4 })
      x += cols[i].width
    })
    doc.y = y + h + 3
    doc
      .moveTo(MARGIN, doc.y - 1.5)
      .lineTo(MARGIN + CONTENT_W, doc.y - 1.5)
      .lineWidth(0.3)
      .strokeColor('#ccc')
      .stroke()
  }
  drawRow(
    cols.map((c) => c.title),
    true,
  )
  for (const r of rows)
    drawRow(
      cols.map((c) => c.cell(r)),
      false,
    )
  doc.font(f.regular).fontSize(9)
}

type LoggerFigures = NonNullable<ReportResult['loggers']>[number]

/** Post-close readings listed before "… and N more". */
const POST_CLOSE_LISTED = 200

const POST_CLOSE_COLUMNS: Column<ReportReading>[] = [
  { title: 'Device', width: 100, cell: (r) => r.deviceId },
  { title: 'Seq', width: 50, cell: (r) => String(r.seq) },
  { title: 'Device time', width: 130, cell: (r) => iso(r.deviceTimeMs) },
  { title: 'Received', width: 130, cell: (r) => iso(r.receivedAt) },
  { title: 'Temp.', width: 80, cell: (r) => degC(r.tempCentiC) },
]

const LOGGER_COLUMNS: Column<LoggerFigures>[] = [
  { title: 'Logger', width: 140, cell: (l) => l.deviceId },
  { title: 'Minimum', width: 85, cell: (l) => degC(l.minCentiC) },
  { title: 'Maximum', width: 85, cell: (l) => degC(l.maxCentiC) },
  { title: 'Mean (time-weighted)', width: 110, cell: (l) => degC(l.meanCentiC) },
  { title: 'Readings', width: 75, cell: (l) => String(l.readings) },
]

/** The excursion's rule is said in the words of the shipment's profile. */
function excursionColumns(profile: ReportInput['shipment']['profile']): Column<ReportExcursion>[] {
  return [
    { title: 'Device', width: 80, cell: (x) => x.deviceId ?? 'shipment' },
    { title: 'Kind', width: 80, cell: (x) => describeRule(profile, x.ruleId) ?? x.kind },
    { title: 'Start', width: 95, cell: (x) => iso(x.startAt) },
    { title: 'End', width: 95, cell: (x) => (x.endAt === null ? 'ongoing' : iso(x.endAt)) },
    { title: 'Duration', width: 70, cell: (x) => formatDuration(x.durationMs) },
    { title: 'Peak', width: 75, cell: (x) => degC(x.peakCentiC) },
  ]
}

const DEVICE_COLUMNS: Column<ReportDevice>[] = [
  { title: 'Device', width: 90, cell: (d) => d.deviceId },
  { title: 'Model', width: 70, cell: (d) => d.model ?? '—' },
  { title: 'Key fingerprint', width: 110, cell: (d) => d.fingerprint },
  {
    title: 'Calibration',
    width: 125,
    cell: (d) => (d.calibration ? `${d.calibration.certificate}, due ${iso(d.calibration.dueAt).slice(0, 10)}` : '—'),
  },
  { title: 'State', width: 100, cell: (d) => (d.revoked ? 'revoked' : 'active') },
]

function chart(doc: PDFKit.PDFDocument, input: ReportInput): void {
  const { readings, shipment, result } = input
  const x0 = MARGIN + 40,
    y0 = doc.y + 5,
    w = CONTENT_W - 40,
    h = 200
  const valid = readings.filter((r) => !r.flags.includes('SENSOR_FAULT'))
  const tMin = Math.min(shipment.startAt, ...readings.map((r) => r.deviceTimeMs))
  const tMax = Math.max(shipment.closedAt ?? 0, ...readings.map((r) => r.deviceTimeMs), tMin + 60_000)
  const temps = valid.map((r) => r.tempCentiC)
  const { minCentiC, maxCentiC } = shipment.range
  const bounds = [...temps, ...(minCentiC !== null ? [minCentiC] : []), ...(maxCentiC !== null ? [maxCentiC] : [])]
  let vMin = bounds.length ? Math.min(...bounds) : 0
  let vMax = bounds.length ? Math.max(...bounds) : 1000
  const pad = Math.max(100, Math.round((vMax - vMin) * 0.1))
  vMin -= pad
  vMax += pad
  const X = (t: number) => x0 + ((t - tMin) / (tMax - tMin)) * w
  const Y = (v: number) => y0 + h - ((v - vMin) / (vMax - vMin)) * h

  doc.save()
  doc.rect(x0, y0, w, h).lineWidth(0.5).strokeColor('#888').stroke()
  // The allowed range as a band.
  const bandTop = maxCentiC !== null ? Y(maxCentiC) : y0
  const bandBottom = minCentiC !== null ? Y(minCentiC) : y0 + h
  doc
    .rect(x0, bandTop, w, bandBottom - bandTop)
    .fillOpacity(0.12)
    .fill('#2da44e')
    .fillOpacity(1)
  for (const lim of [minCentiC, maxCentiC]) {
    if (lim === null) continue
    doc
      .moveTo(x0, Y(lim))
      .lineTo(x0 + w, Y(lim))
      .dash(3, { space: 2 })
      .lineWidth(0.6)
      .strokeColor('#2da44e')
      .stroke()
      .undash()
    doc
      .fontSize(7)
      .fillColor('#2da44e')
      .text(degC(lim), x0 + w - 45, Y(lim) - 9, { width: 45, align: 'right' })
  }
  // Excursions shaded.
  for (const x of result.excursions) {
    const a = X(Math.max(tMin, x.startAt))
    const b = X(Math.min(tMax, x.endAt ?? tMax))
    doc
      .rect(a, y0, Math.max(1, b - a), h)
      .fillOpacity(0.15)
      .fill('#cf222e')
      .fillOpacity(1)
  }
  // Axis labels at round values (whole or half degrees, whole hours or days), with faint grid lines.
  doc.fontSize(7).fillColor('#444')
  for (const v of roundTicks(vMin, vMax, TEMP_STEPS)) {
    doc
      .moveTo(x0, Y(v))
      .lineTo(x0 + w, Y(v))
      .lineWidth(0.2)
      .strokeColor('#ddd')
      .stroke()
    doc.fillColor('#444').text(degC(v), MARGIN - 5, Y(v) - 4, { width: 42, align: 'right' })
  }
  const timeTicks = roundTicks(tMin, tMax, TIME_STEPS)
  const dayTicks = timeTicks.length > 0 && timeTicks[1] - timeTicks[0] >= DAY_MS
  for (const tt of timeTicks) {
    doc.text(dayTicks ? iso(tt).slice(5, 10) : iso(tt).slice(5, 16).replace('T', ' '), X(tt) - 30, y0 + h + 3, {
      width: 60,
      align: 'center',
    })
  }
  // One vector path per device segment.
  const gap = profileGapMs(shipment.profile)
  shipment.devices.forEach((deviceId, di) => {
    const color = COLORS[di % COLORS.length]
    const own = readings.filter((r) => r.deviceId === deviceId).sort((a, b) => a.deviceTimeMs - b.deviceTimeMs)
    for (const seg of segments(own, gap)) {
      if (seg.length === 1) {
        doc.circle(X(seg[0].deviceTimeMs), Y(seg[0].tempCentiC), 1).fill(color)
        continue
      }
      doc.moveTo(X(seg[0].deviceTimeMs), Y(seg[0].tempCentiC))
      for (const r of seg.slice(1)) doc.lineTo(X(r.deviceTimeMs), Y(r.tempCentiC))
      doc.lineWidth(0.9).strokeColor(color).stroke()
    }
    doc.rect(x0 + di * 110, y0 + h + 16, 8, 8).fill(color)
    doc
      .fillColor('#222')
      .fontSize(8)
      .text(deviceId, x0 + di * 110 + 11, y0 + h + 16, { width: 95 })
  })
  doc.restore()
  doc.x = MARGIN
  doc.y = y0 + h + 32
}

/**
 * Alarms and their acknowledgements: EU GDP 9.2 wants deviations from the
 * storage conditions recorded and handled; this is who acknowledged each, when,
 * why, and each notification sent or failed for it (e-mail, webhook, escalation).
 * Comments are drawn as wrapped text (pdfkit draws glyphs, no markup).
 */
function alarmsSection(doc: PDFKit.PDFDocument, f: ReportFonts, alarms: readonly ReportAlarm[]): void {
  const acked = alarms.filter((a) => a.ack).length
  heading(doc, f, `Alarms and acknowledgements (${alarms.length}${alarms.length ? `, ${acked} acknowledged` : ''})`)
  if (alarms.length === 0) {
    doc.text('None.')
    return
  }
  for (const a of alarms) {
    if (doc.y > 730) doc.addPage()
    const status = a.state === 'acknowledged' ? 'acknowledged' : 'open (not acknowledged)'
    const ended = a.endedAt === null ? '' : `, ended ${iso(a.endedAt)}`
    doc
      .font(f.bold)
      .fontSize(9)
      .fillColor('#111')
      .text(
        `${a.kind.replace(/_/g, ' ')}${a.severity ? ` [${a.severity}]` : ''} · ${a.deviceId ?? 'shipment'} · raised ${iso(a.raisedAt)}${ended} · ${status}`,
        MARGIN,
        doc.y,
        { width: CONTENT_W },
      )
    doc
      .font(f.regular)
      .fontSize(8.5)
      .fillColor('#222')
      .text(a.message, MARGIN + 10, doc.y, { width: CONTENT_W - 10 })
    if (a.ack) {
      doc.text(`Acknowledged by ${a.ack.by} at ${iso(a.ack.at)}. Reason: ${a.ack.reason}`, MARGIN + 10, doc.y, {
        width: CONTENT_W - 10,
      })
      if (a.ack.comment)
        doc.fillColor('#444').text(`Comment: ${a.ack.comment}`, MARGIN + 10, doc.y, { width: CONTENT_W - 10 })
    }
    for (const n of a.notifications ?? []) {
      const what = n.level > 0 ? `Escalation ${n.level}` : 'Notified'
      const outcome =
        n.status === 'sent'
          ? `sent (${n.attempts} attempt${n.attempts === 1 ? '' : 's'})`
          : `FAILED after ${n.attempts} attempt${n.attempts === 1 ? '' : 's'}: ${n.error ?? ''}`
      doc
        .fillColor(n.status === 'sent' ? '#444' : '#a00')
        .text(`${what}: ${n.channel} to ${n.to} at ${iso(n.at)}, ${outcome}`, MARGIN + 10, doc.y, {
          width: CONTENT_W - 10,
        })
    }
    doc.moveDown(0.4)
  }
  doc.x = MARGIN
  doc.font(f.regular).fontSize(9).fillColor('#222')
}

/** "Received by … meaning … reason … at": the receipt's electronic signature (docs/BUNDLE.md, "The receipt"). */
function receiveLines(input: ReportInput): [string, string][] {
  const r = input.receipt
  if (!r) return []
  const sig = r.signature
  return [
    [
      'Received by',
      `${sig.by}, meaning "${sig.meaning}", reason: ${sig.reason}, received ${iso(r.receivedAt)}, signed ${iso(sig.at)} (password re-entered)`,
    ],
  ]
}

/** "Closed by … meaning … reason … at": the close's electronic signature (docs/BUNDLE.md, "The close signature"). */
function closeLines(input: ReportInput): [string, string][] {
  const c = input.close
  if (!c) return []
  const sig = c.signature
  if (!sig) return [['Closed by', `${c.by} (no electronic signature)`]]
  const lines: [string, string][] = [
    [
      'Closed by',
      `${sig.by}, meaning "${sig.meaning}", reason: ${sig.reason}, at ${iso(sig.at)} (password re-entered)`,
    ],
  ]
  if (sig.override)
    lines.push([
      'Closed over alarms',
      `${sig.override.alarms.length} open critical alarm(s) overridden: ${sig.override.reason}`,
    ])
  return lines
}

/**
 * Final once closed: readings logged above a close anchor with device times in
 * the window are listed apart, for QA; the verdict above does not include them.
 */
function postCloseSection(doc: PDFKit.PDFDocument, f: ReportFonts, input: ReportInput): void {
  const list = input.postClose ?? []
  if (input.endsEarly) {
    heading(doc, f, 'Evidence ends early')
    doc.text(`Confirmed when the shipment was closed: ${input.endsEarly}`)
  }
  if (list.length === 0) return
  heading(doc, f, `Post-close evidence (${list.length}) — not part of the verdict`)
  doc.text(
    "These readings were logged after the shipment was closed (above each logger's close anchor) with device times inside the closed window. They are authentic log entries, shown for QA; the verdict and the evidence bundle's chains do not include them.",
  )
  table(doc, f, POST_CLOSE_COLUMNS, list.slice(0, POST_CLOSE_LISTED))
  if (list.length > POST_CLOSE_LISTED)
    doc.text(`… and ${list.length - POST_CLOSE_LISTED} more (see the evidence bundle's postClose list).`)
}

/**
 * The rule profile: built-in (by the hash ColdProof ships) or whose custom
 * profile, and the rules that decided the verdict, as the offline verifier
 * prints them (docs/BUNDLE.md, "Built-in or custom profile").
 */
function ruleProfileSection(doc: PDFKit.PDFDocument, f: ReportFonts, shipment: ReportInput['shipment']): void {
  heading(doc, f, 'Rule profile')
  const p = shipment.profile
  const origin = profileOrigin(p, shipment.profileHash)
  const when = shipment.createdAt === undefined ? '' : ` at ${iso(shipment.createdAt)}`
  const originText =
    origin.kind === 'builtin'
      ? `built-in profile ${origin.id} v${origin.version}, hash matches the built-in`
      : origin.kind === 'custom'
        ? `CUSTOM profile, defined by ${shipment.createdBy}${when}`
        : `NOT the built-in: claims built-in id ${origin.id} v${origin.version} with another hash (defined by ${shipment.createdBy}${when})`
  keyValues(doc, f, [
    ['Profile', `${String(p.name ?? p.id ?? 'custom')} (${String(p.id ?? '—')} v${String(p.version ?? '—')})`],
    ['Origin', originText],
    ['Profile SHA-256', shipment.profileHash],
  ])
  let rules: string[] = []
  try {
    rules = profileRules(validateProfile(p))
  } catch {
    rules = ['(the logged profile is not a valid rule profile)']
  }
  doc.moveDown(0.2).font(f.bold).fontSize(9).text('Rules that decided the verdict', MARGIN, doc.y)
  doc.font(f.regular).fontSize(8.5)
  for (const r of rules) doc.text(`• ${r}`, MARGIN + 10, doc.y, { width: CONTENT_W - 10 })
  doc.x = MARGIN
  doc.fontSize(9)
}

/** Renders the report; resolves with the PDF bytes. */
export function renderReportPdf(input: ReportInput, opts: { standardFonts?: boolean } = {}): Promise<Buffer> {
  const { shipment, result } = input
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    bufferPages: true,
    info: {
      Title: `ColdProof compliance report ${shipment.shipmentId}`,
      Author: 'ColdProof',
      Subject: showUnsafe(`Shipment ${shipment.shipmentId}: ${shipment.product}`),
      CreationDate: new Date(input.generatedAt),
    },
  })
  const chunks: Buffer[] = []
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (c: Buffer) => chunks.push(c))
    doc.on('end', () => resolve(Buffer.concat(chunks)))
    doc.on('error', reject)
  })
  const f = reportFonts(doc, { standard: opts.standardFonts })
  // Every string reaches the page through these two, so none is drawn unfiltered (pdf-text.ts).
  const drawText = doc.text.bind(doc),
    measure = doc.heightOfString.bind(doc)
  doc.text = ((s: unknown, ...rest: unknown[]) =>
    (drawText as (...a: unknown[]) => PDFKit.PDFDocument)(f.safe(String(s)), ...rest)) as typeof doc.text
  doc.heightOfString = ((s: unknown, o?: PDFKit.Mixins.TextOptions) =>
    measure(f.safe(String(s)), o)) as typeof doc.heightOfString

  doc.font(f.bold).fontSize(16).fillColor('#111').text('Cold-chain compliance report')
  doc
    .font(f.regular)
    .fontSize(10)
    .fillColor('#444')
    .text(`Shipment ${shipment.shipmentId} · generated ${iso(input.generatedAt)}`)
  doc.moveDown(0.6)

  const verdict = result.verdict.toUpperCase()
  const vColor = /^PASS/.test(verdict) ? '#1a7f37' : /^FAIL/.test(verdict) ? '#cf222e' : '#9a6700'
  const vy = doc.y
  doc.rect(MARGIN, vy, CONTENT_W, 34).fill(vColor)
  doc
    .font(f.bold)
    .fontSize(18)
    .fillColor('#fff')
    .text(`Verdict: ${verdict}`, MARGIN + 10, vy + 9)
  doc.y = vy + 40
  doc.x = MARGIN
  doc.font(f.regular).fontSize(9).fillColor('#222')
  const reasons = result.reasons ?? []
  const deciding = Math.min(result.deciding ?? 0, reasons.length)
  if (deciding > 0) {
    doc.font(f.bold).text(deciding === 1 ? 'Decided by:' : `Decided by (${deciding}):`)
    doc.font(f.regular)
    for (const reason of reasons.slice(0, deciding)) doc.text(`• ${reason}`)
  }
  if (reasons.length > deciding) {
    doc
      .moveDown(0.2)
      .font(f.bold)
      .text(deciding > 0 ? 'Also noted (not deciding):' : 'Noted:')
    doc.font(f.regular)
    for (const reason of reasons.slice(deciding)) doc.text(`• ${reason}`)
  }

  heading(doc, f, 'Shipment')
  keyValues(doc, f, [
    ['Product', shipment.product],
    ['Route', `${shipment.route.from} -> ${shipment.route.to}`],
    ['SSCC', shipment.gs1?.sscc ?? '—'],
    ['GTIN / lot / expiry', shipment.gs1 ? `${shipment.gs1.gtin} / ${shipment.gs1.lot} / ${shipment.gs1.expiry}` : '—'],
    ['Window', `${iso(shipment.startAt)} to ${shipment.closedAt === null ? 'open' : iso(shipment.closedAt)}`],
    [
      'Created by',
      shipment.createdAt === undefined ? shipment.createdBy : `${shipment.createdBy} at ${iso(shipment.createdAt)}`,
    ],
    ...(input.loggers ?? []).map((l): [string, string] => [
      `Logger ${l.deviceId}`,
      `counts from ${iso(l.from)}${l.until === null ? '' : ` to ${iso(l.until)} (removed)`}`,
    ]),
    ...receiveLines(input),
    ...closeLines(input),
  ])

  heading(doc, f, 'Temperature')
  keyValues(doc, f, [
    ['Allowed range', `${degC(shipment.range.minCentiC)} to ${degC(shipment.range.maxCentiC)}`],
    ['Mean kinetic temp.', `${degC(result.mktCentiC)} (activation energy 83.144 kJ/mol)`],
    ['Time in range', formatDuration(result.timeInRangeMs)],
    ['Time above range', formatDuration(result.timeAboveMs)],
    ['Time below range', formatDuration(result.timeBelowMs)],
    [
      'Readings',
      `${input.readings.length} (${input.readings.filter((r) => r.late).length} received late, ${input.readings.filter((r) => r.flags.includes('SENSOR_FAULT')).length} sensor faults)`,
    ],
  ])
  if (result.loggers?.length) {
    doc.moveDown(0.3)
    table(doc, f, LOGGER_COLUMNS, result.loggers)
  }
  chart(doc, input)

  heading(doc, f, `Excursions (${result.excursions.length})`)
  if (result.excursions.length === 0) doc.text('None.')
  else table(doc, f, excursionColumns(shipment.profile), result.excursions)

  alarmsSection(doc, f, input.alarms ?? [])
  postCloseSection(doc, f, input)

  ruleProfileSection(doc, f, shipment)

  heading(doc, f, 'Devices')
  table(doc, f, DEVICE_COLUMNS, input.devices)

  heading(doc, f, 'Evidence')
  keyValues(doc, f, [
    [
      'Ledger checkpoint',
      input.checkpoint ? `${input.checkpoint.origin}, tree size ${input.checkpoint.size}` : 'no checkpoint yet',
    ],
    ['Checkpoint root', input.checkpoint?.rootHash ?? '—'],
    [
      'Evidence bundle SHA-256',
      input.bundleSha256 === null
        ? `not available (${input.bundleNote ?? 'evidence bundle module not installed'})`
        : input.bundleBuiltAt
          ? `${input.bundleSha256} (built at tree size ${input.bundleBuiltAt.size}, ${iso(input.bundleBuiltAt.at).replace('T', ' ').replace('Z', ' UTC')})`
          : input.bundleSha256,
    ],
  ])
  if (input.bundleSha256 !== null && shipment.closedAt === null) {
    doc
      .moveDown(0.3)
      .font(f.bold)
      .fontSize(8.5)
      .fillColor('#9a6700')
      .text(
        'This shipment is open: its evidence bundle changes as readings arrive, so a bundle downloaded later has another hash. ' +
          'Until the shipment is closed its bundle is provisional (it verifies as NOT VERIFIED, SHIPMENT_NOT_CLOSED): verify the bundle downloaded after closing; this hash names the bundle as it was when this report was made.',
        MARGIN,
        doc.y,
        { width: CONTENT_W },
      )
    doc.font(f.regular)
  }
  doc
    .moveDown(0.5)
    .fontSize(8)
    .fillColor('#555')
    .text(
      'Every reading is signed by its logger (Ed25519) and chained to its predecessor; the ledger entries holding them are ' +
        'committed to the signed checkpoint above. Verify the evidence bundle offline with `coldproof verify <bundle>` ' +
        'against the ledger key you trust; this report is a summary of that evidence, not a substitute for it.',
      MARGIN,
      doc.y,
      { width: CONTENT_W },
    )
  if (f.replaced) {
    doc
      .moveDown(0.3)
      .fontSize(8)
      .fillColor('#9a6700')
      .text(
        `Some text holds characters that ${f.embedded ? 'the report font (Liberation Sans) has no glyph for' : 'the standard PDF font cannot show (Unicode report font not installed)'}, or control or bidirectional formatting characters: each is printed as its Unicode code point, e.g. [U+202E].`,
        MARGIN,
        doc.y,
        { width: CONTENT_W },
      )
  }

  // "Page x of y" on every page, once the page count is known (pages are buffered).
  const range = doc.bufferedPageRange()
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i)
    const bottom = doc.page.margins.bottom
    doc.page.margins.bottom = 0 // writing inside the margin must not open a new page
    doc
      .font(f.regular)
      .fontSize(7.5)
      .fillColor('#666')
      .text(
        `ColdProof report · shipment ${shipment.shipmentId} · page ${i - range.start + 1} of ${range.count}`,
        MARGIN,
        doc.page.height - MARGIN + 15,
        { width: CONTENT_W, align: 'center', lineBreak: false },
      )
    doc.page.margins.bottom = bottom
  }
  doc.end()
  return done
}
