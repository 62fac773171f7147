/**
 * Hostile values against every decoder and check of the protocol
 * (as noble tests its own): each one refuses with a ProtocolError, never with anything
 * else, whatever it is handed. Plus random strings and bytes for the decoders
 * of topics, receipts, resend requests and tokens.
 */
import t from 'tap'
import fc from 'fast-check'
import { checkDeviceId, decodeReading } from './reading.ts'
import { checkDevicePublicKey } from './keys.ts'
import { parseDeviceTopic } from './topics.ts'
import { decodeReceipt, decodeResend } from './control.ts'
import { decodeAuthToken } from './auth-token.ts'
import { isProtocolError } from './errors.ts'

const HOSTILE: unknown[] = [
  undefined,
  null,
  true,
  false,
  0,
  -0,
  1,
  -1,
  1.5,
  NaN,
  Infinity,
  -Infinity,
  2 ** 53,
  -(2 ** 53),
  10n,
  -1n,
  '',
  ' ',
  '0',
  'a',
  '\0',
  '\u{1F600}',
  'x'.repeat(10_000),
  'coldproof/v1/0/a/readings',
  '=',
  '==',
  '-_',
  [],
  [1, 2, 3],
  {},
  { length: 32 },
  new Uint8Array(0),
  new Uint8Array(1),
  new Uint8Array(32),
  new Uint8Array(37).fill(1),
  new Uint8Array(9).fill(1),
  new Uint16Array(16),
  new ArrayBuffer(32),
  new DataView(new ArrayBuffer(8)),
  Buffer.alloc(200),
  () => 1,
  Symbol('x'),
  new Date(0),
  /x/,
  new Map(),
  Promise.resolve(1),
]

const DECODERS: Record<string, (v: unknown) => unknown> = {
  decodeReading: (v) => decodeReading(v),
  checkDeviceId: (v) => checkDeviceId(v),
  checkDevicePublicKey: (v) => checkDevicePublicKey(v),
  parseDeviceTopic: (v) => parseDeviceTopic(v as string),
  decodeReceipt: (v) => decodeReceipt(v as Uint8Array),
  decodeResend: (v) => decodeResend(v as Uint8Array),
  decodeAuthToken: (v) => decodeAuthToken(v as string),
}

/** True if fn returns or throws a ProtocolError; a message naming the failure otherwise. */
function refusesCleanly(fn: () => unknown): true | string {
  try {
    fn()
    return true
  } catch (e) {
    return isProtocolError(e) ? true : `threw ${(e as Error)?.name}: ${(e as Error)?.message}`
  }
}

t.test('hostile values: every decoder answers or throws ProtocolError', async (t) => {
  for (const [name, fn] of Object.entries(DECODERS)) {
    const failures = HOSTILE.map((v, i) => [i, refusesCleanly(() => fn(v))] as const).filter(([, r]) => r !== true)
    t.same(failures, [], `${name}: ${HOSTILE.length} hostile values`)
  }
})

t.test('random input to the small decoders', async (t) => {
  const bytes = fc.uint8Array({ maxLength: 120 })
  fc.assert(
    fc.property(
      bytes,
      (b) =>
        refusesCleanly(() => decodeReceipt(b)) === true &&
        refusesCleanly(() => decodeResend(b)) === true &&
        refusesCleanly(() => checkDevicePublicKey(b)) === true,
    ),
    { numRuns: 2000 },
  )
  fc.assert(
    fc.property(
      fc.string({ maxLength: 200 }),
      (s) =>
        refusesCleanly(() => decodeAuthToken(s)) === true &&
        refusesCleanly(() => parseDeviceTopic(s)) === true &&
        refusesCleanly(() => checkDeviceId(s)) === true,
    ),
    { numRuns: 2000 },
  )
  // Strings shaped like topics, to get past the first checks.
  const seg = fc.stringMatching(/^[a-z0-9+#-]{0,6}$/)
  fc.assert(
    fc.property(
      seg,
      seg,
      seg,
      (p, d, k) => refusesCleanly(() => parseDeviceTopic(`coldproof/v1/${p}/${d}/${k}`)) === true,
    ),
    { numRuns: 2000 },
  )
  // Base64url of random bytes of about a token's size.
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 85, maxLength: 93 }),
      (b) => refusesCleanly(() => decodeAuthToken(Buffer.from(b).toString('base64url'))) === true,
    ),
    { numRuns: 2000 },
  )
  t.pass('no random input made a decoder throw anything but a ProtocolError')
})

t.test(
  'hostile values: encoders refuse with a TypeError, RangeError or ProtocolError that names the problem',
  async (t) => {
    const { encodeRecord, assemblePayload } = await import('./reading.ts')
    const { encodeReceipt, encodeResend } = await import('./control.ts')
    const { encodeAuthBody, authSigningMessage, encodeAuthToken } = await import('./auth-token.ts')
    const { readingSigningMessage, readingHash } = await import('./signing.ts')
    const ENCODERS: Record<string, (v: unknown) => unknown> = {
      encodeRecord: (v) => encodeRecord(v as never),
      assemblePayload: (v) => assemblePayload(v as never, v as never),
      encodeReceipt: (v) => encodeReceipt(v as never),
      encodeResend: (v) => encodeResend(v as never),
      encodeAuthBody: (v) => encodeAuthBody(v as never),
      authSigningMessage: (v) => authSigningMessage(v as never, v as never, v as never),
      encodeAuthToken: (v) => encodeAuthToken(v as never, v as never),
      readingSigningMessage: (v) => readingSigningMessage(v as never),
      readingHash: (v) => readingHash(v as never),
    }
    for (const [name, fn] of Object.entries(ENCODERS)) {
      const bad: string[] = []
      HOSTILE.forEach((v, i) => {
        try {
          fn(v)
        } catch (e) {
          const ok =
            isProtocolError(e) ||
            e instanceof RangeError ||
            (e instanceof TypeError && !/Cannot read|is not a function|is not iterable|Cannot convert/.test(e.message))
          if (!ok) bad.push(`#${i}: ${(e as Error)?.name}: ${(e as Error)?.message}`)
        }
      })
      t.same(bad, [], `${name}: clear refusals for ${HOSTILE.length} hostile values`)
    }
  },
)
