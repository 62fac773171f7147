import t from 'tap'
import * as ed from '@noble/ed25519'
import { sha512 } from '@noble/hashes/sha2.js'
import { createPublicKey, verify as nodeVerify } from 'node:crypto'
import { encodeRecord, assemblePayload, decodeReading, readingSigningMessage, readingHash, GENESIS_PREV_HASH, ProtocolError } from './index.ts'

ed.hashes.sha512 = sha512

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

t.test('round trip, signed by noble, verified by Node crypto', async (t) => {
  const sk = new Uint8Array(32).fill(7)
  const pk = ed.getPublicKey(sk)
  const record = encodeRecord({ deviceId: 'truck-7-probe-1', seq: 1, deviceTimeMs: 1764000000000, tempCentiC: 523, prevHash: GENESIS_PREV_HASH, batteryPct: 97 })
  const sig = ed.sign(readingSigningMessage(record), sk)
  const payload = assemblePayload(record, sig)
  t.ok(payload.length <= 160, `temperature-only payload is ${payload.length} bytes`)
  const d = decodeReading(payload)
  t.equal(d.fields.deviceId, 'truck-7-probe-1')
  t.equal(d.fields.tempCentiC, 523)
  t.equal(d.fields.batteryPct, 97)
  const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pk]), format: 'der', type: 'spki' })
  t.ok(nodeVerify(null, readingSigningMessage(d.record), key, d.signature))
  t.equal(readingHash(payload).length, 32)
  const bad = payload.slice(); bad[29] ^= 1
  t.throws(() => decodeReading(new Uint8Array(payload.length + 1).fill(1)), ProtocolError)
  t.notOk(nodeVerify(null, readingSigningMessage(decodeReading(bad).record), key, decodeReading(bad).signature))
})
