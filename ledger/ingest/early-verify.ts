/**
 * Signature checks started as messages arrive. The ingest judges one message
 * at a time, in arrival order (a device's chain depends on that order), and
 * would verify one signature at a time if it verified while judging. Started
 * at arrival instead, many checks run side by side on the verify pool's
 * threads; judging then awaits each message's outcome in its turn.
 */
import {
  decodeReading,
  equalBytes,
  MAX_READING_PAYLOAD,
  readingSigningMessage,
  type DecodedReading,
} from '../protocol/index.ts'
import type { VerifyPool } from './verify-pool.ts'
import type { DeviceLookup } from '../store/index.ts'

export interface EarlyCheck {
  decoded: DecodedReading
  publicKey: Uint8Array
  valid: Promise<boolean>
}

/**
 * Decodes the payload and starts checking its signature under the device's
 * registered key; undefined when there is nothing to check yet (oversized,
 * undecodable, unknown or revoked device: judging says why).
 */
export function startCheck(
  pool: VerifyPool,
  lookupDevice: (id: string) => DeviceLookup | undefined,
  payload: Uint8Array,
): EarlyCheck | undefined {
  if (payload.length > MAX_READING_PAYLOAD) return undefined
  let decoded: DecodedReading
  try {
    decoded = decodeReading(payload)
  } catch {
    return undefined
  }
  const dev = lookupDevice(decoded.fields.deviceId)
  if (!dev || dev.revoked) return undefined
  return {
    decoded,
    publicKey: dev.publicKey,
    valid: pool.verify(decoded.signature, readingSigningMessage(decoded.record), dev.publicKey),
  }
}

/** Whether `r` verifies under `publicKey` (the key at judging time); reuses the early check made under that same key. */
export function signatureValid(
  pool: VerifyPool,
  early: EarlyCheck | undefined,
  r: DecodedReading,
  publicKey: Uint8Array,
): Promise<boolean> {
  if (early && early.decoded === r && (early.publicKey === publicKey || equalBytes(early.publicKey, publicKey)))
    return early.valid
  return pool.verify(r.signature, readingSigningMessage(r.record), publicKey)
}
