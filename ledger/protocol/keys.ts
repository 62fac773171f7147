/**
 * Device public key checks made at registration (docs/PROTOCOL.md, "Keys").
 *
 * RFC 8032 verification accepts any message under a small-order public key for
 * a suitably crafted signature (Node's OpenSSL does for the identity key with
 * R = identity, S = 0), so such a key proves nothing and is refused here,
 * before a device can be registered. Non-canonical encodings (y >= p) are
 * refused too, so one key has exactly one byte string.
 */
import { Point } from '@noble/ed25519'
import { ProtocolError } from './errors.ts'
import { toHex } from './bytes.ts'

const P = 2n ** 255n - 19n

function yOf(key: Uint8Array): bigint {
  let y = 0n
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? key[i] & 0x7f : key[i])
  return y
}

/** Throws ProtocolError unless `key` is a canonical, full-order-usable Ed25519 public key. */
export function checkDevicePublicKey(key: unknown): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== 32) {
    throw new ProtocolError(
      'ERR_KEY_BAD_LENGTH',
      `public key expected 32 bytes, got ${key instanceof Uint8Array ? key.length : typeof key}`,
    )
  }
  if (yOf(key) >= P) {
    throw new ProtocolError('ERR_KEY_NON_CANONICAL', `public key ${toHex(key)} encodes y >= 2^255-19`, {
      key: toHex(key),
    })
  }
  let point: Point
  try {
    // y < p is checked above; decoding in the lenient (ZIP-215) mode lets the
    // x = 0 / sign-bit case below get its own, precise code instead of "not on curve".
    point = Point.fromBytes(key, true)
  } catch {
    throw new ProtocolError('ERR_KEY_NOT_ON_CURVE', `public key ${toHex(key)} is not a point on edwards25519`, {
      key: toHex(key),
    })
  }
  // x = 0 with the sign bit set is a second encoding of the same point.
  if (point.x === 0n && (key[31] & 0x80) !== 0) {
    throw new ProtocolError('ERR_KEY_NON_CANONICAL', `public key ${toHex(key)} sets the sign bit for x = 0`, {
      key: toHex(key),
    })
  }
  if (point.isSmallOrder()) {
    throw new ProtocolError('ERR_KEY_SMALL_ORDER', `public key ${toHex(key)} has small order`, { key: toHex(key) })
  }
  return key
}
