/**
 * CRC-32C as the start-up check computes it (ledger/store/leveldb-format.ts, slicing
 * by 8 bytes): the standard check value, and agreement with the plain
 * one-byte-per-step definition on every length and split of random data.
 */
import t from 'tap'
import fc from 'fast-check'
import { crc32c } from './leveldb-format.ts'

/** The definition: reflected polynomial 0x82f63b78, one bit at a time. */
function reference(bytes: Uint8Array): number {
  let c = 0xffffffff
  for (const b of bytes) {
    c ^= b
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1
  }
  return (c ^ 0xffffffff) >>> 0
}

t.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283, 'the CRC-32C check value (RFC 3720, B.4)')
t.equal(crc32c(new Uint8Array(32)), 0x8a9136aa, '32 zero bytes (RFC 3720, B.4)')
t.equal(crc32c(new Uint8Array(0)), 0, 'empty input')

t.test('property: equals the bitwise definition for any bytes and any split into parts', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(300), (bytes, cut) => {
      const k = Math.min(cut, bytes.length)
      const want = reference(bytes)
      return crc32c(bytes) === want && crc32c(bytes.subarray(0, k), bytes.subarray(k)) === want
    }),
    { numRuns: 500 },
  )
  t.pass('500 random inputs')
})
