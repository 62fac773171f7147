/**
 * Ed25519 signing as the firmware does it: @noble/ed25519 (pure JS, like a
 * small MCU library), synchronous API. The ingest verifies with Node's
 * OpenSSL, so every published reading is checked by a second implementation
 * (ARCHITECTURE.md decision 9).
 */
import * as ed from '@noble/ed25519'
import { sha512 } from '@noble/hashes/sha2.js'
import { randomBytes } from 'node:crypto'
import {
  assemblePayload,
  authSigningMessage,
  encodeAuthBody,
  encodeAuthToken,
  readingSigningMessage,
  AUTH_NONCE_LENGTH,
} from '../ledger/protocol/index.ts'

// noble v3 needs a SHA-512 for its synchronous API (RFC 8032 section 5.1).
ed.hashes.sha512 = sha512

export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  return ed.getPublicKey(secretKey)
}

export function newSecretKey(): Uint8Array {
  return new Uint8Array(randomBytes(32))
}

/** record || Ed25519(tag || 0x00 || record): the MQTT payload (docs/PROTOCOL.md, "Signing"). */
export function signRecord(record: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return assemblePayload(record, ed.sign(readingSigningMessage(record), secretKey))
}

/**
 * The MQTT password for a device login (ledger/protocol/auth-token.ts). A
 * fresh nonce each time: the broker refuses a repeated one, so every
 * (re)connect needs a new token.
 */
export function deviceAuthToken(
  deviceId: string,
  secretKey: Uint8Array,
  audience: string,
  timeMs = Date.now(),
  nonce: Uint8Array = new Uint8Array(randomBytes(AUTH_NONCE_LENGTH)),
): string {
  const body = encodeAuthBody({ timeMs, nonce })
  return encodeAuthToken(body, ed.sign(authSigningMessage(deviceId, audience, body), secretKey))
}
