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

export const CSV_HEADER = ['shipment_id', 'device_id', 'seq', 'device_time_iso', 'device_time_ms', 'received_at_iso', 'temp_c', 'flags', 'late'] as const

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

export function readingsCsv(shipmentId: string, readings: readonly ReportReading[]): string {
  const lines = [CSV_HEADER.join(',')]
  for (const r of readings) {
    lines.push([
      csvText(shipmentId),
      csvText(r.deviceId),
      String(r.seq),
      new Date(r.deviceTimeMs).toISOString(),
      String(r.deviceTimeMs),
      new Date(r.receivedAt).toISOString(),
      centiToDecimal(r.tempCentiC),
      csvText(r.flags.join('|')),
      r.late ? 'late' : '',
    ].join(','))
  }
  return lines.join('\r\n') + '\r\n'
}
