/**
 * Walks testdata/vectors/*.json (the firmware authors' test vectors) and checks
 * every one with both Ed25519 engines and the codec; then checks the files are
 * exactly what scripts/gen-protocol-vectors.ts would write (deterministic).
 */
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { fromHex, toHex, toBase64Url } from './bytes.ts'
import { assemblePayload, decodeReading, encodeRecord } from './reading.ts'
import { GENESIS_PREV_HASH, readingHash, readingSigningMessage } from './signing.ts'
import { deviceTopic, parseDeviceTopic, partitionOf } from './topics.ts'
import { authSigningMessage, decodeAuthToken, encodeAuthBody } from './auth-token.ts'
import { checkDevicePublicKey } from './keys.ts'
import { verifyReading } from './verify.ts'
import { isProtocolError } from './errors.ts'
import { nobleSign, noblePublicKey, nobleVerify, nodePublicKey, nodeSign, nodeVerify } from './test/support.ts'
import {
  buildProtocolVectors,
  fromJsonFields,
  toJsonFields,
  type ProtocolVector,
  type ReadingVector,
} from './test/vectors.ts'

const dir = new URL('./testdata/vectors/', import.meta.url)
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
const vectors = new Map(
  files.map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as ProtocolVector]),
)

t.ok([...vectors.values()].filter((v) => v.kind === 'reading').length >= 3, 'at least three reading vectors')
t.ok(
  [...vectors.values()].some((v) => v.kind === 'auth-token'),
  'an auth token vector',
)

for (const [name, v] of vectors) {
  t.test(`${name}: ${v.desc}`, async (t) => {
    if (v.kind === 'reading') {
      const seed = fromHex(v.secretKeySeed),
        pk = fromHex(v.publicKey)
      t.equal(toHex(noblePublicKey(seed)), v.publicKey, 'noble derives the public key from the seed')
      t.equal(toHex(nodePublicKey(seed)), v.publicKey, 'Node derives the public key from the seed')
      t.equal(checkDevicePublicKey(pk), pk, 'the key passes registration')
      const fields = fromJsonFields(v.fields)
      t.equal(new Date(v.fields.deviceTimeMs).toISOString(), v.fields.deviceTimeIso)
      const record = encodeRecord(fields)
      t.equal(toHex(record), v.record, 'fields encode to the record bytes')
      const message = readingSigningMessage(record)
      t.equal(toHex(message), v.signingMessage, 'signing message = tag || 0x00 || record')
      t.equal(
        toHex(message.subarray(0, 21)),
        toHex(new TextEncoder().encode('coldproof reading v1\0')),
        'message starts with the domain tag and 0x00',
      )
      t.equal(toHex(nobleSign(message, seed)), v.signature, 'noble signs to the vector signature')
      t.equal(toHex(nodeSign(message, seed)), v.signature, 'Node signs to the vector signature')
      const sig = fromHex(v.signature)
      t.ok(nobleVerify(sig, message, pk), 'noble verifies')
      t.ok(nodeVerify(sig, message, pk), 'Node verifies')
      const payload = assemblePayload(record, sig)
      t.equal(toHex(payload), v.payload, 'payload = record || signature')
      t.ok(payload.length <= 160 || v.fields.humidityCentiPct !== undefined, `payload is ${payload.length} bytes`)
      t.equal(toHex(readingHash(payload)), v.payloadHash, 'payloadHash = SHA-256(payload)')
      const d = await verifyReading(fromHex(v.payload), pk)
      t.same(toJsonFields(d.fields), v.fields, 'decodes to the vector fields')
      t.equal(toHex(d.record), v.record, 'decoded record is the exact signed byte range')
      t.equal(deviceTopic(v.fields.deviceId, 'readings'), v.topic)
      t.equal(partitionOf(v.fields.deviceId), v.partition)
      t.same(parseDeviceTopic(v.topic), { deviceId: v.fields.deviceId, partition: v.partition, kind: 'readings' })
    } else if (v.kind === 'auth-token') {
      const seed = fromHex(v.secretKeySeed),
        pk = fromHex(v.publicKey)
      t.equal(toHex(nodePublicKey(seed)), v.publicKey)
      const body = encodeAuthBody({ timeMs: v.timeMs, nonce: fromHex(v.nonce) })
      t.equal(toHex(body), v.body, 'body encodes')
      const message = authSigningMessage(v.deviceId, v.audience, body)
      t.equal(toHex(message), v.signingMessage, 'signing message')
      t.equal(toHex(nobleSign(message, seed)), v.signature, 'noble signs to the vector')
      t.equal(toHex(nodeSign(message, seed)), v.signature, 'Node signs to the vector')
      const tok = decodeAuthToken(v.token)
      t.equal(tok.timeMs, v.timeMs)
      t.equal(toHex(tok.nonce), v.nonce)
      t.equal(toBase64Url(Uint8Array.from([...tok.body, ...tok.signature])), v.token)
      t.ok(nobleVerify(tok.signature, message, pk), 'noble verifies the token')
      t.ok(nodeVerify(tok.signature, message, pk), 'Node verifies the token')
      t.notOk(
        nodeVerify(tok.signature, authSigningMessage(v.deviceId, v.audience + '-other', body), pk),
        'not valid for another audience',
      )
      t.notOk(
        nobleVerify(tok.signature, authSigningMessage('other-device', v.audience, body), pk),
        'not valid for another device id',
      )
    } else if (v.kind === 'malformed') {
      t.throws(() => decodeReading(fromHex(v.payload)), { code: v.error }, `refused with ${v.error}`)
    } else {
      const payload = fromHex(v.payload)
      const d = decodeReading(payload)
      const message = readingSigningMessage(d.record)
      t.notOk(nobleVerify(d.signature, message, fromHex(v.publicKey)), 'noble refuses')
      t.notOk(nodeVerify(d.signature, message, fromHex(v.publicKey)), 'Node refuses')
      await t.rejects(verifyReading(payload, fromHex(v.publicKey)), { code: v.error })
      await t.rejects(
        verifyReading(payload, fromHex(v.publicKey), nodeVerify),
        { code: v.error },
        'also with Node as the engine',
      )
    }
  })
}

