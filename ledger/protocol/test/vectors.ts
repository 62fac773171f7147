/**
 * Builds the protocol's test vectors as plain data (written to testdata/ by
 * scripts/gen-protocol-vectors.ts, walked by the *.test.ts files). Pure and
 * deterministic: Ed25519 signing is deterministic (RFC 8032 section 5.1.6) and
 * every key here is derived from a public label, so the same code always gives
 * the same files. Test keys only: never use them for a real device.
 */
import { Point } from '@noble/ed25519'
import { sha256, sha512 } from '@noble/hashes/sha2.js'
import { concatBytes, fromHex, toHex, utf8 } from '../bytes.ts'
import { assemblePayload, encodeRecord, type ReadingFields, EVENT, STATUS, MAX_READING_PAYLOAD } from '../reading.ts'
import { GENESIS_PREV_HASH, readingHash, readingSigningMessage } from '../signing.ts'
import { deviceTopic, partitionOf } from '../topics.ts'
import { authSigningMessage, encodeAuthBody, encodeAuthToken } from '../auth-token.ts'
import type { ProtocolErrorCode } from '../errors.ts'
import { noblePublicKey, nobleSign } from './support.ts'

/** A test seed: SHA-256 of a public label (so anyone can re-derive it). */
export const testSeed = (label: string): Uint8Array => sha256(utf8(`coldproof test key: ${label}`))

// ---------------------------------------------------------------- readings

/** JSON form of ReadingFields: prevHash as hex, optional fields only when present. */
export interface JsonFields {
  deviceId: string
  seq: number
  deviceTimeMs: number
  deviceTimeIso: string
  tempCentiC: number
  prevHash: string
  humidityCentiPct?: number
  events?: number
  shockCentiG?: number
  batteryPct?: number
  status?: number
}

export interface ReadingVector {
  kind: 'reading'
  desc: string
  secretKeySeed: string
  publicKey: string
  fields: JsonFields
  topic: string
  partition: number
  record: string
  signingMessage: string
  signature: string
  payload: string
  /** SHA-256(payload): the next reading's prevHash and the receipt hash. */
  payloadHash: string
}

export interface AuthTokenVector {
  kind: 'auth-token'
  desc: string
  secretKeySeed: string
  publicKey: string
  deviceId: string
  audience: string
  timeMs: number
  timeIso: string
  nonce: string
  body: string
  signingMessage: string
  signature: string
  /** The MQTT password: base64url(body || signature), no padding. */
  token: string
}

/** A payload the decoder must refuse, with the code it must give. */
export interface MalformedVector {
  kind: 'malformed'
  desc: string
  payload: string
  error: ProtocolErrorCode
}

/** A well-formed payload whose signature must not verify under publicKey. */
export interface BadSignatureVector {
  kind: 'bad-signature'
  desc: string
  publicKey: string
  payload: string
  error: 'ERR_READING_BAD_SIGNATURE'
}

export type ProtocolVector = ReadingVector | AuthTokenVector | MalformedVector | BadSignatureVector

export function toJsonFields(f: ReadingFields): JsonFields {
  const out: JsonFields = {
    deviceId: f.deviceId,
    seq: f.seq,
    deviceTimeMs: f.deviceTimeMs,
    deviceTimeIso: new Date(f.deviceTimeMs).toISOString(),
    tempCentiC: f.tempCentiC,
    prevHash: toHex(f.prevHash),
  }
  for (const k of ['humidityCentiPct', 'events', 'shockCentiG', 'batteryPct', 'status'] as const) {
    if (f[k] !== undefined) out[k] = f[k]
  }
  return out
}

export function fromJsonFields(j: JsonFields): ReadingFields {
  const { deviceTimeIso: _iso, prevHash, ...rest } = j
  return { ...rest, prevHash: fromHex(prevHash) }
}

