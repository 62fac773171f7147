/**
 * GS1 identifiers on a shipment record: SSCC of the logistic unit, GTIN, lot
 * and expiry of the product (GS1 General Specifications, 3.2 and 7.9).
 * Pure; runs in Node and browsers.
 */

import { gs1CheckDigit } from '../../ledger/tlog/index.ts'

export { gs1CheckDigit }

export type Gs1ErrorCode = 'ERR_GS1_FORMAT' | 'ERR_GS1_CHECK_DIGIT'

export class Gs1Error extends Error {
  readonly code: Gs1ErrorCode
  /** Which identifier: 'sscc', 'gtin', 'lot' or 'expiry'. */
  readonly field: string
  readonly value: unknown
  readonly expected?: number
  constructor(code: Gs1ErrorCode, field: string, value: unknown, message: string, expected?: number) {
    super(message)
    this.name = 'Gs1Error'
    this.code = code
    this.field = field
    this.value = value
    if (expected !== undefined) this.expected = expected
  }
}

function checkDigits(field: string, value: unknown, lengths: readonly number[]): string {
  if (typeof value !== 'string' || !/^[0-9]+$/.test(value) || !lengths.includes(value.length)) {
    throw new Gs1Error(
      'ERR_GS1_FORMAT',
      field,
      value,
      `"${field}" expected ${lengths.join(', ')} digits, got ${JSON.stringify(value)}`,
    )
  }
  const expected = gs1CheckDigit(value.slice(0, -1))
  const actual = value.charCodeAt(value.length - 1) - 48
  if (expected !== actual) {
    throw new Gs1Error(
      'ERR_GS1_CHECK_DIGIT',
      field,
      value,
      `"${field}" ${value} has check digit ${actual}, expected ${expected}`,
      expected,
    )
  }
  return value
}

/** Validates an 18-digit SSCC; returns it. */
export function checkSscc(value: unknown): string {
  return checkDigits('sscc', value, [18])
}

/**
 * Validates a GTIN-8, -12, -13 or -14 and returns it as 14 digits: the
 * shorter forms are padded with leading zeros, which keeps the check digit
 * valid because a leading zero adds nothing to the weighted sum (GS1 GenSpecs 3.2).
 */
export function normalizeGtin(value: unknown): string {
  return checkDigits('gtin', value, [8, 12, 13, 14]).padStart(14, '0')
}

/** Lot/batch: GS1 AI (10) allows up to 20 characters of GS1 AI encodable character set 82. */
export function checkLot(value: unknown): string {
  if (typeof value !== 'string' || !/^[!"%-?A-Z_a-z]{1,20}$/.test(value)) {
    throw new Gs1Error(
      'ERR_GS1_FORMAT',
      'lot',
      value,
      `"lot" expected 1..20 characters of the GS1 character set 82, got ${JSON.stringify(value)}`,
    )
  }
  return value
}

/** Expiry as a calendar date YYYY-MM-DD that exists. */
export function checkExpiry(value: unknown): string {
  const m = typeof value === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(value) : null
  const ok =
    m !== null &&
    (() => {
      const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]))
      return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3]
    })()
  if (!ok)
    throw new Gs1Error(
      'ERR_GS1_FORMAT',
      'expiry',
      value,
      `"expiry" expected a date YYYY-MM-DD, got ${JSON.stringify(value)}`,
    )
  return value as string
}

export interface Gs1Input {
  sscc: string
  gtin: string
  lot: string
  expiry: string
}

/** Validates all four identifiers; returns them with the GTIN as 14 digits. */
export function checkGs1(ids: Gs1Input): Gs1Input {
  return {
    sscc: checkSscc(ids.sscc),
    gtin: normalizeGtin(ids.gtin),
    lot: checkLot(ids.lot),
    expiry: checkExpiry(ids.expiry),
  }
}

/**
 * EPC pure identity URIs (GS1 EPC Tag Data Standard, 6.3.1 SGTIN is not used:
 * a lot is a class). The GS1 company prefix length is not recorded on the
 * shipment, so these use the GS1 Digital Link form, which needs none.
 */
export function ssccDigitalLink(sscc: string): string {
  return `https://id.gs1.org/00/${sscc}`
}

export function gtinLotDigitalLink(gtin: string, lot: string): string {
  return `https://id.gs1.org/01/${gtin}/10/${encodeURIComponent(lot)}`
}
