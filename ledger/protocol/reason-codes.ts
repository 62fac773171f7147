/**
 * The one catalogue of the codes a reading can be refused with after the
 * broker let it through: the ingest quarantines it under exactly one of them,
 * counts it (coldproof_quarantined_total{reason}) and docs/PROTOCOL.md,
 * "Why a reading is refused", lists the same table (a test keeps them equal).
 * Dependency-free, like the rest of the wire format.
 */
import type { ProtocolErrorCode } from './errors.ts'

/** A payload that does not decode is refused under the decoder's own code (errors.ts). */
export const DECODE_REASONS = [
  'ERR_READING_TRUNCATED',
  'ERR_READING_TRAILING_BYTES',
  'ERR_READING_UNKNOWN_VERSION',
  'ERR_READING_BAD_DEVICE_ID',
  'ERR_READING_FIELD_RANGE',
  'ERR_READING_UNKNOWN_FIELD',
] as const satisfies readonly ProtocolErrorCode[]
export type DecodeReason = (typeof DECODE_REASONS)[number]

export const READING_REFUSAL_REASONS = {
  ERR_READING_TOO_LARGE:
    'the payload is larger than 153 bytes, the largest valid reading (checked before anything else)',
  ERR_READING_TRUNCATED: 'the payload ends before a field it declares',
  ERR_READING_TRAILING_BYTES: 'bytes follow the signature',
  ERR_READING_UNKNOWN_VERSION: 'the version byte is not 1',
  ERR_READING_BAD_DEVICE_ID:
    'the device id in the record is empty, longer than 32 bytes, or has a character outside [a-z0-9-] (or starts with -)',
  ERR_READING_FIELD_RANGE: 'a field is outside its range, or sets a reserved event or status bit',
  ERR_READING_UNKNOWN_FIELD: 'the presence byte sets a bit this version does not define',
  ERR_READING_BAD_SIGNATURE: "the Ed25519 signature does not verify under the device's registered key",
  ERR_TOPIC_INVALID:
    'the topic is not a coldproof/v1 readings topic, or its partition digit is wrong for the device id',
  ERR_TOPIC_MISMATCH: 'the record names another device than its topic',
  ERR_UNKNOWN_DEVICE: "no device is registered under the record's device id",
  ERR_REVOKED: 'the device is revoked',
  ERR_FUTURE_TIME: 'deviceTimeMs is further ahead of the ledger clock than the allowed skew (default 5 minutes)',
  ERR_CHAIN_PREV_MISMATCH:
    "the reading is the next seq above the chain head, but its prevHash is not the hash of the head's payload",
  ERR_CHAIN_FORK:
    "another validly signed reading is already chained or held at this seq, and the device's first fork is logged already (reading.fork entry)",
  ERR_HELD_UNLINKED:
    'a reading held above a gap does not link to the reading that filled the gap below it (a fork or a forgery)',
  ERR_SEQ_DECLARED_LOST: 'the seq lies inside a range the ledger declared lost: the chain has moved past it',
  ERR_HELD_LIMIT:
    "the reading would raise the device's highest seq while it already holds the maximum of readings above gaps (maxHeldPerDevice); send it again once the gap fills",
  ERR_HELD_TOO_FAR:
    'the reading is more than maxHeldAhead seqs above the chain head and does not report BUFFER_OVERFLOW',
} as const
export type ReadingRefusalReason = keyof typeof READING_REFUSAL_REASONS

/**
 * Names ledgers written before the catalogue used for three of these codes.
 * ERR_MALFORMED kept the decoder's code in details.protocolCode.
 */
const LEGACY: Readonly<Record<string, ReadingRefusalReason>> = {
  ERR_OVERSIZED: 'ERR_READING_TOO_LARGE',
  ERR_BAD_SIGNATURE: 'ERR_READING_BAD_SIGNATURE',
}

export function isReadingRefusalReason(code: unknown): code is ReadingRefusalReason {
  return typeof code === 'string' && Object.hasOwn(READING_REFUSAL_REASONS, code)
}

/** A decoder's error code as a refusal reason (a code outside the decode set, or none, is a payload that is not a reading: truncated). */
export function decodeReason(code: unknown): DecodeReason {
  return (DECODE_REASONS as readonly unknown[]).includes(code) ? (code as DecodeReason) : 'ERR_READING_TRUNCATED'
}

/** The current name of a stored reason, old or new; unknown names pass through unchanged. */
export function currentReason(reason: string, details?: Readonly<Record<string, unknown>>): string {
  if (reason === 'ERR_MALFORMED') return decodeReason(details?.protocolCode)
  return LEGACY[reason] ?? reason
}
