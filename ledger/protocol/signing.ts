/**
 * What exactly is signed and hashed (docs/PROTOCOL.md, "Signing" and "Chaining").
 * The signature engine is the caller's choice: the simulated firmware signs with
 * @noble/ed25519, the ingest verifies with Node's crypto, the offline verifier
 * with WebCrypto or noble. They all sign and verify these bytes.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { abytes, concatBytes, utf8 } from './bytes.ts'
import { HASH_LENGTH } from './reading.ts'

/** Domain-separation tag: a signature over a reading can never pass as anything else. */
export const READING_SIGNING_TAG = 'coldproof reading v1'
const TAG_PREFIX = concatBytes(utf8(READING_SIGNING_TAG), Uint8Array.of(0))

/** The Ed25519 message for a record: UTF-8 tag, one 0x00 byte, then the record bytes. */
export function readingSigningMessage(record: Uint8Array): Uint8Array {
  return concatBytes(TAG_PREFIX, abytes(record, undefined, 'record'))
}

/** The chain link: SHA-256 over the whole payload (record || signature). */
export function readingHash(payload: Uint8Array): Uint8Array {
  return sha256(payload)
}

/** prevHash of a device's first reading (seq 1). */
export const GENESIS_PREV_HASH: Uint8Array = new Uint8Array(HASH_LENGTH)

export { sha256 }