function readingVector(desc: string, label: string, f: ReadingFields): ReadingVector {
  const seed = testSeed(label)
  const record = encodeRecord(f)
  const message = readingSigningMessage(record)
  const signature = nobleSign(message, seed)
  const payload = assemblePayload(record, signature)
  return {
    kind: 'reading',
    desc,
    secretKeySeed: toHex(seed),
    publicKey: toHex(noblePublicKey(seed)),
    fields: toJsonFields(f),
    topic: deviceTopic(f.deviceId, 'readings'),
    partition: partitionOf(f.deviceId),
    record: toHex(record),
    signingMessage: toHex(message),
    signature: toHex(signature),
    payload: toHex(payload),
    payloadHash: toHex(readingHash(payload)),
  }
}

const T0 = Date.UTC(2025, 10, 24, 8, 0, 0) // 2025-11-24T08:00:00Z
const FIVE_MIN = 5 * 60 * 1000

/** Every vector file, keyed by file name (without .json). */
export function buildProtocolVectors(): Record<string, ProtocolVector> {
  const dev = 'truck-7-probe-1'
  const r1 = readingVector('seq 1, temperature only: 5.23 °C, prevHash is 32 zero bytes', dev, {
    deviceId: dev,
    seq: 1,
    deviceTimeMs: T0,
    tempCentiC: 523,
    prevHash: GENESIS_PREV_HASH,
  })
  const r2 = readingVector(
    'seq 2, chained to seq 1, every optional field: 6.10 °C, 65.12 %RH, door open + light, 2.31 g, battery 87 %, buffer overflow reported',
    dev,
    {
      deviceId: dev,
      seq: 2,
      deviceTimeMs: T0 + FIVE_MIN,
      tempCentiC: 610,
      prevHash: fromHex(r1.payloadHash),
      humidityCentiPct: 6512,
      events: EVENT.DOOR_OPEN | EVENT.LIGHT,
      shockCentiG: 231,
      batteryPct: 87,
      status: STATUS.BUFFER_OVERFLOW,
    },
  )
  const r3 = readingVector(
    'seq 3, chained to seq 2, negative temperature: -1.50 °C (freezing excursion), battery 86 %',
    dev,
    {
      deviceId: dev,
      seq: 3,
      deviceTimeMs: T0 + 2 * FIVE_MIN,
      tempCentiC: -150,
      prevHash: fromHex(r2.payloadHash),
      batteryPct: 86,
    },
  )
  const frozen = 'dry-ice-box-0042'
  const r4 = readingVector(
    'another device, seq 1: ultra-cold -79.90 °C, sensor fault and low battery flags, no events',
    frozen,
    {
      deviceId: frozen,
      seq: 1,
      deviceTimeMs: T0 + 1234,
      tempCentiC: -7990,
      prevHash: GENESIS_PREV_HASH,
      events: 0,
      batteryPct: 9,
      status: STATUS.SENSOR_FAULT | STATUS.LOW_BATTERY,
    },
  )

  const seed = testSeed(dev)
  const audience = 'coldproof-broker-eu-1'
  const body = encodeAuthBody({ timeMs: T0 - 60_000, nonce: sha256(utf8('coldproof test nonce 1')).subarray(0, 16) })
  const authMessage = authSigningMessage(dev, audience, body)
  const authSig = nobleSign(authMessage, seed)
  const auth: AuthTokenVector = {
    kind: 'auth-token',
    desc: `MQTT CONNECT of ${dev} to broker audience "${audience}": username = client id = device id, password = token`,
    secretKeySeed: toHex(seed),
    publicKey: toHex(noblePublicKey(seed)),
    deviceId: dev,
    audience,
    timeMs: T0 - 60_000,
    timeIso: new Date(T0 - 60_000).toISOString(),
    nonce: toHex(body.subarray(9)),
    body: toHex(body),
    signingMessage: toHex(authMessage),
    signature: toHex(authSig),
    token: encodeAuthToken(body, authSig),
  }

  const p1 = fromHex(r1.payload)
  const p2 = fromHex(r2.payload)
  const mutate = (base: Uint8Array, at: number, value: number): string => {
    const c = base.slice()
    c[at] = value
    return toHex(c)
  }
  const idLen = dev.length
  const presenceAt = 2 + idLen + 14 + 32
  const malformed: Record<string, MalformedVector> = {
    'malformed-empty': { kind: 'malformed', desc: 'empty payload', payload: '', error: 'ERR_READING_TRUNCATED' },
    'malformed-truncated-signature': {
      kind: 'malformed',
      desc: 'the seq 1 vector without its last signature byte',
      payload: toHex(p1.subarray(0, p1.length - 1)),
      error: 'ERR_READING_TRUNCATED',
    },
    'malformed-truncated-optional': {
      kind: 'malformed',
      desc: 'the seq 2 vector cut inside the humidity field',
      payload: toHex(p2.subarray(0, presenceAt + 2)),
      error: 'ERR_READING_TRUNCATED',
    },
    'malformed-trailing-byte': {
      kind: 'malformed',
      desc: 'the seq 1 vector with one 0x00 byte after the signature',
      payload: toHex(concatBytes(p1, Uint8Array.of(0))),
      error: 'ERR_READING_TRAILING_BYTES',
    },
    'malformed-version-2': {
      kind: 'malformed',
      desc: 'version byte 2',
      payload: mutate(p1, 0, 2),
      error: 'ERR_READING_UNKNOWN_VERSION',
    },
    'malformed-device-id-uppercase': {
      kind: 'malformed',
      desc: 'device id with an uppercase letter ("Truck-7-probe-1")',
      payload: mutate(p1, 2, 0x54),
      error: 'ERR_READING_BAD_DEVICE_ID',
    },
    'malformed-device-id-length-0': {
      kind: 'malformed',
      desc: 'device id length 0',
      payload: mutate(p1, 1, 0),
      error: 'ERR_READING_BAD_DEVICE_ID',
    },
    'malformed-seq-0': {
      kind: 'malformed',
      desc: 'sequence number 0',
      payload: toHex(concatBytes(p1.subarray(0, 2 + idLen), new Uint8Array(4), p1.subarray(2 + idLen + 4))),
      error: 'ERR_READING_FIELD_RANGE',
    },
    'malformed-humidity-10001': {
      kind: 'malformed',
      desc: 'the seq 2 vector with humidity 10001 (100.01 %RH)',
      payload: toHex(
        concatBytes(p2.subarray(0, presenceAt + 1), Uint8Array.of(0x27, 0x11), p2.subarray(presenceAt + 3)),
      ),
      error: 'ERR_READING_FIELD_RANGE',
    },
    'malformed-presence-bit-5': {
      kind: 'malformed',
      desc: 'presence byte sets bit 5, undefined in v1',
      payload: mutate(p1, presenceAt, 0x20),
      error: 'ERR_READING_UNKNOWN_FIELD',
    },
    'malformed-too-large': {
      kind: 'malformed',
      desc: `${MAX_READING_PAYLOAD + 1} bytes, one more than the largest valid v1 reading`,
      payload: toHex(concatBytes(Uint8Array.of(1), new Uint8Array(MAX_READING_PAYLOAD))),
      error: 'ERR_READING_TOO_LARGE',
    },
  }
  const flipped = p1.slice()
  flipped[presenceAt - 40] ^= 0x01 // the lowest temperature bit: 5.23 °C becomes 5.22 °C
  const badSig: Record<string, BadSignatureVector> = {
    'bad-signature-altered-temperature': {
      kind: 'bad-signature',
      desc: 'the seq 1 vector with its temperature changed to 5.22 °C after signing',
      publicKey: r1.publicKey,
      payload: toHex(flipped),
      error: 'ERR_READING_BAD_SIGNATURE',
    },
    'bad-signature-other-device-key': {
      kind: 'bad-signature',
      desc: `the seq 1 vector checked under ${frozen}'s key`,
      publicKey: r4.publicKey,
      payload: r1.payload,
      error: 'ERR_READING_BAD_SIGNATURE',
    },
  }
  return {
    'reading-1-temperature-only': r1,
    'reading-2-chained-all-fields': r2,
    'reading-3-negative-temperature': r3,
    'reading-4-ultra-cold-flags': r4,
    'auth-token-1': auth,
    ...malformed,
    ...badSig,
  }
}

