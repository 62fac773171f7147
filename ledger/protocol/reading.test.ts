/**
 * Codec of the reading record (reading.ts): round trip of every combination of
 * optional fields, every refusal with its precise code, size limits.
 * Fuzzing lives in reading.fuzz.test.ts; published vectors in vectors.test.ts.
 */
import t from 'tap'
import {
  encodeRecord,
  assemblePayload,
  decodeReading,
  checkDeviceId,
  FIELD,
  EVENT,
  STATUS,
  MAX_READING_PAYLOAD,
  MAX_DEVICE_ID_LENGTH,
  MIN_TEMP_CENTI_C,
  MAX_TEMP_CENTI_C,
  MAX_SEQ,
  MAX_DEVICE_TIME_MS,
  READING_VERSION,
  SIGNATURE_LENGTH,
  type ReadingFields,
} from './reading.ts'
import { GENESIS_PREV_HASH, readingHash, readingSigningMessage, READING_SIGNING_TAG } from './signing.ts'
import { concatBytes, toHex } from './bytes.ts'
import { ProtocolError } from './errors.ts'
import { nobleSign, noblePublicKey, nodeVerify } from './test/support.ts'

const SIG = Uint8Array.from({ length: 64 }, (_, i) => 0xa0 ^ i)
const base: ReadingFields = {
  deviceId: 'truck-7-probe-1',
  seq: 1,
  deviceTimeMs: 1764000000000,
  tempCentiC: 523,
  prevHash: GENESIS_PREV_HASH,
}
const OPTIONAL = [
  ['humidityCentiPct', FIELD.HUMIDITY, [0, 4530, 10000]],
  ['events', FIELD.EVENTS, [0, EVENT.DOOR_OPEN, EVENT.DOOR_OPEN | EVENT.LIGHT]],
  ['shockCentiG', FIELD.SHOCK, [0, 231, 0xffff]],
  ['batteryPct', FIELD.BATTERY, [0, 57, 100]],
  ['status', FIELD.STATUS, [0, STATUS.SENSOR_FAULT, 0x1f]],
] as const

const payloadOf = (f: ReadingFields, sig = SIG) => assemblePayload(encodeRecord(f), sig)
const codeOf = (fn: () => unknown): string => {
  try {
    fn()
    return 'no error'
  } catch (e) {
    return e instanceof ProtocolError ? e.code : `${(e as Error).name}: ${(e as Error).message}`
  }
}

t.test(
  'round trip of all 32 combinations of optional fields, at their minimum, a middle and a maximum value',
  async (t) => {
    let n = 0
    for (let mask = 0; mask < 32; mask++) {
      for (let which = 0; which < 3; which++) {
        const f: ReadingFields = {
          ...base,
          seq: mask * 3 + which + 1,
          prevHash: Uint8Array.from({ length: 32 }, (_, i) => i * mask),
        }
        for (const [name, bit, values] of OPTIONAL)
          if (mask & bit) (f as unknown as Record<string, number>)[name] = values[which]
        const record = encodeRecord(f)
        t.equal(record[record.length - 1 - optLen(mask)], mask, `presence byte is 0x${mask.toString(16)}`)
        const p = assemblePayload(record, SIG)
        const d = decodeReading(p)
        t.same(d.fields, f, `mask 0x${mask.toString(16)} value set ${which}`)
        t.equal(toHex(d.signature), toHex(SIG))
        t.equal(toHex(d.record), toHex(record))
        t.equal(toHex(payloadOf(d.fields)), toHex(p), 're-encodes to the identical bytes')
        n++
      }
    }
    t.equal(n, 96)
  },
)

function optLen(mask: number): number {
  return (
    (mask & FIELD.HUMIDITY ? 2 : 0) +
    (mask & FIELD.EVENTS ? 1 : 0) +
    (mask & FIELD.SHOCK ? 2 : 0) +
    (mask & FIELD.BATTERY ? 1 : 0) +
    (mask & FIELD.STATUS ? 2 : 0)
  )
}

t.test('extremes of the fixed fields round-trip', async (t) => {
  for (const f of [
    { ...base, deviceId: 'a', seq: 1, deviceTimeMs: 0, tempCentiC: MIN_TEMP_CENTI_C },
    {
      ...base,
      deviceId: 'z'.repeat(MAX_DEVICE_ID_LENGTH),
      seq: MAX_SEQ,
      deviceTimeMs: MAX_DEVICE_TIME_MS,
      tempCentiC: MAX_TEMP_CENTI_C,
    },
    { ...base, deviceId: '0-', tempCentiC: -1, deviceTimeMs: 2 ** 32 - 1 },
    { ...base, tempCentiC: 0, deviceTimeMs: 2 ** 32, prevHash: new Uint8Array(32).fill(0xff) },
  ]) {
    t.same(decodeReading(payloadOf(f)).fields, f, `${f.deviceId} seq ${f.seq} t ${f.deviceTimeMs} temp ${f.tempCentiC}`)
  }
})

