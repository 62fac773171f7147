/**
 * Typed errors of the wire protocol. Every rejection carries a stable code
 * (listed in docs/PROTOCOL.md, "Error codes") and the evidence that explains it.
 */
export const PROTOCOL_ERROR_CODES = {
  ERR_READING_TRUNCATED: 'the payload ends before a field it declares',
  ERR_READING_TRAILING_BYTES: 'bytes follow the signature',
  ERR_READING_UNKNOWN_VERSION: 'the version byte is not one this decoder knows',
  ERR_READING_BAD_DEVICE_ID: 'the device id is empty, too long or has characters outside [a-z0-9-]',
  ERR_READING_FIELD_RANGE: 'a field is outside its allowed range',
  ERR_READING_UNKNOWN_FIELD: 'the presence byte sets a bit this version does not define',
  ERR_READING_BAD_SIGNATURE: 'the Ed25519 signature does not verify under the device key',
  ERR_READING_TOO_LARGE: 'the payload is larger than any valid reading',
  ERR_KEY_BAD_LENGTH: 'a public key is not 32 bytes',
  ERR_KEY_NON_CANONICAL: 'a public key encodes y >= p (non-canonical encoding)',
  ERR_KEY_NOT_ON_CURVE: 'a public key does not decode to a curve point',
  ERR_KEY_SMALL_ORDER: 'a public key is a point of small order (a signature under it proves nothing)',
  ERR_TOPIC_INVALID: 'a topic is not a ColdProof v1 device topic',
  ERR_CONTROL_MALFORMED: 'a receipt or resend request payload is malformed',
  ERR_TOKEN_MALFORMED: 'a device MQTT token cannot be decoded',
} as const

export type ProtocolErrorCode = keyof typeof PROTOCOL_ERROR_CODES

export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode
  /** Evidence: offsets, field names, expected and actual values. */
  readonly details: Readonly<Record<string, unknown>>
  constructor(code: ProtocolErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message)
    this.name = 'ProtocolError'
    this.code = code
    this.details = details
  }
}

export function isProtocolError(e: unknown): e is ProtocolError {
  return e instanceof ProtocolError
}
