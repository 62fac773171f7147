import t from 'tap'
import { generateKeyPairSync, sign } from 'node:crypto'
import { assemblePayload, encodeRecord, GENESIS_PREV_HASH, readingSigningMessage } from '../protocol/index.ts'
import { createVerifyPool } from './verify-pool.ts'
import { signatureValid, startCheck } from './early-verify.ts'
import type { DeviceLookup } from '../store/ledger.ts'

function device() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const pk = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12))
  const reading = (deviceId: string, seq: number) => {
    const record = encodeRecord({
      deviceId,
      seq,
      deviceTimeMs: 1_800_000_000_000,
      tempCentiC: 512,
      prevHash: GENESIS_PREV_HASH,
    })
    return assemblePayload(record, new Uint8Array(sign(null, readingSigningMessage(record), privateKey)))
  }
  return { pk, reading }
}

t.test('an early check starts only for a decodable reading of a registered, unrevoked device', async (t) => {
  const pool = createVerifyPool({ threads: 1 })
  t.teardown(() => pool.close())
  const a = device()
  const registry = new Map<string, DeviceLookup>([
    ['dev-a', { publicKey: a.pk, revoked: false }],
    ['dev-r', { publicKey: a.pk, revoked: true }],
  ])
  const lookup = (id: string) => registry.get(id)
  const early = startCheck(pool, lookup, a.reading('dev-a', 1))
  t.ok(early, 'started')
  t.equal(early!.decoded.fields.seq, 1, 'carries the decoded reading')
  t.equal(await early!.valid, true)
  t.equal(startCheck(pool, lookup, a.reading('dev-x', 1)), undefined, 'unknown device: judging says so')
  t.equal(startCheck(pool, lookup, a.reading('dev-r', 1)), undefined, 'revoked device')
  t.equal(startCheck(pool, lookup, new Uint8Array([1, 2, 3])), undefined, 'undecodable')
  t.equal(startCheck(pool, lookup, new Uint8Array(10_000)), undefined, 'oversized')
})

t.test('judging reuses the early outcome only under the same key', async (t) => {
  const pool = createVerifyPool({ threads: 1 })
  t.teardown(() => pool.close())
  const a = device()
  const b = device()
  const early = startCheck(pool, () => ({ publicKey: a.pk, revoked: false }), a.reading('dev-a', 1))!
  t.equal(
    await signatureValid(pool, early, early.decoded, a.pk.slice()),
    true,
    'same key (another copy): the early outcome',
  )
  t.equal(await signatureValid(pool, early, early.decoded, b.pk), false, 'another key: checked again, and it fails')
  const forged = startCheck(pool, () => ({ publicKey: b.pk, revoked: false }), a.reading('dev-a', 2))!
  t.equal(
    await signatureValid(pool, forged, forged.decoded, b.pk),
    false,
    'a reading signed by another key does not verify',
  )
  t.equal(await signatureValid(pool, undefined, early.decoded, a.pk), true, 'no early check: verified at judging')
})