// ------------------------------------------------------- Ed25519 edge cases

export interface EdgeCase {
  desc: string
  publicKey: string
  message: string
  signature: string
  expected: {
    /** @noble/ed25519 verify with { zip215: false } */
    noble: boolean
    /** Node's crypto.verify (OpenSSL 3) */
    node: boolean
    /** checkDevicePublicKey: 'ok' or the ProtocolError code */
    deviceKey: 'ok' | ProtocolErrorCode
  }
  note?: string
}

const L = 2n ** 252n + 27742317777372353535851937790883648493n
const IDENTITY_R = fromHex('01' + '00'.repeat(31))

function le32(n: bigint): Uint8Array {
  const out = new Uint8Array(32)
  for (let i = 0; i < 32; i++) {
    out[i] = Number(n & 0xffn)
    n >>= 8n
  }
  return out
}
const leInt = (b: Uint8Array): bigint => {
  let n = 0n
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i])
  return n
}

/**
 * For a small-order key A, the message that makes (R = identity, S = 0) pass
 * the cofactorless check [S]B = R + [k]A, i.e. k = H(R || A || M) is a multiple
 * of A's order: a forgery anyone can compute without a private key.
 */
function forgeUnderSmallOrderKey(key: Uint8Array, label: string): { message: Uint8Array; signature: Uint8Array } {
  const A = Point.fromBytes(key, true)
  let order = 1n
  while (!A.multiply(order, false).is0()) order *= 2n
  for (let i = 0; ; i++) {
    const message = utf8(`${label} #${i}`)
    const k = leInt(sha512(concatBytes(IDENTITY_R, key, message))) % L
    if (k % order === 0n) return { message, signature: concatBytes(IDENTITY_R, new Uint8Array(32)) }
  }
}