t.test('byte layout: big-endian fixed fields at the documented offsets', async (t) => {
  const r = encodeRecord({
    ...base,
    deviceId: 'ab',
    seq: 0x01020304,
    deviceTimeMs: 0x0000_0102_0304_0506,
    tempCentiC: -2,
    humidityCentiPct: 0x0102,
    batteryPct: 100,
  })
  t.equal(toHex(r.subarray(0, 4)), '01026162', 'version 1, id length 2, "ab"')
  t.equal(toHex(r.subarray(4, 8)), '01020304', 'seq u32 BE')
  t.equal(toHex(r.subarray(8, 16)), '0000010203040506', 'deviceTimeMs u64 BE')
  t.equal(toHex(r.subarray(16, 18)), 'fffe', "tempCentiC i16 BE two's complement")
  t.equal(toHex(r.subarray(18, 50)), '00'.repeat(32), 'prevHash')
  t.equal(r[50], FIELD.HUMIDITY | FIELD.BATTERY, 'presence byte')
  t.equal(toHex(r.subarray(51)), '010264', 'humidity u16 then battery u8, in bit order')
  t.equal(r.length, 54)
})

t.test('sizes: a temperature-only reading fits 160 bytes even with the longest device id', async (t) => {
  for (let n = 1; n <= MAX_DEVICE_ID_LENGTH; n++)
    t.equal(
      payloadOf({ ...base, deviceId: 'x'.repeat(n) }).length,
      113 + n,
      `temperature-only, ${n}-character id: 113 + N bytes (docs/PROTOCOL.md)`,
    )
  const longest = payloadOf({ ...base, deviceId: 'x'.repeat(MAX_DEVICE_ID_LENGTH) })
  t.equal(longest.length, 2 + 32 + 4 + 8 + 2 + 32 + 1 + 64)
  t.ok(longest.length <= 160, `${longest.length} <= 160`)
  const all = payloadOf({
    ...base,
    deviceId: 'x'.repeat(32),
    humidityCentiPct: 1,
    events: 1,
    shockCentiG: 1,
    batteryPct: 1,
    status: 1,
  })
  t.equal(all.length, MAX_READING_PAYLOAD, 'the largest valid payload is MAX_READING_PAYLOAD')
  t.equal(
    codeOf(() => decodeReading(concatBytes(all, Uint8Array.of(0)))),
    'ERR_READING_TOO_LARGE',
  )
  t.equal(
    codeOf(() => decodeReading(new Uint8Array(10_000))),
    'ERR_READING_TOO_LARGE',
  )
})

t.test('truncated at every byte offset: ERR_READING_TRUNCATED with the offset as evidence', async (t) => {
  const p = payloadOf({ ...base, humidityCentiPct: 1, events: 1, shockCentiG: 1, batteryPct: 1, status: 1 })
  for (let n = 0; n < p.length; n++) {
    try {
      decodeReading(p.subarray(0, n))
      t.fail(`prefix of ${n} bytes decoded`)
    } catch (e) {
      if (!(e instanceof ProtocolError) || e.code !== 'ERR_READING_TRUNCATED') {
        t.fail(`prefix ${n}: ${String(e)}`)
        continue
      }
      if (e.details.length !== n || typeof e.details.needed !== 'number' || (e.details.needed as number) <= n)
        t.fail(`prefix ${n}: evidence ${JSON.stringify(e.details)}`)
    }
  }
  t.pass(`all ${p.length} prefixes refused as truncated`)
  t.equal(
    codeOf(() => decodeReading('not bytes')),
    'ERR_READING_TRUNCATED',
    'a non-byte input is refused, not thrown at',
  )
  t.equal(
    codeOf(() => decodeReading(undefined)),
    'ERR_READING_TRUNCATED',
  )
})

t.test('trailing bytes after the signature', async (t) => {
  const p = payloadOf(base)
  for (const extra of [1, 2, 7]) {
    const e = (() => {
      try {
        decodeReading(concatBytes(p, new Uint8Array(extra)))
      } catch (e) {
        return e
      }
    })()
    t.ok(e instanceof ProtocolError && e.code === 'ERR_READING_TRAILING_BYTES', `${extra} extra bytes`)
    if (e instanceof ProtocolError) t.same(e.details, { length: p.length + extra, expected: p.length })
  }
})

t.test('unknown versions', async (t) => {
  const p = payloadOf(base)
  for (const v of [0, 2, 0x7f, 0xff]) {
    const c = p.slice()
    c[0] = v
    t.equal(
      codeOf(() => decodeReading(c)),
      'ERR_READING_UNKNOWN_VERSION',
      `version ${v}`,
    )
  }
  t.equal(READING_VERSION, 1)
})

