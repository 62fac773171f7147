/**
 * Device MQTT authentication token (docs/PROTOCOL.md, "Device authentication").
 *
 * The device connects with username = client id = its device id and password =
 * base64url(body || signature), body = 0x01 | u64 timeMs | 16-byte nonce.
 * The signature is Ed25519 over
 *   "coldproof mqtt auth v1" || 0x00 || u8 len(deviceId) || deviceId
 *                            || u8 len(audience) || audience || body
 * so a token names one device and one broker (the audience) and cannot be
 * reused elsewhere. The broker bounds clock skew and refuses a repeated nonce.
 */
import { ProtocolError } from './errors.ts'
import { abytes, aobject, concatBytes, fromBase64Url, toBase64Url, utf8 } from './bytes.ts'
import { checkDeviceId, SIGNATURE_LENGTH } from './reading.ts'

export const AUTH_TOKEN_TAG = 'coldproof mqtt auth v1'
export const AUTH_NONCE_LENGTH = 16
const BODY_LENGTH = 1 + 8 + AUTH_NONCE_LENGTH

export interface AuthTokenBody {
  timeMs: number
  nonce: Uint8Array
}
export interface DecodedAuthToken extends AuthTokenBody {
  body: Uint8Array
  signature: Uint8Array
}

export function encodeAuthBody(b: AuthTokenBody): Uint8Array {
  aobject(b, 'body')
  if (!Number.isSafeInteger(b.timeMs) || b.timeMs < 0)
    throw new RangeError(`"timeMs" must be a non-negative safe integer, got ${b.timeMs}`)
  abytes(b.nonce, AUTH_NONCE_LENGTH, 'nonce')
  const out = new Uint8Array(BODY_LENGTH)
  const dv = new DataView(out.buffer)
  out[0] = 1
  dv.setUint32(1, Math.floor(b.timeMs / 2 ** 32))
  dv.setUint32(5, b.timeMs >>> 0)
  out.set(b.nonce, 9)
  return out
}

/** The bytes a device signs to log in to broker `audience`. */
export function authSigningMessage(deviceId: string, audience: string, body: Uint8Array): Uint8Array {
  const id = utf8(checkDeviceId(deviceId))
  const aud = utf8(audience)
  if (aud.length < 1 || aud.length > 255)
    throw new RangeError(`"audience" must be 1..255 bytes of UTF-8, got ${aud.length}`)
  return concatBytes(
    utf8(AUTH_TOKEN_TAG),
    Uint8Array.of(0, id.length),
    id,
    Uint8Array.of(aud.length),
    aud,
    abytes(body, BODY_LENGTH, 'body'),
  )
}

export function encodeAuthToken(body: Uint8Array, signature: Uint8Array): string {
  return toBase64Url(concatBytes(abytes(body, BODY_LENGTH, 'body'), abytes(signature, SIGNATURE_LENGTH, 'signature')))
}

export function decodeAuthToken(token: string): DecodedAuthToken {
  let raw: Uint8Array
  try {
    raw = fromBase64Url(String(token))
  } catch {
    throw new ProtocolError('ERR_TOKEN_MALFORMED', 'token is not base64url')
  }
  // RFC 4648 section 3.5: unused bits of the last character must be zero. Refusing the
  // other spellings keeps one token = one string (what a broker logs and compares).
  if (toBase64Url(raw) !== token)
    throw new ProtocolError('ERR_TOKEN_MALFORMED', 'token is not canonical base64url (no padding, zero unused bits)')
  if (raw.length !== BODY_LENGTH + SIGNATURE_LENGTH)
    throw new ProtocolError(
      'ERR_TOKEN_MALFORMED',
      `token decodes to ${raw.length} bytes, expected ${BODY_LENGTH + SIGNATURE_LENGTH}`,
    )
  if (raw[0] !== 1) throw new ProtocolError('ERR_TOKEN_MALFORMED', `token version ${raw[0]} is unknown`)
  const dv = new DataView(raw.buffer, raw.byteOffset)
  const hi = dv.getUint32(1)
  if (hi > 0x1fffff) throw new ProtocolError('ERR_TOKEN_MALFORMED', 'token time exceeds 2^53-1')
  return {
    timeMs: hi * 2 ** 32 + dv.getUint32(5),
    nonce: raw.slice(9, BODY_LENGTH),
    body: raw.slice(0, BODY_LENGTH),
    signature: raw.slice(BODY_LENGTH),
  }
}
