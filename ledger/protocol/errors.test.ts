/**
 * The error catalogue (errors.ts): every code is reachable from the public
 * API, and docs/PROTOCOL.md lists every code (and no code that does not exist).
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import * as protocol from './index.ts'
import { PROTOCOL_ERROR_CODES, ProtocolError, isProtocolError, type ProtocolErrorCode } from './errors.ts'
import { nobleSign, noblePublicKey } from './test/support.ts'
import { buildProtocolVectors, renderVectorsMarkdown } from './test/vectors.ts'

const seed = new Uint8Array(32).fill(1)
const rec = protocol.encodeRecord({
  deviceId: 'dev-1',
  seq: 1,
  deviceTimeMs: 0,
  tempCentiC: 0,
  prevHash: protocol.GENESIS_PREV_HASH,
})
const payload = protocol.assemblePayload(rec, nobleSign(protocol.readingSigningMessage(rec), seed))
const flip = (b: Uint8Array, i: number, v: number) => {
  const c = b.slice()
  c[i] = v
  return c
}

/** One way to reach each code through the public API. */
const REACH: Record<ProtocolErrorCode, () => unknown> = {
  ERR_READING_TRUNCATED: () => protocol.decodeReading(payload.subarray(0, 10)),
  ERR_READING_TRAILING_BYTES: () => protocol.decodeReading(Uint8Array.from([...payload, 0])),
  ERR_READING_UNKNOWN_VERSION: () => protocol.decodeReading(flip(payload, 0, 9)),
  ERR_READING_BAD_DEVICE_ID: () => protocol.decodeReading(flip(payload, 2, 0x44)),
  ERR_READING_FIELD_RANGE: () =>
    protocol.encodeRecord({
      deviceId: 'dev-1',
      seq: 0,
      deviceTimeMs: 0,
      tempCentiC: 0,
      prevHash: protocol.GENESIS_PREV_HASH,
    }),
  ERR_READING_UNKNOWN_FIELD: () => protocol.decodeReading(flip(payload, 2 + 5 + 14 + 32, 0x40)),
  ERR_READING_BAD_SIGNATURE: () => protocol.verifyReading(payload, noblePublicKey(new Uint8Array(32).fill(2))),
  ERR_READING_TOO_LARGE: () => protocol.decodeReading(new Uint8Array(protocol.MAX_READING_PAYLOAD + 1)),
  ERR_KEY_BAD_LENGTH: () => protocol.checkDevicePublicKey(new Uint8Array(31)),
  ERR_KEY_NON_CANONICAL: () => protocol.checkDevicePublicKey(protocol.fromHex('ff'.repeat(31) + '7f')),
  ERR_KEY_NOT_ON_CURVE: () => protocol.checkDevicePublicKey(protocol.fromHex('02' + '00'.repeat(31))),
  ERR_KEY_SMALL_ORDER: () => protocol.checkDevicePublicKey(protocol.fromHex('01' + '00'.repeat(31))),
  ERR_TOPIC_INVALID: () => protocol.parseDeviceTopic('coldproof/v1/x/dev-1/readings'),
  ERR_CONTROL_MALFORMED: () => protocol.decodeReceipt(new Uint8Array(3)),
  ERR_TOKEN_MALFORMED: () => protocol.decodeAuthToken('!'),
}

t.test('every catalogued code is reachable, with a non-empty message', async (t) => {
  t.same(
    Object.keys(REACH).sort(),
    Object.keys(PROTOCOL_ERROR_CODES).sort(),
    'the table above covers the whole catalogue',
  )
  for (const [code, fn] of Object.entries(REACH)) {
    let err: unknown
    try {
      await fn()
    } catch (e) {
      err = e
    }
    t.ok(isProtocolError(err) && err.code === code && err.message.length > 10, `${code} is thrown`)
    t.ok(err instanceof ProtocolError && err.name === 'ProtocolError' && err instanceof Error)
  }
})

const doc = readFileSync(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8')

t.test('docs/PROTOCOL.md lists every code in its error table, and only real codes', async (t) => {
  const section = doc.slice(doc.indexOf('## Error codes'), doc.indexOf('## Test vectors'))
  t.ok(section.length > 100, 'the doc has an "Error codes" section')
  for (const code of Object.keys(PROTOCOL_ERROR_CODES))
    t.match(section, new RegExp('\\| `' + code + '` \\|'), `${code} has a row`)
  const documented = new Set([...section.matchAll(/^\| `(ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]))
  // Codes of the tiles exporter and the witness (ledger/tiles, ledger/witness) are listed in the same table but are not wire-format codes.
  // The ingest's refusal table (ledger/test/reason-catalogue.test.ts checks it) is in the section too.
  for (const code of documented)
    if (!/^ERR_(TILES|COSIGNATURE|WITNESS)_/.test(code))
      t.ok(
        code in PROTOCOL_ERROR_CODES || code in protocol.READING_REFUSAL_REASONS,
        `${code} in the doc exists in PROTOCOL_ERROR_CODES or READING_REFUSAL_REASONS`,
      )
})

t.test('docs/PROTOCOL.md carries the current generated test vectors', async (t) => {
  t.ok(
    doc.includes(renderVectorsMarkdown(buildProtocolVectors())),
    'the generated block is current (run: npx tsx scripts/gen-protocol-vectors.ts)',
  )
})

t.test('docs/PROTOCOL.md states the constants the code uses', async (t) => {
  t.match(doc, `"${protocol.READING_SIGNING_TAG}" || 0x00 || record`)
  t.match(doc, `"${protocol.AUTH_TOKEN_TAG}" || 0x00`)
  t.match(doc, `**${protocol.MAX_READING_PAYLOAD} bytes**`)
  t.match(doc, `\`${protocol.TOPIC_PREFIX}/{p}/{deviceId}/readings\``)
  for (const [name, bit] of Object.entries(protocol.FIELD))
    t.ok(doc.includes(`| \`0x${bit.toString(16).padStart(2, '0')}\` |`), `presence bit ${name}`)
  for (const [name, bit] of Object.entries(protocol.STATUS))
    t.match(doc, `| \`0x${bit.toString(16).padStart(4, '0')}\` | ${name} |`)
  for (const [name, bit] of Object.entries(protocol.EVENT))
    t.match(doc, `| \`0x${bit.toString(16).padStart(2, '0')}\` | ${name} |`)
  t.match(doc, Buffer.from(protocol.READING_SIGNING_TAG).toString('hex'), 'the tag in hex')
})
