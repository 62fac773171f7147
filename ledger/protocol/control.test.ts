/** Receipt and resend-request payloads (control.ts). */
import t from 'tap'
import { decodeReceipt, decodeResend, encodeReceipt, encodeResend } from './control.ts'
import { toHex } from './bytes.ts'
import { MAX_SEQ } from './reading.ts'

const H = Uint8Array.from({ length: 32 }, (_, i) => i)

t.test('receipt: 37 bytes, version 1, u32 BE seq, 32-byte hash', async (t) => {
  const b = encodeReceipt({ seq: 0x01020304, hash: H })
  t.equal(toHex(b), '01' + '01020304' + toHex(H))
  for (const seq of [0, 1, 2, 1000, MAX_SEQ]) {
    const r = decodeReceipt(encodeReceipt({ seq, hash: H }))
    t.equal(r.seq, seq)
    t.equal(toHex(r.hash), toHex(H))
  }
  const framed = Uint8Array.from([7, ...b]).subarray(1)
  t.equal(decodeReceipt(framed).seq, 0x01020304, 'decodes at a non-zero byte offset')
})

t.test('receipt: malformed input refused with ERR_CONTROL_MALFORMED', async (t) => {
  const b = encodeReceipt({ seq: 5, hash: H })
  for (const [what, bad] of [
    ['empty', new Uint8Array(0)],
    ['36 bytes', b.subarray(0, 36)],
    ['38 bytes', Uint8Array.from([...b, 0])],
    ['version 0', Uint8Array.from([0, ...b.subarray(1)])],
    ['version 2', Uint8Array.from([2, ...b.subarray(1)])],
    ['a string', 'abc' as unknown as Uint8Array],
    ['null', null as unknown as Uint8Array],
  ] as const) {
    t.throws(() => decodeReceipt(bad), { code: 'ERR_CONTROL_MALFORMED' }, what)
  }
  t.throws(() => encodeReceipt({ seq: -1, hash: H }), RangeError)
  t.throws(() => encodeReceipt({ seq: MAX_SEQ + 1, hash: H }), RangeError)
  t.throws(() => encodeReceipt({ seq: 1, hash: new Uint8Array(31) }), RangeError)
})

t.test('resend: 9 bytes, version 1, inclusive u32 BE range', async (t) => {
  t.equal(toHex(encodeResend({ from: 3, to: 0x0102 })), '01' + '00000003' + '00000102')
  for (const r of [
    { from: 1, to: 1 },
    { from: 5, to: 9 },
    { from: 1, to: MAX_SEQ },
    { from: MAX_SEQ, to: MAX_SEQ },
  ]) {
    t.same(decodeResend(encodeResend(r)), r)
  }
})

t.test('resend: malformed input and bad ranges refused', async (t) => {
  for (const [what, bad] of [
    ['empty', new Uint8Array(0)],
    ['8 bytes', new Uint8Array(8)],
    ['10 bytes', Uint8Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1, 0)],
    ['version 2', Uint8Array.of(2, 0, 0, 0, 1, 0, 0, 0, 1)],
    ['from 0', Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0, 1)],
    ['to < from', Uint8Array.of(1, 0, 0, 0, 5, 0, 0, 0, 4)],
    ['not bytes', [1, 0, 0, 0, 1, 0, 0, 0, 1] as unknown as Uint8Array],
  ] as const) {
    t.throws(() => decodeResend(bad), { code: 'ERR_CONTROL_MALFORMED' }, what)
  }
  for (const r of [
    { from: 0, to: 1 },
    { from: 2, to: 1 },
    { from: 1, to: MAX_SEQ + 1 },
    { from: 1.5, to: 2 },
  ]) {
    t.throws(() => encodeResend(r), RangeError, `${r.from}..${r.to}`)
  }
})
