/**
 * Wire format v1 of a signed reading (docs/PROTOCOL.md, "Reading record").
 *
 * A record is a fixed, big-endian layout: no floating point, no optional
 * encodings, so one set of fields has exactly one byte string. The MQTT
 * payload is `record || signature(64)`; the ledger stores it as received.
 */
import { ProtocolError } from './errors.ts'
import { abytes, aobject, concatBytes } from './bytes.ts'

export const READING_VERSION = 1
export const SIGNATURE_LENGTH = 64
export const HASH_LENGTH = 32
export const MAX_DEVICE_ID_LENGTH = 32
/** Largest valid payload: 32-byte id, every optional field, signature. */
export const MAX_READING_PAYLOAD = 2 + MAX_DEVICE_ID_LENGTH + 4 + 8 + 2 + HASH_LENGTH + 1 + 8 + SIGNATURE_LENGTH
/** Absolute zero in centi-degrees Celsius: nothing colder is a temperature. */
export const MIN_TEMP_CENTI_C = -27315
export const MAX_TEMP_CENTI_C = 32767
/**
 * The largest device time a reading may carry: the end of the JavaScript Date
 * range (8.64e15 ms, +275760-09-13T00:00:00Z), so every part of the system
 * (ingest messages, the compliance engine, reports) can handle every accepted
 * time. One constant for the decoder, the ingest and the compliance engine;
 * docs/PROTOCOL.md states it.
 */
export const MAX_DEVICE_TIME_MS = 8_640_000_000_000_000
export const MAX_SEQ = 0xffffffff

/** Presence bits of the optional fields, in the order their bytes follow. */
export const FIELD = {
  HUMIDITY: 0x01, // u16, centi-percent relative humidity, 0..10000
  EVENTS: 0x02, // u8, EVENT_* bits
  SHOCK: 0x04, // u16, centi-g peak acceleration since the previous reading
  BATTERY: 0x08, // u8, percent 0..100
  STATUS: 0x10, // u16, STATUS_* bits
} as const
const KNOWN_FIELDS = 0x1f

export const EVENT = { DOOR_OPEN: 0x01, LIGHT: 0x02 } as const
const KNOWN_EVENTS = 0x03

export const STATUS = {
  SENSOR_FAULT: 0x0001, // the probe reported a fault: the temperature is not a measurement
  BUFFER_OVERFLOW: 0x0002, // the buffer was full and dropped an unreceipted reading that was never published: a certain loss
  CLOCK_UNSYNCED: 0x0004, // the device clock has not been set since power-up
  LOW_BATTERY: 0x0008,
  TAMPER: 0x0010, // the logger case was opened
} as const
const KNOWN_STATUS = 0x001f

export const DEVICE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/

export interface ReadingFields {
  /** 1..32 characters of [a-z0-9-], starting with a letter or digit. */
  deviceId: string
  /** Device sequence number, 1 for the first reading, strictly +1 after that. */
  seq: number
  /** Device clock at sampling, integer milliseconds since 1970-01-01T00:00:00Z. */
  deviceTimeMs: number
  /** Temperature in centi-degrees Celsius (523 = 5.23 °C). */
  tempCentiC: number
  /** SHA-256 of the device's previous payload (record || signature); 32 zero bytes for seq 1. */
  prevHash: Uint8Array
  humidityCentiPct?: number
  events?: number
  shockCentiG?: number
  batteryPct?: number
  status?: number
}

export interface DecodedReading {
  fields: ReadingFields
  /** The signed bytes (record without signature), a view into the payload. */
  record: Uint8Array
  signature: Uint8Array
  /** The whole payload as given. */
  payload: Uint8Array
}

function fail(
  code: ConstructorParameters<typeof ProtocolError>[0],
  message: string,
  details: Record<string, unknown> = {},
): never {
  throw new ProtocolError(code, message, details)
}

function checkInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail('ERR_READING_FIELD_RANGE', `"${name}" must be an integer in ${min}..${max}, got ${String(v)}`, {
      field: name,
      value: v,
      min,
      max,
    })
  }
  return v
}

export function checkDeviceId(id: unknown): string {
  if (typeof id !== 'string' || !DEVICE_ID_PATTERN.test(id)) {
    fail(
      'ERR_READING_BAD_DEVICE_ID',
      `"deviceId" must be 1..32 characters of [a-z0-9-] starting with a letter or digit, got ${typeof id === 'string' ? JSON.stringify(id.slice(0, 64)) : typeof id}`,
      { value: id },
    )
  }
  return id
}