/** RFC 8032 5.1.5/5.1.6 by hand, with the public key A + T8 hashed in place of A; a message where k mod 8 != 0. */
function mixedOrderSignature(seed: Uint8Array): { key: Uint8Array; message: Uint8Array; signature: Uint8Array } {
  const h = sha512(seed)
  const a0 = h.slice(0, 32)
  a0[0] &= 248
  a0[31] &= 127
  a0[31] |= 64
  const a = leInt(a0)
  const key = Point.BASE.multiply(a % L)
    .add(Point.fromBytes(smallOrderPoints()[1], false))
    .toBytes()
  for (let i = 0; ; i++) {
    const message = utf8(`coldproof mixed-order key #${i}`)
    const r = leInt(sha512(concatBytes(h.subarray(32), message))) % L
    const R = Point.BASE.multiply(r).toBytes()
    const k = leInt(sha512(concatBytes(R, key, message))) % L
    if (k % 8n === 0n) continue
    return { key, message, signature: concatBytes(R, le32((r + k * a) % L)) }
  }
}

/** The eight points of order dividing 8 (RFC 7748 / "Taming the many EdDSAs"), computed, not copied. */
export function smallOrderPoints(): Uint8Array[] {
  // Any point times L lies in the torsion subgroup; find one of order 8 and take its multiples.
  for (let y = 2n; ; y++) {
    let p: Point
    try {
      p = Point.fromBytes(le32(y), true)
    } catch {
      continue
    }
    const t8 = p.multiply(L - 1n).add(p)
    if (t8.multiply(4n, false).is0()) continue
    const out: Uint8Array[] = [Point.ZERO.toBytes()]
    for (let k = 1n; k < 8n; k++) out.push(t8.multiply(k, false).toBytes())
    return out
  }
}

