/**
 * The byte encoding of log entries (ledger/tlog/entry-types.ts): canonical JSON
 * (ledger/tlog/canonical-json.ts), validated field by field for the entry's type,
 * so one entry has exactly one byte string and a decoder refuses anything
 * else with an ERR_ENTRY_* code naming the field. Pure; runs in browsers.
 *
 * The parts: entry-fields.ts (error codes, fixed lists, field checks), entry-bodies.ts (each
 * type's body); this module validates, encodes, decodes and hashes whole entries.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { canonicalJsonBytes } from './canonical-json.ts'
import type { Entry, EntryBodies, EntryType } from './entry-types.ts'
import { toHex } from '../protocol/index.ts'
import type { DecodedReading } from '../protocol/index.ts'
import { jsonTooDeep, MAX_JSON_DEPTH } from './json-depth.ts'
import { BODY, readingOfBody } from './entry-bodies.ts'
import { deviceId, ENTRY_TYPES, fail, hex64, int, shape, str, type Obj } from './entry-fields.ts'

export {
  ENTRY_ERROR_CODES,
  ENTRY_TYPES,
  EntryError,
  GAP_CAUSES,
  GENESIS_PREV,
  SHIPMENT_ID_PATTERN,
  type EntryErrorCode,
} from './entry-fields.ts'

/** The decoded reading of a reading entry (payload checked against the body). */
export function readingOfEntry(e: Entry<'reading'>): DecodedReading {
  return readingOfBody(e.body as unknown as Obj, 'body')
}

/**
 * Validates an entry object of any origin and returns it typed. Throws EntryError.
 * `reading`: for a reading entry, its payload already decoded by the caller from
 * exactly the bytes body.payload encodes (the ledger's append path): the body's
 * shape, device id and seq are checked against it instead of decoding again.
 */
export function validateEntry(e: unknown, reading?: DecodedReading): Entry {
  const o = shape(e, '$', ['v', 'index', 'type', 'time', 'prev', 'body'])
  if (o.v !== 1) fail('ERR_ENTRY_VERSION', '$.v', `expected 1, got ${JSON.stringify(o.v)}`)
  int(o, 'index', '$')
  int(o, 'time', '$')
  hex64(o, 'prev', '$')
  if (typeof o.type !== 'string' || !(ENTRY_TYPES as readonly string[]).includes(o.type))
    fail('ERR_ENTRY_UNKNOWN_TYPE', '$.type', `expected one of ${ENTRY_TYPES.join(', ')}, got ${JSON.stringify(o.type)}`)
  if (o.type === 'reading' && reading) knownReadingBody(o.body, '$.body', reading)
  else BODY[o.type as EntryType](o.body, '$.body')
  return o as unknown as Entry
}

function knownReadingBody(b: unknown, f: string, r: DecodedReading): void {
  const o = shape(b, f, ['payload', 'deviceId', 'seq'])
  str(o, 'payload', f)
  if (deviceId(o.deviceId, `${f}.deviceId`) !== r.fields.deviceId)
    fail(
      'ERR_ENTRY_READING_MISMATCH',
      `${f}.deviceId`,
      `is ${String(o.deviceId)}, the payload is from ${r.fields.deviceId}`,
      { body: o.deviceId, payload: r.fields.deviceId },
    )
  if (int(o, 'seq', f, 1) !== r.fields.seq)
    fail('ERR_ENTRY_READING_MISMATCH', `${f}.seq`, `is ${String(o.seq)}, the payload has seq ${r.fields.seq}`, {
      body: o.seq,
      payload: r.fields.seq,
    })
}

/** Canonical JSON bytes of a valid entry (`reading`: see validateEntry). */
export function encodeEntry(e: Entry, reading?: DecodedReading): Uint8Array {
  validateEntry(e, reading)
  return canonicalJsonBytes(e)
}

const decoder = new TextDecoder('utf-8', { fatal: true })

/** Parses and validates entry bytes; refuses any encoding but the canonical one. */
export function decodeEntry(bytes: Uint8Array): Entry {
  if (!(bytes instanceof Uint8Array)) fail('ERR_ENTRY_NOT_JSON', '$', `expected Uint8Array, got ${typeof bytes}`)
  // Entries come from bundles of any origin: refuse deep nesting before the parser and the walks below recurse into it.
  const deep = jsonTooDeep(bytes)
  if (deep)
    fail('ERR_ENTRY_TOO_DEEP', '$', `nests deeper than ${MAX_JSON_DEPTH} levels (byte ${deep.offset})`, {
      offset: deep.offset,
    })
  let v: unknown
  try {
    v = JSON.parse(decoder.decode(bytes))
  } catch (e) {
    return fail('ERR_ENTRY_NOT_JSON', '$', (e as Error).message)
  }
  const entry = validateEntry(v)
  const canonical = canonicalJsonBytes(entry)
  if (canonical.length !== bytes.length || canonical.some((b, i) => b !== bytes[i])) {
    fail('ERR_ENTRY_NOT_CANONICAL', '$', 'the bytes are not the canonical JSON of the entry they encode')
  }
  return entry
}

/** hex SHA-256 of entry bytes: the `prev` of the next entry. */
export function entryHash(bytes: Uint8Array): string {
  return toHex(sha256(bytes))
}

export type { EntryBodies }
