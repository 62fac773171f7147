/**
 * Property tests (fast-check) of the reading decoder: whatever bytes arrive,
 * it either decodes or throws a ProtocolError, never anything else; what it
 * decodes re-encodes to the identical bytes (one set of fields, one byte string).
 */
import t from 'tap'
import fc from 'fast-check'
import {
  assemblePayload,
  decodeReading,
  encodeRecord,
  MAX_SEQ,
  MAX_DEVICE_TIME_MS,
  MIN_TEMP_CENTI_C,
  MAX_TEMP_CENTI_C,
  MAX_READING_PAYLOAD,
  type ReadingFields,
} from './reading.ts'
import { isProtocolError, PROTOCOL_ERROR_CODES } from './errors.ts'
import { concatBytes, toHex } from './bytes.ts'

const RUNS = 3000

const fieldsArb: fc.Arbitrary<ReadingFields> = fc.record(
  {
    deviceId: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,31}$/),
    seq: fc.integer({ min: 1, max: MAX_SEQ }),
    deviceTimeMs: fc.oneof(
      fc.integer({ min: 0, max: 2 ** 42 }),
      fc.constantFrom(0, 2 ** 32 - 1, 2 ** 32, MAX_DEVICE_TIME_MS),
    ),
    tempCentiC: fc.integer({ min: MIN_TEMP_CENTI_C, max: MAX_TEMP_CENTI_C }),
    prevHash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    humidityCentiPct: fc.option(fc.integer({ min: 0, max: 10000 }), { nil: undefined }),
    events: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
    shockCentiG: fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }),
    batteryPct: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
    status: fc.option(fc.integer({ min: 0, max: 0x1f }), { nil: undefined }),
  },
  { requiredKeys: ['deviceId', 'seq', 'deviceTimeMs', 'tempCentiC', 'prevHash'] },
)

const sigArb = fc.uint8Array({ minLength: 64, maxLength: 64 })
const validPayloadArb = fc.tuple(fieldsArb, sigArb).map(([f, s]) => assemblePayload(encodeRecord(f), s))

/** Mutations an attacker or a flaky link can make to a valid payload. */
const mutatedArb = fc
  .tuple(
    validPayloadArb,
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 })), {
      minLength: 1,
      maxLength: 6,
    }),
  )
  .map(([p, edits]) => {
    let b = p
    for (const [pos, byte, op] of edits) {
      const i = b.length === 0 ? 0 : pos % (b.length + 1)
      if (op === 0 && i < b.length) {
        b = b.slice()
        b[i] = byte
      } // overwrite
      else if (op === 1)
        b = b.subarray(0, i) // truncate
      else if (op === 2)
        b = concatBytes(b.subarray(0, i), Uint8Array.of(byte), b.subarray(i)) // insert
      else b = concatBytes(b.subarray(0, i), b.subarray(i + 1)) // delete
    }
    return b
  })

/** Decodes or throws ProtocolError with a catalogued code; if it decodes, re-encoding gives the same bytes. */
function checkDecoder(bytes: Uint8Array): boolean {
  let d
  try {
    d = decodeReading(bytes)
  } catch (e) {
    if (!isProtocolError(e)) throw new Error(`decoder threw a non-protocol error for ${toHex(bytes)}: ${String(e)}`)
    if (!(e.code in PROTOCOL_ERROR_CODES) || !e.code.startsWith('ERR_READING_'))
      throw new Error(`unexpected code ${e.code}`)
    if (e.message.length === 0) throw new Error('empty error message')
    return true
  }
  const again = assemblePayload(encodeRecord(d.fields), d.signature)
  if (toHex(again) !== toHex(bytes)) throw new Error(`decoded ${toHex(bytes)} re-encodes to ${toHex(again)}`)
  if (bytes.length > MAX_READING_PAYLOAD) throw new Error('decoded a payload above the maximum size')
  return true
}

t.test('valid fields round-trip through encode and decode', async (t) => {
  fc.assert(
    fc.property(fieldsArb, sigArb, (f, s) => {
      const p = assemblePayload(encodeRecord(f), s)
      const d = decodeReading(p)
      return (
        JSON.stringify({ ...d.fields, prevHash: toHex(d.fields.prevHash) }) ===
          JSON.stringify({ ...f, prevHash: toHex(f.prevHash) }) && toHex(d.signature) === toHex(s)
      )
    }),
    { numRuns: RUNS },
  )
  t.pass(`${RUNS} random valid readings round-tripped`)
})

t.test('random bytes: decode or ProtocolError, never anything else', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), checkDecoder), { numRuns: RUNS })
  // Random bytes almost never start with version 1 and a valid id; steer half of them past the first checks.
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 170 }), fc.integer({ min: 1, max: 32 }), (rest, n) =>
      checkDecoder(concatBytes(Uint8Array.of(1, n), new Uint8Array(n).fill(0x61), rest)),
    ),
    { numRuns: RUNS },
  )
  t.pass('no input made the decoder throw anything but a ProtocolError')
})

t.test('mutated valid payloads: decode or ProtocolError; what decodes re-encodes identically', async (t) => {
  let decoded = 0,
    refused = 0
  fc.assert(
    fc.property(mutatedArb, (b) => {
      try {
        decodeReading(b)
        decoded++
      } catch {
        refused++
      }
      return checkDecoder(b)
    }),
    { numRuns: RUNS },
  )
  t.ok(decoded > 0 && refused > 0, `both outcomes were exercised (${decoded} decoded, ${refused} refused)`)
})
