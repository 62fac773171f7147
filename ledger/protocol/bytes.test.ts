import t from 'tap'
import { fromBase64, fromHex, toBase64, toHex } from './bytes.ts'

/** The portable encoding (what browsers run), as the reference for Node's fast path. */
const reference = (b: Uint8Array) => btoa(Array.from(b, (x) => String.fromCharCode(x)).join(''))

t.test('toBase64 equals the portable encoding, views into larger buffers included', (t) => {
  const big = new Uint8Array(300).map((_, i) => (i * 37 + 11) & 0xff)
  for (const [from, to] of [
    [0, 0],
    [0, 1],
    [0, 2],
    [0, 3],
    [5, 158],
    [1, 300],
    [0, 300],
    [299, 300],
  ]) {
    const view = big.subarray(from, to)
    t.equal(toBase64(view), reference(view), `bytes ${from}..${to}`)
    t.same(fromBase64(toBase64(view)), view.slice(), `round trip ${from}..${to}`)
  }
  t.end()
})

t.test('fromBase64 refuses what is not base64', (t) => {
  t.throws(() => fromBase64('ab$d'))
  t.throws(() => fromBase64('abcde'))
  t.end()
})

t.test('toHex and fromHex equal the portable per-byte encoding, views and upper case included', (t) => {
  const hexRef = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
  const big = new Uint8Array(256).map((_, i) => i)
  for (const [from, to] of [
    [0, 0],
    [0, 1],
    [7, 39],
    [0, 256],
    [255, 256],
  ]) {
    const view = big.subarray(from, to)
    t.equal(toHex(view), hexRef(view), `bytes ${from}..${to}`)
    t.same(fromHex(toHex(view)), view.slice(), `round trip ${from}..${to}`)
    t.same(fromHex(toHex(view).toUpperCase()), view.slice(), `upper case ${from}..${to}`)
  }
  for (const bad of ['abc', '0g', 'zz', ' 0']) t.throws(() => fromHex(bad), TypeError, `refuses ${JSON.stringify(bad)}`)
  t.end()
})