export function buildEdgeCases(): Record<string, EdgeCase> {
  const cases: Record<string, EdgeCase> = {}
  const seed = testSeed('edge-case-honest')
  const pk = noblePublicKey(seed)
  const msg = utf8('coldproof edge case message')
  const sig = nobleSign(msg, seed)
  cases['valid-honest-key'] = {
    desc: 'baseline: an honest key and its signature',
    publicKey: toHex(pk),
    message: toHex(msg),
    signature: toHex(sig),
    expected: { noble: true, node: true, deviceKey: 'ok' },
  }
  // S >= L: RFC 8032 section 5.1.7 step 1 requires 0 <= S < L; S + L verifies the same equation, so it is a malleated copy.
  const s = leInt(sig.subarray(32))
  cases['s-plus-l-malleable'] = {
    desc: 'the baseline signature with S replaced by S + L (same group equation, malleated bytes)',
    publicKey: toHex(pk),
    message: toHex(msg),
    signature: toHex(concatBytes(sig.subarray(0, 32), le32(s + L))),
    expected: { noble: false, node: false, deviceKey: 'ok' },
    note: 'RFC 8032 5.1.7: S must be < L. Both engines refuse it.',
  }
  cases['s-equals-l'] = {
    desc: 'S = L exactly',
    publicKey: toHex(pk),
    message: toHex(msg),
    signature: toHex(concatBytes(sig.subarray(0, 32), le32(L))),
    expected: { noble: false, node: false, deviceKey: 'ok' },
  }
  cases['s-all-ones'] = {
    desc: 'S = 2^256 - 1 (top bits set)',
    publicKey: toHex(pk),
    message: toHex(msg),
    signature: toHex(concatBytes(sig.subarray(0, 32), fromHex('ff'.repeat(32)))),
    expected: { noble: false, node: false, deviceKey: 'ok' },
  }
  // The identity key: OpenSSL's cofactorless check [S]B = R + [k]A holds for R = identity, S = 0 and ANY message.
  const forged = readingSigningMessage(
    encodeRecord({ deviceId: 'forged-device', seq: 1, deviceTimeMs: T0, tempCentiC: 500, prevHash: GENESIS_PREV_HASH }),
  )
  cases['identity-key-forged-reading'] = {
    desc: 'identity public key (0,1), R = identity, S = 0, over a reading nobody signed',
    publicKey: toHex(IDENTITY_R),
    message: toHex(forged),
    signature: toHex(concatBytes(IDENTITY_R, new Uint8Array(32))),
    expected: { noble: false, node: true, deviceKey: 'ERR_KEY_SMALL_ORDER' },
    note: 'Node (OpenSSL) accepts this forgery for any message; noble (strict) refuses small-order keys; registration refuses the key.',
  }
  // All eight small-order points, canonical encodings: a forgery that needs no private key.
  const names = ['identity', 'order-8-a', 'order-4-a', 'order-8-b', 'order-2', 'order-8-c', 'order-4-b', 'order-8-d']
  smallOrderPoints().forEach((key, i) => {
    const f = forgeUnderSmallOrderKey(key, `coldproof small-order ${names[i]}`)
    cases[`small-order-${i}-${names[i]}`] = {
      desc: `small-order public key ${i}·T8 (${names[i]}), canonical encoding, with a signature forged without a private key`,
      publicKey: toHex(key),
      message: toHex(f.message),
      signature: toHex(f.signature),
      expected: { noble: false, node: true, deviceKey: 'ERR_KEY_SMALL_ORDER' },
    }
  })
  // Non-canonical encodings of small-order points: y + p (for y = 0, 1) and the sign bit set with x = 0.
  const nonCanonical: Array<[string, string, string, boolean, ProtocolErrorCode]> = [
    [
      'identity-sign-bit',
      '01' + '00'.repeat(30) + '80',
      'identity (0,1) with the sign bit set (x = 0 has no negative)',
      true,
      'ERR_KEY_NON_CANONICAL',
    ],
    [
      'order-2-sign-bit',
      'ec' + 'ff'.repeat(30) + 'ff',
      'order-2 point (0,-1) with the sign bit set',
      true,
      'ERR_KEY_NON_CANONICAL',
    ],
    [
      'identity-y-plus-p',
      'ee' + 'ff'.repeat(30) + '7f',
      'identity encoded with y = 1 + p',
      true,
      'ERR_KEY_NON_CANONICAL',
    ],
    [
      'identity-y-plus-p-sign-bit',
      'ee' + 'ff'.repeat(30) + 'ff',
      'identity encoded with y = 1 + p and the sign bit set',
      true,
      'ERR_KEY_NON_CANONICAL',
    ],
    [
      'order-4-y-plus-p',
      'ed' + 'ff'.repeat(30) + '7f',
      'order-4 point (x, 0) encoded with y = p',
      true,
      'ERR_KEY_NON_CANONICAL',
    ],
    [
      'order-4-y-plus-p-sign-bit',
      'ed' + 'ff'.repeat(30) + 'ff',
      'order-4 point (-x, 0) encoded with y = p',
      true,
      'ERR_KEY_NON_CANONICAL',
    ],
  ]
  for (const [name, hex, desc, nodeAccepts, code] of nonCanonical) {
    const key = fromHex(hex)
    const f = forgeUnderSmallOrderKey(key, `coldproof non-canonical ${name}`)
    cases[`non-canonical-${name}`] = {
      desc: `non-canonical small-order key: ${desc}, with a forged signature`,
      publicKey: hex,
      message: toHex(f.message),
      signature: toHex(f.signature),
      expected: { noble: false, node: nodeAccepts, deviceKey: code },
    }
  }
  // y >= p on a point that is not small order (y = 3 + p decodes); and y = 2^255 - 1.
  cases['non-canonical-y-3-plus-p'] = {
    desc: 'key encoding y = 3 + p (a curve point, non-canonical)',
    publicKey: 'f0' + 'ff'.repeat(30) + '7f',
    message: toHex(msg),
    signature: toHex(sig),
    expected: { noble: false, node: false, deviceKey: 'ERR_KEY_NON_CANONICAL' },
  }
  cases['non-canonical-y-all-ones'] = {
    desc: 'key encoding y = 2^255 - 1',
    publicKey: 'ff'.repeat(31) + '7f',
    message: toHex(msg),
    signature: toHex(sig),
    expected: { noble: false, node: false, deviceKey: 'ERR_KEY_NON_CANONICAL' },
  }
  // y = 2: x^2 = (y^2 - 1) / (d y^2 + 1) has no square root mod p, so no point has this y.
  cases['not-on-curve-y-2'] = {
    desc: 'key encoding y = 2, which is not the y of any curve point',
    publicKey: '02' + '00'.repeat(31),
    message: toHex(msg),
    signature: toHex(sig),
    expected: { noble: false, node: false, deviceKey: 'ERR_KEY_NOT_ON_CURVE' },
  }
  // A mixed-order key A' = A + T8: not small order, so registration lets it in (no honest key generator makes one).
  // Signed as usual with A's scalar, the cofactored check (noble) always holds, the cofactorless one (OpenSSL)
  // only when k is a multiple of 8. Node is the stricter of the two: whatever it accepts, noble accepts.
  const mixed = mixedOrderSignature(seed)
  cases['mixed-order-key'] = {
    desc: 'key A + T (A honest, T of order 8), signature made with the scalar of A',
    publicKey: toHex(mixed.key),
    message: toHex(mixed.message),
    signature: toHex(mixed.signature),
    expected: { noble: true, node: false, deviceKey: 'ok' },
    note: 'The engines differ here in the safe direction: the ingest (Node) refuses what the offline verifier (noble) would accept, never the reverse.',
  }
  // R non-canonical (identity R encoded as y = 1 + p) under the identity key: OpenSSL compares R's bytes, so it refuses.
  cases['non-canonical-r-identity-key'] = {
    desc: 'identity key, R = identity encoded with y = 1 + p, S = 0',
    publicKey: toHex(IDENTITY_R),
    message: toHex(msg),
    signature: 'ee' + 'ff'.repeat(30) + '7f' + '00'.repeat(32),
    expected: { noble: false, node: false, deviceKey: 'ERR_KEY_SMALL_ORDER' },
  }
  return cases
}

