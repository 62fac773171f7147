/** Device MQTT authentication token (auth-token.ts): encode, decode, sign, verify. */
import t from 'tap'
import {
  authSigningMessage,
  decodeAuthToken,
  encodeAuthBody,
  encodeAuthToken,
  AUTH_TOKEN_TAG,
  AUTH_NONCE_LENGTH,
} from './auth-token.ts'
import { fromBase64Url, toBase64Url, toHex, concatBytes, utf8 } from './bytes.ts'
import { nobleSign, noblePublicKey, nobleVerify, nodeVerify } from './test/support.ts'

const seed = new Uint8Array(32).fill(3)
const pk = noblePublicKey(seed)
const nonce = Uint8Array.from({ length: 16 }, (_, i) => 0xf0 + i)
const timeMs = 1764000000123

t.test('body layout: 0x01 | u64 BE timeMs | 16-byte nonce', async (t) => {
  const body = encodeAuthBody({ timeMs, nonce })
  t.equal(body.length, 25)
  t.equal(toHex(body), '01' + timeMs.toString(16).padStart(16, '0') + toHex(nonce))
  t.equal(AUTH_NONCE_LENGTH, 16)
  for (const bad of [-1, 1.5, 2 ** 53, NaN])
    t.throws(() => encodeAuthBody({ timeMs: bad, nonce }), RangeError, `timeMs ${bad}`)
  t.throws(() => encodeAuthBody({ timeMs, nonce: new Uint8Array(15) }), RangeError)
})

t.test('signing message binds the device id and the audience', async (t) => {
  const body = encodeAuthBody({ timeMs, nonce })
  const m = authSigningMessage('dev-1', 'broker-a', body)
  t.equal(
    toHex(m),
    toHex(
      concatBytes(utf8(AUTH_TOKEN_TAG), Uint8Array.of(0, 5), utf8('dev-1'), Uint8Array.of(8), utf8('broker-a'), body),
    ),
  )
  t.equal(AUTH_TOKEN_TAG, 'coldproof mqtt auth v1')
  t.throws(() => authSigningMessage('Dev 1', 'broker-a', body), { code: 'ERR_READING_BAD_DEVICE_ID' })
  t.throws(() => authSigningMessage('dev-1', '', body), RangeError, 'empty audience')
  t.throws(() => authSigningMessage('dev-1', 'x'.repeat(256), body), RangeError, 'audience over 255 bytes')
  t.throws(() => authSigningMessage('dev-1', 'broker-a', body.subarray(1)), RangeError)
  // Length prefixes make the split unambiguous: ("ab", "c") and ("a", "bc") sign different bytes.
  t.not(toHex(authSigningMessage('ab', 'c', body)), toHex(authSigningMessage('a', 'bc', body)))
})

t.test('sign with noble, verify with Node and noble; token round trip', async (t) => {
  const body = encodeAuthBody({ timeMs, nonce })
  const msg = authSigningMessage('dev-1', 'broker-a', body)
  const sig = nobleSign(msg, seed)
  const token = encodeAuthToken(body, sig)
  t.match(token, /^[A-Za-z0-9_-]+$/, 'base64url without padding')
  t.equal(token.length, Math.ceil((89 * 4) / 3))
  const d = decodeAuthToken(token)
  t.equal(d.timeMs, timeMs)
  t.equal(toHex(d.nonce), toHex(nonce))
  t.equal(toHex(d.body), toHex(body))
  t.equal(toHex(d.signature), toHex(sig))
  t.ok(nodeVerify(d.signature, authSigningMessage('dev-1', 'broker-a', d.body), pk), 'Node verifies')
  t.ok(nobleVerify(d.signature, authSigningMessage('dev-1', 'broker-a', d.body), pk), 'noble verifies')
  t.notOk(nodeVerify(d.signature, authSigningMessage('dev-2', 'broker-a', d.body), pk), 'another device id fails')
  t.notOk(nodeVerify(d.signature, authSigningMessage('dev-1', 'broker-b', d.body), pk), 'another audience fails')
  const later = encodeAuthBody({ timeMs: timeMs + 1, nonce })
  t.notOk(nodeVerify(d.signature, authSigningMessage('dev-1', 'broker-a', later), pk), 'a changed time fails')
})

t.test('malformed tokens: ERR_TOKEN_MALFORMED', async (t) => {
  const body = encodeAuthBody({ timeMs, nonce })
  const raw = concatBytes(body, new Uint8Array(64).fill(9))
  const good = toBase64Url(raw)
  const bad: Array<[string, unknown]> = [
    ['empty', ''],
    ['not base64url', good.slice(0, -2) + '+/'],
    ['padding', good + '='],
    ['whitespace', ' ' + good],
    ['one byte short', toBase64Url(raw.subarray(1))],
    ['one byte long', toBase64Url(concatBytes(raw, Uint8Array.of(0)))],
    ['impossible length', good.slice(0, -1) + 'AA'.slice(0, 0) + 'A'.repeat(1) + 'A'],
    ['version 2', toBase64Url(concatBytes(Uint8Array.of(2), raw.subarray(1)))],
    ['time above 2^53', toBase64Url(concatBytes(Uint8Array.of(1, 0xff), raw.subarray(2)))],
    ['non-canonical final character', good.slice(0, -1) + String.fromCharCode(good.charCodeAt(good.length - 1) + 1)],
    ['a number', 42],
    ['null', null],
  ]
  for (const [what, tok] of bad) t.throws(() => decodeAuthToken(tok as string), { code: 'ERR_TOKEN_MALFORMED' }, what)
  t.equal(toHex(fromBase64Url(good)), toHex(raw))
})