t.test('bad device ids: encoder and decoder agree', async (t) => {
  for (const id of [
    '',
    'A',
    'Truck-1',
    '-lead',
    'has space',
    'under_score',
    'x'.repeat(33),
    'é',
    'dot.ted',
    'slash/ed',
    'plus+',
    'hash#',
    'nul\0',
  ]) {
    t.equal(
      codeOf(() => encodeRecord({ ...base, deviceId: id })),
      'ERR_READING_BAD_DEVICE_ID',
      `encoder refuses ${JSON.stringify(id)}`,
    )
    t.equal(
      codeOf(() => checkDeviceId(id)),
      'ERR_READING_BAD_DEVICE_ID',
    )
  }
  for (const id of [7, null, undefined, {}])
    t.equal(
      codeOf(() => checkDeviceId(id)),
      'ERR_READING_BAD_DEVICE_ID',
      `refuses ${String(id)}`,
    )
  // Decoder: the same refusals on the wire, including the length byte.
  const p = payloadOf({ ...base, deviceId: 'abc' })
  for (const [at, v, what] of [
    [2, 0x41, 'uppercase A'],
    [2, 0x2d, 'leading hyphen'],
    [3, 0x2f, 'slash'],
    [4, 0x00, 'NUL'],
    [4, 0xc3, 'non-ASCII byte'],
    [3, 0x2b, 'plus'],
  ] as const) {
    const c = p.slice()
    c[at] = v
    t.equal(
      codeOf(() => decodeReading(c)),
      'ERR_READING_BAD_DEVICE_ID',
      `decoder refuses ${what}`,
    )
  }
  for (const len of [0, 33, 0xff]) {
    const c = p.slice()
    c[1] = len
    t.equal(
      codeOf(() => decodeReading(c)),
      'ERR_READING_BAD_DEVICE_ID',
      `decoder refuses id length ${len}`,
    )
  }
})

t.test('field ranges: the encoder refuses every out-of-range value', async (t) => {
  const cases: Array<[string, unknown]> = [
    ['seq', 0],
    ['seq', -1],
    ['seq', MAX_SEQ + 1],
    ['seq', 1.5],
    ['seq', NaN],
    ['seq', '1'],
    ['deviceTimeMs', -1],
    ['deviceTimeMs', MAX_DEVICE_TIME_MS + 1],
    ['deviceTimeMs', 0.5],
    ['deviceTimeMs', Infinity],
    ['tempCentiC', MIN_TEMP_CENTI_C - 1],
    ['tempCentiC', MAX_TEMP_CENTI_C + 1],
    ['tempCentiC', 5.23],
    ['humidityCentiPct', -1],
    ['humidityCentiPct', 10001],
    ['events', 4],
    ['events', 0x80],
    ['events', 256],
    ['events', -1],
    ['shockCentiG', 0x10000],
    ['shockCentiG', -1],
    ['batteryPct', 101],
    ['batteryPct', -1],
    ['status', 0x20],
    ['status', 0x8000],
    ['status', 0x10000],
  ]
  for (const [field, value] of cases) {
    try {
      encodeRecord({ ...base, [field]: value } as ReadingFields)
      t.fail(`${field} = ${String(value)} was encoded`)
    } catch (e) {
      t.ok(
        e instanceof ProtocolError && e.code === 'ERR_READING_FIELD_RANGE' && e.details.field === field,
        `${field} = ${String(value)}: ERR_READING_FIELD_RANGE naming the field`,
      )
    }
  }
  t.throws(() => encodeRecord({ ...base, prevHash: new Uint8Array(31) }), RangeError, 'prevHash must be 32 bytes')
  t.throws(() => assemblePayload(encodeRecord(base), new Uint8Array(63)), RangeError, 'signature must be 64 bytes')
})

