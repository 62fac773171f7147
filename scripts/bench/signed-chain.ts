/** A device's chain of signed readings for the benchmark: seq 1..n, one per minute, chained. */
import * as ed from '@noble/ed25519'
import { sha512 } from '@noble/hashes/sha2.js'
import { encodeRecord, assemblePayload, readingSigningMessage, readingHash, GENESIS_PREV_HASH } from '../../ledger/protocol/index.ts'

ed.hashes.sha512 = sha512

export interface SignedReading { payload: Uint8Array; seq: number }

export function signedChain(deviceId: string, sk: Uint8Array, n: number, t0 = Date.now() - n * 60_000): SignedReading[] {
  const out: SignedReading[] = []
  let prev = GENESIS_PREV_HASH
  for (let seq = 1; seq <= n; seq++) {
    const record = encodeRecord({ deviceId, seq, deviceTimeMs: t0 + seq * 60_000, tempCentiC: 500 + (seq % 50), prevHash: prev })
    const payload = assemblePayload(record, ed.sign(readingSigningMessage(record), sk))
    prev = readingHash(payload)
    out.push({ payload, seq })
  }
  return out
}

