/**
 * Benchmark devices: a seeded Ed25519 key and a chain of signed readings
 * (seq 1..n, one per minute, each naming its predecessor's hash). Signing uses
 * Node's crypto so that a million readings take seconds, not minutes.
 */
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto'
import {
  encodeRecord,
  assemblePayload,
  readingSigningMessage,
  readingHash,
  GENESIS_PREV_HASH,
} from '../../ledger/protocol/index.ts'

/** RFC 8410 PKCS#8 prefix of an Ed25519 private key (the 32-byte seed follows). */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

export interface BenchKey {
  seed: Uint8Array
  publicKey: Uint8Array
  key: KeyObject
}

export function benchKey(seed: Uint8Array): BenchKey {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' })
  const publicKey = new Uint8Array(createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(12))
  return { seed, publicKey, key }
}

/** A deterministic seed for device number `n` of a run (no secret: benchmark keys only). */
export function benchSeed(run: string, n: number): Uint8Array {
  const seed = new Uint8Array(32)
  Buffer.from(`${run}:${n}`.padEnd(32, '.').slice(0, 32)).copy(seed)
  return seed
}

export interface SignedReading {
  payload: Uint8Array
  seq: number
}

export interface ChainCursor {
  seq: number
  prev: Uint8Array
}

/** Signs readings seq cursor.seq+1 .. cursor.seq+n at one per minute from t0, advancing the cursor. */
export function signReadings(
  deviceId: string,
  k: BenchKey,
  n: number,
  t0: number,
  cursor: ChainCursor = { seq: 0, prev: GENESIS_PREV_HASH },
): SignedReading[] {
  const out: SignedReading[] = []
  for (let i = 0; i < n; i++) {
    const seq = ++cursor.seq
    const record = encodeRecord({
      deviceId,
      seq,
      deviceTimeMs: t0 + seq * 60_000,
      tempCentiC: 500 + (seq % 50),
      prevHash: cursor.prev,
    })
    const payload = assemblePayload(record, new Uint8Array(sign(null, readingSigningMessage(record), k.key)))
    cursor.prev = readingHash(payload)
    out.push({ payload, seq })
  }
  return out
}

/** seq 1..n of a fresh chain (the old helper's shape, kept for the codec and proof stages). */
export function signedChain(
  deviceId: string,
  seed: Uint8Array,
  n: number,
  t0 = Date.now() - n * 60_000,
): SignedReading[] {
  return signReadings(deviceId, benchKey(seed), n, t0)
}