t.test('field ranges and reserved bits: the decoder refuses what the encoder cannot produce', async (t) => {
  const id = base.deviceId.length
  const T = 2 + id // offset of seq
  const P = T + 14 + 32 // offset of the presence byte
  const withAll = payloadOf({ ...base, humidityCentiPct: 1, events: 1, shockCentiG: 1, batteryPct: 1, status: 1 })
  const set = (src: Uint8Array, at: number, bytes: number[]) => {
    const c = src.slice()
    c.set(bytes, at)
    return c
  }
  const cases: Array<[string, Uint8Array, string, string | undefined]> = [
    ['seq 0', set(withAll, T, [0, 0, 0, 0]), 'ERR_READING_FIELD_RANGE', 'seq'],
    ['deviceTimeMs 2^53', set(withAll, T + 4, [0, 0x20, 0, 0, 0, 0, 0, 0]), 'ERR_READING_FIELD_RANGE', 'deviceTimeMs'],
    [
      'deviceTimeMs 2^64-1',
      set(withAll, T + 4, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      'ERR_READING_FIELD_RANGE',
      'deviceTimeMs',
    ],
    ['temperature -273.16 °C', set(withAll, T + 12, [0x95, 0x4c]), 'ERR_READING_FIELD_RANGE', 'tempCentiC'],
    ['temperature -327.68 °C', set(withAll, T + 12, [0x80, 0x00]), 'ERR_READING_FIELD_RANGE', 'tempCentiC'],
    ['humidity 10001', set(withAll, P + 1, [0x27, 0x11]), 'ERR_READING_FIELD_RANGE', 'humidityCentiPct'],
    ['events bit 2', set(withAll, P + 3, [0x04]), 'ERR_READING_FIELD_RANGE', 'events'],
    ['battery 101', set(withAll, P + 6, [101]), 'ERR_READING_FIELD_RANGE', 'batteryPct'],
    ['battery 255', set(withAll, P + 6, [255]), 'ERR_READING_FIELD_RANGE', 'batteryPct'],
    ['status bit 5', set(withAll, P + 7, [0x00, 0x20]), 'ERR_READING_FIELD_RANGE', 'status'],
    ['status bit 15', set(withAll, P + 7, [0x80, 0x00]), 'ERR_READING_FIELD_RANGE', 'status'],
    ['presence bit 5', set(withAll, P, [0x3f]), 'ERR_READING_UNKNOWN_FIELD', undefined],
    ['presence bit 7', set(withAll, P, [0x80]), 'ERR_READING_UNKNOWN_FIELD', undefined],
  ]
  for (const [what, bytes, code, field] of cases) {
    try {
      decodeReading(bytes)
      t.fail(`${what} decoded`)
    } catch (e) {
      t.ok(
        e instanceof ProtocolError && e.code === code && (field === undefined || e.details.field === field),
        `${what}: ${code}${field ? ` on ${field}` : ''}`,
      )
    }
  }
  t.equal(
    decodeReading(set(withAll, T + 12, [0x95, 0x4d])).fields.tempCentiC,
    MIN_TEMP_CENTI_C,
    '-273.15 °C itself is accepted',
  )
})

t.test('decoded views: record is the exact signed range of the payload, no copy, no re-serialisation', async (t) => {
  const p = payloadOf({ ...base, batteryPct: 50 })
  const d = decodeReading(p)
  t.equal(d.payload, p)
  t.equal(d.record.buffer, p.buffer, 'record is a view into the payload')
  t.equal(d.record.length + SIGNATURE_LENGTH, p.length)
  // A payload inside a larger buffer (as a network library hands it over) decodes the same.
  const framed = concatBytes(Uint8Array.of(9, 9, 9), p, Uint8Array.of(9))
  t.same(decodeReading(framed.subarray(3, 3 + p.length)).fields, d.fields, 'a subarray at a non-zero offset decodes')
  for (const [name, input] of [
    ['a subarray at a non-zero offset', framed.subarray(3, 3 + p.length)],
    ['a Node Buffer at a non-zero offset', Buffer.from(framed.buffer, 3, p.length)],
  ] as const) {
    const v = decodeReading(input)
    t.equal(toHex(v.record), toHex(d.record), `${name}: record`)
    t.equal(toHex(v.signature), toHex(d.signature), `${name}: signature`)
    t.equal(toHex(v.fields.prevHash), toHex(d.fields.prevHash), `${name}: prevHash`)
    t.equal(v.record.buffer, framed.buffer, `${name}: record is a view, not a copy`)
  }
})

t.test('signing message and hash', async (t) => {
  const seed = new Uint8Array(32).fill(7)
  const record = encodeRecord(base)
  const msg = readingSigningMessage(record)
  t.equal(READING_SIGNING_TAG, 'coldproof reading v1')
  t.equal(toHex(msg), toHex(concatBytes(new TextEncoder().encode('coldproof reading v1'), Uint8Array.of(0), record)))
  const sig = nobleSign(msg, seed)
  t.ok(nodeVerify(sig, msg, noblePublicKey(seed)), 'noble signature verifies in Node over the domain-separated message')
  t.notOk(nodeVerify(sig, record, noblePublicKey(seed)), 'the bare record is not what is signed')
  const p = assemblePayload(record, sig)
  t.equal(readingHash(p).length, 32)
  t.not(toHex(readingHash(p)), toHex(readingHash(record)), 'the chain hash covers the signature too')
  t.equal(toHex(GENESIS_PREV_HASH), '00'.repeat(32))
})