// ------------------------------------------------------ docs/PROTOCOL.md block

export const DOC_VECTORS_BEGIN = '<!-- BEGIN GENERATED VECTORS (scripts/gen-protocol-vectors.ts) -->'
export const DOC_VECTORS_END = '<!-- END GENERATED VECTORS -->'

const FIELD_NOTES: Record<string, (v: number) => string> = {
  tempCentiC: (v) => `${(v / 100).toFixed(2)} °C`,
  humidityCentiPct: (v) => `${(v / 100).toFixed(2)} %RH`,
  shockCentiG: (v) => `${(v / 100).toFixed(2)} g`,
  batteryPct: (v) => `${v} %`,
  events: (v) => `0x${v.toString(16).padStart(2, '0')}`,
  status: (v) => `0x${v.toString(16).padStart(4, '0')}`,
}

/** Splits a vector's record into its fields (docs/PROTOCOL.md "Reading record"), for the annotated table. */
function recordParts(v: ReadingVector): Array<[number, string, string]> {
  const r = fromHex(v.record)
  const parts: Array<[number, string, string]> = []
  let o = 0
  const take = (n: number, what: string) => {
    parts.push([o, toHex(r.subarray(o, o + n)), what])
    o += n
  }
  take(1, 'version')
  take(1, 'device id length')
  take(r[1], 'device id (ASCII)')
  take(4, 'seq (u32)')
  take(8, 'deviceTimeMs (u64)')
  take(2, 'tempCentiC (i16)')
  take(32, 'prevHash')
  const presence = r[o]
  take(1, 'presence')
  const optional: Array<[number, number, string]> = [
    [0x01, 2, 'humidityCentiPct (u16)'],
    [0x02, 1, 'events (u8)'],
    [0x04, 2, 'shockCentiG (u16)'],
    [0x08, 1, 'batteryPct (u8)'],
    [0x10, 2, 'status (u16)'],
  ]
  for (const [bit, n, what] of optional) if (presence & bit) take(n, what)
  return parts
}