/** Validates fields and returns the record bytes (to be signed). */
export function encodeRecord(f: ReadingFields): Uint8Array {
  aobject(f, 'fields')
  const id = new TextEncoder().encode(checkDeviceId(f.deviceId))
  checkInt('seq', f.seq, 1, MAX_SEQ)
  checkInt('deviceTimeMs', f.deviceTimeMs, 0, MAX_DEVICE_TIME_MS)
  checkInt('tempCentiC', f.tempCentiC, MIN_TEMP_CENTI_C, MAX_TEMP_CENTI_C)
  abytes(f.prevHash, HASH_LENGTH, 'prevHash')
  let presence = 0
  const opt: number[] = []
  const u16 = (v: number) => opt.push(v >> 8, v & 0xff)
  if (f.humidityCentiPct !== undefined) {
    presence |= FIELD.HUMIDITY
    u16(checkInt('humidityCentiPct', f.humidityCentiPct, 0, 10000))
  }
  if (f.events !== undefined) {
    presence |= FIELD.EVENTS
    opt.push(checkMask('events', f.events, 0xff, KNOWN_EVENTS))
  }
  if (f.shockCentiG !== undefined) {
    presence |= FIELD.SHOCK
    u16(checkInt('shockCentiG', f.shockCentiG, 0, 0xffff))
  }
  if (f.batteryPct !== undefined) {
    presence |= FIELD.BATTERY
    opt.push(checkInt('batteryPct', f.batteryPct, 0, 100))
  }
  if (f.status !== undefined) {
    presence |= FIELD.STATUS
    u16(checkMask('status', f.status, 0xffff, KNOWN_STATUS))
  }

  const fixed = new Uint8Array(2 + id.length + 4 + 8 + 2)
  const dv = new DataView(fixed.buffer)
  fixed[0] = READING_VERSION
  fixed[1] = id.length
  fixed.set(id, 2)
  let o = 2 + id.length
  dv.setUint32(o, f.seq)
  o += 4
  dv.setUint32(o, Math.floor(f.deviceTimeMs / 2 ** 32))
  dv.setUint32(o + 4, f.deviceTimeMs >>> 0)
  o += 8
  dv.setInt16(o, f.tempCentiC)
  return concatBytes(fixed, f.prevHash, Uint8Array.of(presence), Uint8Array.from(opt))
}

function checkMask(name: string, v: unknown, max: number, known: number): number {
  checkInt(name, v, 0, max)
  if (((v as number) & ~known) !== 0) {
    fail('ERR_READING_FIELD_RANGE', `"${name}" sets reserved bits 0x${((v as number) & ~known).toString(16)}`, {
      field: name,
      value: v,
    })
  }
  return v as number
}

/** record || signature: the MQTT payload. */
export function assemblePayload(record: Uint8Array, signature: Uint8Array): Uint8Array {
  abytes(signature, SIGNATURE_LENGTH, 'signature')
  return concatBytes(record, signature)
}

/** Throws ERR_READING_TRUNCATED unless `p` holds `n` bytes from `off`. */
function need(p: Uint8Array, off: number, n: number, what: string): void {
  if (off + n > p.length)
    fail('ERR_READING_TRUNCATED', `payload ends at byte ${p.length} inside ${what} (needs ${off + n})`, {
      length: p.length,
      needed: off + n,
      field: what,
    })
}

// Big-endian reads straight from the bytes, and views as plain Uint8Arrays: the ingest decodes every
// message, and a DataView per payload or a Buffer's subarray (a heavier Buffer) is garbage per reading.
const u16 = (p: Uint8Array, o: number): number => (p[o] << 8) | p[o + 1]
const u32 = (p: Uint8Array, o: number): number => p[o] * 0x1000000 + ((p[o + 1] << 16) | (p[o + 2] << 8) | p[o + 3])
const view = (p: Uint8Array, from: number, to: number): Uint8Array =>
  new Uint8Array(p.buffer, p.byteOffset + from, to - from)

/**
 * Decodes a payload. Never re-serialises: `record` is the exact byte range to
 * verify. Throws only ProtocolError, whatever the input.
 */
