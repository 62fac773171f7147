import type { EntryType, GapCause } from './entry-types.ts'
import { fromBase64, toBase64 } from '../protocol/index.ts'
import { checkDeviceId } from '../protocol/index.ts'

export const ENTRY_ERROR_CODES = {
  ERR_ENTRY_NOT_JSON: 'the entry bytes are not UTF-8 JSON',
  ERR_ENTRY_TOO_DEEP: 'the entry JSON nests deeper than 32 levels (refused before parsing)',
  ERR_ENTRY_NOT_CANONICAL: 'the entry bytes are JSON but not its canonical encoding (key order, whitespace, escapes)',
  ERR_ENTRY_VERSION: 'the entry version "v" is not 1',
  ERR_ENTRY_UNKNOWN_TYPE: 'the entry type is not one of the log entry types',
  ERR_ENTRY_MISSING_FIELD: 'a required field is absent',
  ERR_ENTRY_UNKNOWN_FIELD: 'a field that the entry type does not define is present',
  ERR_ENTRY_BAD_FIELD: 'a field has the wrong type, format or range',
  ERR_ENTRY_BAD_DEVICE_KEY: 'a registered public key is refused by the protocol key check',
  ERR_ENTRY_BAD_READING: 'a reading payload does not decode as a v1 reading',
  ERR_ENTRY_READING_MISMATCH: 'a reading body names another device or sequence than its payload',
  ERR_ENTRY_PROFILE_HASH: 'profileHash is not the SHA-256 of the profile canonical JSON',
  ERR_ENTRY_CHECKPOINT_MISMATCH: "a checkpoint body's size or root differs from its note",
} as const
export type EntryErrorCode = keyof typeof ENTRY_ERROR_CODES

export class EntryError extends Error {
  readonly code: EntryErrorCode
  /** Path of the offending field, e.g. "body.publicKey". */
  readonly field: string
  readonly details: Readonly<Record<string, unknown>>
  constructor(code: EntryErrorCode, field: string, message: string, details: Record<string, unknown> = {}) {
    super(`${field}: ${message}`)
    this.name = 'EntryError'
    this.code = code
    this.field = field
    this.details = details
  }
}

/** `prev` of entry 0. */
export const GENESIS_PREV = '0'.repeat(64)
export const ENTRY_TYPES: readonly EntryType[] = [
  'device.register',
  'device.revoke',
  'shipment.create',
  'shipment.close',
  'shipment.receive',
  'shipment.devices',
  'reading',
  'alarm.ack',
  'checkpoint',
  'gap',
  'reading.fork',
]
export const GAP_CAUSES: readonly GapCause[] = ['buffer-overflow', 'resend-abandoned', 'operator']
/** The id rule the ledger's write API applies (ledger/store/ledger.ts). */
export const SHIPMENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/
export const HEX64 = /^[0-9a-f]{64}$/

export const fail = (
  code: EntryErrorCode,
  field: string,
  message: string,
  details: Record<string, unknown> = {},
): never => {
  throw new EntryError(code, field, message, details)
}

export type Obj = Record<string, unknown>

export function shape(v: unknown, field: string, required: string[], optional: string[] = []): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    fail(
      'ERR_ENTRY_BAD_FIELD',
      field,
      `expected an object, got ${Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v}`,
    )
  const o = v as Obj
  for (const k of required) if (o[k] === undefined) fail('ERR_ENTRY_MISSING_FIELD', `${field}.${k}`, 'is required')
  for (const k of Object.keys(o))
    if (!required.includes(k) && !optional.includes(k) && o[k] !== undefined)
      fail('ERR_ENTRY_UNKNOWN_FIELD', `${field}.${k}`, 'is not a field of this entry type')
  return o
}

export function str(o: Obj, k: string, field: string, { empty = false } = {}): string {
  const v = o[k]
  if (typeof v !== 'string' || (!empty && v === ''))
    fail(
      'ERR_ENTRY_BAD_FIELD',
      `${field}.${k}`,
      `expected a${empty ? '' : ' non-empty'} string, got ${JSON.stringify(v)}`,
    )
  return v as string
}

export function int(o: Obj, k: string, field: string, min = 0): number {
  const v = o[k]
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
    fail('ERR_ENTRY_BAD_FIELD', `${field}.${k}`, `expected an integer >= ${min}, got ${JSON.stringify(v)}`)
  return v as number
}

export function hex64(o: Obj, k: string, field: string): string {
  const v = o[k]
  if (typeof v !== 'string' || !HEX64.test(v))
    fail('ERR_ENTRY_BAD_FIELD', `${field}.${k}`, `expected 64 lowercase hex digits, got ${JSON.stringify(v)}`)
  return v as string
}

export function deviceId(v: unknown, field: string): string {
  try {
    return checkDeviceId(v)
  } catch (e) {
    return fail('ERR_ENTRY_BAD_FIELD', field, (e as Error).message)
  }
}

export function shipmentId(o: Obj, field: string): string {
  const v = o.shipmentId
  if (typeof v !== 'string' || !SHIPMENT_ID_PATTERN.test(v))
    fail(
      'ERR_ENTRY_BAD_FIELD',
      `${field}.shipmentId`,
      `expected 1..64 characters of [A-Za-z0-9._:-] starting with a letter or digit, got ${JSON.stringify(v)}`,
    )
  return v as string
}

export function base64(o: Obj, k: string, field: string): Uint8Array {
  const v = o[k]
  let b: Uint8Array | undefined
  if (typeof v === 'string') {
    try {
      b = fromBase64(v)
    } catch {
      /* below */
    }
  }
  if (!b || toBase64(b) !== v) fail('ERR_ENTRY_BAD_FIELD', `${field}.${k}`, 'expected canonical standard base64')
  return b!
}

export function validDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false
  const d = new Date(`${s}T00:00:00Z`)
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s
}