/** The hex test vectors as Markdown, for the "Test vectors" section of docs/PROTOCOL.md. */
export function renderVectorsMarkdown(vectors: Record<string, ProtocolVector>): string {
  const out: string[] = [DOC_VECTORS_BEGIN, '']
  const block = (label: string, value: string) => out.push(`${label}:`, '', '```', value, '```', '')
  for (const [name, v] of Object.entries(vectors)) {
    if (v.kind === 'reading') {
      out.push(`#### ${name}`, '', v.desc + '.', '', '| field | value |', '| --- | --- |')
      for (const [k, val] of Object.entries(v.fields)) {
        const note =
          k === 'deviceTimeIso'
            ? ' (informational: not encoded)'
            : typeof val === 'number' && FIELD_NOTES[k]
              ? ` (${FIELD_NOTES[k](val)})`
              : ''
        out.push(`| ${k} | \`${val}\`${note} |`)
      }
      out.push(
        `| topic | \`${v.topic}\` |`,
        '',
        'The record, field by field:',
        '',
        '| offset | bytes | field |',
        '| --- | --- | --- |',
      )
      for (const [off, hex, what] of recordParts(v)) out.push(`| ${off} | \`${hex}\` | ${what} |`)
      out.push('')
      block('Private key seed (32 bytes)', v.secretKeySeed)
      block('Public key', v.publicKey)
      block('Record (the signed bytes)', v.record)
      block('Signing message (tag || 0x00 || record)', v.signingMessage)
      block('Signature', v.signature)
      block('MQTT payload (record || signature)', v.payload)
      block('Chained hash SHA-256(payload) (next prevHash, receipt hash)', v.payloadHash)
    } else if (v.kind === 'auth-token') {
      out.push(
        `#### ${name}`,
        '',
        v.desc + '.',
        '',
        '| field | value |',
        '| --- | --- |',
        `| deviceId (username and client id) | \`${v.deviceId}\` |`,
        `| audience | \`${v.audience}\` |`,
        `| timeMs | \`${v.timeMs}\` (${v.timeIso}) |`,
        `| nonce | \`${v.nonce}\` |`,
        '',
      )
      block('Private key seed', v.secretKeySeed)
      block('Public key', v.publicKey)
      block('Body', v.body)
      block('Signing message', v.signingMessage)
      block('Signature', v.signature)
      block('Token (MQTT password)', v.token)
    }
  }
  const rejects = Object.entries(vectors).filter(([, v]) => v.kind === 'malformed' || v.kind === 'bad-signature')
  out.push('#### Payloads a decoder must refuse', '', '| file | what | expected error |', '| --- | --- | --- |')
  for (const [name, v] of rejects) {
    if (v.kind === 'malformed' || v.kind === 'bad-signature') out.push(`| ${name}.json | ${v.desc} | \`${v.error}\` |`)
  }
  out.push('', DOC_VECTORS_END)
  return out.join('\n')
}
