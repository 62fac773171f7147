/**
 * CSV of a shipment's readings (RFC 4180: CRLF line ends, fields with a comma,
 * quote or line break are quoted and quotes doubled).
 *
 * CSV injection (OWASP "CSV Injection"): a spreadsheet evaluates a text cell
 * that starts with = + - @ (or tab / carriage return) as a formula, so such
 * text cells get a leading apostrophe. Numbers are written as plain numbers;
 * "-3.50" is a number to a spreadsheet, never a formula.
 */
import type { ReportReading } from './types.ts'

export const CSV_HEADER = [
  'shipment_id',
  'device_id',
  'seq',
  'device_time_iso',
  'device_time_ms',
  'received_at_iso',
  'temp_c',
  'flags',
  'late',
  'delay_ms',
  'late_after_ms',
] as const

/**
 * What the columns mean, as '#' lines before the header (pandas comment='#',
 * csv-parse comment: '#'). Written without commas, so a spreadsheet shows each
 * note in one cell. Device time and receive time run on different clocks (the
 * demo's loggers replay the last day on a fast simulated clock), so their
 * difference is not how long a reading waited: delay_ms is.
 */
export const CSV_NOTES = [
  '# ColdProof readings export. Lines starting with # are notes; the header row follows them.',
  "# device_time_iso / device_time_ms: when the logger measured the reading - by the logger's own clock (demo loggers run a fast simulated clock that replays the last day).",
  "# received_at_iso: when the ledger stored the reading - by the server's clock. Its difference from device_time is NOT the delay when the two clocks differ.",
  "# delay_ms: how long the reading waited in the logger's buffer = (received_at - device_time) minus the fleet's usual offset (the smallest among the last 256 readings received); empty when unknown.",
  "# late: the word late when delay_ms exceeded late_after_ms (two sampling intervals of the shipment's profile) - the same rule and the same marks as the dashboard and the PDF report.",
] as const

export interface CsvOptions {
  /** The shipment's lateness threshold (FleetMonitor.lateAfterMs). */
  lateAfterMs?: number
}

/** A text cell, neutralised against formula injection and quoted when needed. */
export function csvText(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
}

/** Centi-degrees as a decimal string with two places, exactly (no floating point). */
export function centiToDecimal(centi: number): string {
  const sign = centi < 0 ? '-' : ''
  const a = Math.abs(centi)
  return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`
}

export function readingsCsv(shipmentId: string, readings: readonly ReportReading[], opts: CsvOptions = {}): string {
  const lines: string[] = [...CSV_NOTES, CSV_HEADER.join(',')]
  for (const r of readings) {
    lines.push(
      [
        csvText(shipmentId),
        csvText(r.deviceId),
        String(r.seq),
        new Date(r.deviceTimeMs).toISOString(),
        String(r.deviceTimeMs),
        new Date(r.receivedAt).toISOString(),
        centiToDecimal(r.tempCentiC),
        csvText(r.flags.join('|')),
        r.late ? 'late' : '',
        typeof r.delayMs === 'number' ? String(Math.round(r.delayMs)) : '',
        opts.lateAfterMs !== undefined ? String(opts.lateAfterMs) : '',
      ].join(','),
    )
  }
  return lines.join('\r\n') + '\r\n'
}
