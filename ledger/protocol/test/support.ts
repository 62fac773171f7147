/**
 * The two Ed25519 engines every protocol test checks against each other:
 * @noble/ed25519 in strict RFC 8032 mode (zip215: false) and Node's built-in
 * crypto (OpenSSL). Used by tests and the vector generator only; not part of
 * the public API (index.ts), since Node's crypto does not run in browsers.
 */
import * as ed from '@noble/ed25519'
import { sha512 } from '@noble/hashes/sha2.js'
import { createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto'

// noble's synchronous API needs a SHA-512 (noble README, "Usage").
ed.hashes.sha512 = sha512

/** RFC 8410 SubjectPublicKeyInfo prefix for an Ed25519 key (id-Ed25519, OID 1.3.101.112). */
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])
/** RFC 8410 PKCS#8 OneAsymmetricKey prefix for a 32-byte Ed25519 seed. */
const PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
])

export function nobleVerify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return ed.verify(signature, message, publicKey, { zip215: false })
  } catch {
    return false
  }
}

/**
 * Node's verdict. OpenSSL refuses to even import some 32-byte strings as a
 * key; that counts as "does not verify".
 */
export function nodeVerify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' })
    return cryptoVerify(null, message, key, signature)
  } catch {
    return false
  }
}

export function nobleSign(message: Uint8Array, seed: Uint8Array): Uint8Array {
  return ed.sign(message, seed)
}

export function nodeSign(message: Uint8Array, seed: Uint8Array): Uint8Array {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' })
  return new Uint8Array(cryptoSign(null, message, key))
}

export function noblePublicKey(seed: Uint8Array): Uint8Array {
  return ed.getPublicKey(seed)
}

export function nodePublicKey(seed: Uint8Array): Uint8Array {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' })
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' })
  return new Uint8Array(spki.subarray(SPKI_PREFIX.length))
}