t.test('readings of one device chain: seq +1, prevHash = SHA-256 of the previous payload', async (t) => {
  const byDevice = new Map<string, ReadingVector[]>()
  for (const v of vectors.values())
    if (v.kind === 'reading') byDevice.set(v.fields.deviceId, [...(byDevice.get(v.fields.deviceId) ?? []), v])
  t.ok(
    [...byDevice.values()].some((rs) => rs.length >= 3),
    'one device has a chain of three',
  )
  for (const [id, rs] of byDevice) {
    rs.sort((a, b) => a.fields.seq - b.fields.seq)
    t.equal(rs[0].fields.seq, 1, `${id} starts at seq 1`)
    t.equal(rs[0].fields.prevHash, toHex(GENESIS_PREV_HASH), `${id} seq 1 has a zero prevHash`)
    for (let i = 1; i < rs.length; i++) {
      t.equal(
        rs[i].fields.seq,
        rs[i - 1].fields.seq + 1,
        `${id} seq ${rs[i].fields.seq} follows ${rs[i - 1].fields.seq}`,
      )
      t.equal(
        rs[i].fields.prevHash,
        toHex(readingHash(fromHex(rs[i - 1].payload))),
        `${id} seq ${rs[i].fields.seq} links to the previous payload`,
      )
    }
  }
})

t.test('the committed files are exactly what the generator writes (deterministic)', async (t) => {
  const built = buildProtocolVectors()
  t.same(Object.keys(built).sort(), [...vectors.keys()].sort(), 'same file set')
  for (const [name, v] of Object.entries(built)) {
    t.equal(
      readFileSync(new URL(`${name}.json`, dir), 'utf8'),
      JSON.stringify(v, null, 2) + '\n',
      `${name}.json is current`,
    )
  }
  t.same(buildProtocolVectors(), built, 'two builds are identical')
})

t.test('verifyReading refuses malformed input with the decoder code, never another error', async (t) => {
  const r1 = vectors.get('reading-1-temperature-only') as ReadingVector
  await t.rejects(verifyReading(fromHex(r1.payload).subarray(1), fromHex(r1.publicKey)), {
    code: 'ERR_READING_UNKNOWN_VERSION',
  })
  for (const badKey of [new Uint8Array(0), new Uint8Array(32), new Uint8Array(33)]) {
    const err = await verifyReading(fromHex(r1.payload), badKey).catch((e: unknown) => e)
    t.ok(
      isProtocolError(err) && err.code === 'ERR_READING_BAD_SIGNATURE',
      `key of ${badKey.length} bytes: bad signature`,
    )
  }
})
