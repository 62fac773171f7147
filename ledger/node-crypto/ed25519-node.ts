/**
 * Ed25519 with Node's crypto (OpenSSL) over the raw 32-byte public keys the
 * protocol carries: the one place that wraps such a key as a KeyObject. Used
 * by the ingest's verify pool, the integrity check and the broker's device
 * login; the browser and the devices use @noble/ed25519 instead.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto'

/** RFC 8410 SubjectPublicKeyInfo prefix of an Ed25519 key (OID 1.3.101.112). */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

/** The DER SubjectPublicKeyInfo of a raw Ed25519 public key. */
export function ed25519Spki(raw: Uint8Array): Buffer {
  return Buffer.concat([SPKI_PREFIX, raw])
}

/** The KeyObject of a raw Ed25519 public key, or null when it is not one. */
export function ed25519PublicKey(raw: Uint8Array): KeyObject | null {
  if (raw.length !== 32) return null
  try {
    return createPublicKey({ key: ed25519Spki(raw), format: 'der', type: 'spki' })
  } catch {
    return null
  }
}

/** Verifies without throwing: false for a bad key, a bad signature or a malformed one. */
export function ed25519Verify(key: KeyObject | null, message: Uint8Array, signature: Uint8Array): boolean {
  if (!key || signature.length !== 64) return false
  try {
    return verify(null, message, key, signature)
  } catch {
    return false
  }
}

/**
 * A verifier that keeps the parsed keys (a fleet reuses a few thousand keys
 * millions of times); at `maxKeys` the cache starts over.
 */
export function cachedEd25519Verifier(
  maxKeys = 100_000,
): (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean {
  const keys = new Map<string, KeyObject | null>()
  return (signature, message, publicKey) => {
    const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('latin1')
    let key = keys.get(id)
    if (key === undefined) {
      key = ed25519PublicKey(publicKey)
      if (keys.size >= maxKeys) keys.clear()
      keys.set(id, key)
    }
    return ed25519Verify(key, message, signature)
  }
}