export function decodeReading(payload: unknown): DecodedReading {
  if (!(payload instanceof Uint8Array))
    fail('ERR_READING_TRUNCATED', `payload expected Uint8Array, got ${typeof payload}`)
  const p = payload
  if (p.length > MAX_READING_PAYLOAD) {
    fail('ERR_READING_TOO_LARGE', `payload is ${p.length} bytes; a v1 reading is at most ${MAX_READING_PAYLOAD}`, {
      length: p.length,
      max: MAX_READING_PAYLOAD,
    })
  }
  need(p, 0, 1, 'version')
  if (p[0] !== READING_VERSION)
    fail('ERR_READING_UNKNOWN_VERSION', `version byte is ${p[0]}; this decoder knows version ${READING_VERSION}`, {
      version: p[0],
    })
  need(p, 1, 1, 'deviceIdLength')
  const idLen = p[1]
  if (idLen < 1 || idLen > MAX_DEVICE_ID_LENGTH)
    fail('ERR_READING_BAD_DEVICE_ID', `device id length is ${idLen}; must be 1..${MAX_DEVICE_ID_LENGTH}`, {
      length: idLen,
    })
  need(p, 2, idLen, 'deviceId')
  let deviceId = ''
  for (let i = 0; i < idLen; i++) deviceId += String.fromCharCode(p[2 + i])
  checkDeviceId(deviceId)
  let o = 2 + idLen
  need(p, o, 14, 'seq/deviceTimeMs/tempCentiC')
  const seq = u32(p, o)
  o += 4
  const hi = u32(p, o),
    lo = u32(p, o + 4)
  o += 8
  // hi above 2^21 would not even be an exact JavaScript number.
  const deviceTimeMs = hi * 2 ** 32 + lo
  if (hi > 0x1fffff || deviceTimeMs > MAX_DEVICE_TIME_MS)
    fail(
      'ERR_READING_FIELD_RANGE',
      `"deviceTimeMs" exceeds ${MAX_DEVICE_TIME_MS} (the end of the JavaScript date range)`,
      { field: 'deviceTimeMs', max: MAX_DEVICE_TIME_MS },
    )
  const tempCentiC = (u16(p, o) << 16) >> 16 // signed
  o += 2
  if (seq < 1) fail('ERR_READING_FIELD_RANGE', `"seq" must be at least 1, got 0`, { field: 'seq', value: seq })
  if (tempCentiC < MIN_TEMP_CENTI_C)
    fail('ERR_READING_FIELD_RANGE', `"tempCentiC" ${tempCentiC} is below absolute zero`, {
      field: 'tempCentiC',
      value: tempCentiC,
    })
  need(p, o, HASH_LENGTH, 'prevHash')
  const prevHash = view(p, o, o + HASH_LENGTH)
  o += HASH_LENGTH
  need(p, o, 1, 'presence')
  const presence = p[o]
  o += 1
  if (presence & ~KNOWN_FIELDS)
    fail(
      'ERR_READING_UNKNOWN_FIELD',
      `presence byte 0x${presence.toString(16)} sets undefined bits 0x${(presence & ~KNOWN_FIELDS).toString(16)}`,
      { presence },
    )
  const fields: ReadingFields = { deviceId, seq, deviceTimeMs, tempCentiC, prevHash }
  if (presence & FIELD.HUMIDITY) {
    need(p, o, 2, 'humidityCentiPct')
    fields.humidityCentiPct = u16(p, o)
    o += 2
    if (fields.humidityCentiPct > 10000)
      fail('ERR_READING_FIELD_RANGE', `"humidityCentiPct" ${fields.humidityCentiPct} exceeds 10000`, {
        field: 'humidityCentiPct',
        value: fields.humidityCentiPct,
      })
  }
  if (presence & FIELD.EVENTS) {
    need(p, o, 1, 'events')
    fields.events = p[o]
    o += 1
    if (fields.events & ~KNOWN_EVENTS)
      fail('ERR_READING_FIELD_RANGE', `"events" sets reserved bits`, { field: 'events', value: fields.events })
  }
  if (presence & FIELD.SHOCK) {
    need(p, o, 2, 'shockCentiG')
    fields.shockCentiG = u16(p, o)
    o += 2
  }
  if (presence & FIELD.BATTERY) {
    need(p, o, 1, 'batteryPct')
    fields.batteryPct = p[o]
    o += 1
    if (fields.batteryPct > 100)
      fail('ERR_READING_FIELD_RANGE', `"batteryPct" ${fields.batteryPct} exceeds 100`, {
        field: 'batteryPct',
        value: fields.batteryPct,
      })
  }
  if (presence & FIELD.STATUS) {
    need(p, o, 2, 'status')
    fields.status = u16(p, o)
    o += 2
    if (fields.status & ~KNOWN_STATUS)
      fail('ERR_READING_FIELD_RANGE', `"status" sets reserved bits`, { field: 'status', value: fields.status })
  }
  need(p, o, SIGNATURE_LENGTH, 'signature')
  const record = view(p, 0, o)
  const signature = view(p, o, o + SIGNATURE_LENGTH)
  if (o + SIGNATURE_LENGTH !== p.length) {
    fail('ERR_READING_TRAILING_BYTES', `${p.length - o - SIGNATURE_LENGTH} bytes follow the signature`, {
      length: p.length,
      expected: o + SIGNATURE_LENGTH,
    })
  }
  return { fields, record, signature, payload: p }
}
