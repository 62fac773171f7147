/**
 * Decode-and-verify of a reading payload in one call (docs/PROTOCOL.md, "Signing").
 * The signature engine is a parameter: by default @noble/ed25519 in strict
 * RFC 8032 mode (zip215: false) with its async API, which hashes with
 * WebCrypto and so needs no set-up in Node or browsers. The ingest passes
 * Node's crypto instead (ARCHITECTURE.md decision 9).
 */
import { verifyAsync } from '@noble/ed25519'
import { ProtocolError } from './errors.ts'
import { toHex } from './bytes.ts'
import { decodeReading, type DecodedReading } from './reading.ts'
import { readingSigningMessage } from './signing.ts'

/** Ed25519 verification: (signature, message, publicKey) -> valid. Must not throw for bad input. */
export type SignatureVerifier = (
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
) => boolean | Promise<boolean>

export const strictNobleVerifier: SignatureVerifier = async (sig, msg, pk) => {
  try {
    return await verifyAsync(sig, msg, pk, { zip215: false })
  } catch {
    return false
  }
}

/**
 * Decodes `payload` and checks its signature under `publicKey` (the key the
 * device was registered with). Throws ProtocolError: a decoding code, or
 * ERR_READING_BAD_SIGNATURE.
 */
export async function verifyReading(
  payload: Uint8Array,
  publicKey: Uint8Array,
  verify: SignatureVerifier = strictNobleVerifier,
): Promise<DecodedReading> {
  const d = decodeReading(payload)
  if (!(await verify(d.signature, readingSigningMessage(d.record), publicKey))) {
    throw new ProtocolError(
      'ERR_READING_BAD_SIGNATURE',
      `the signature of ${d.fields.deviceId} seq ${d.fields.seq} does not verify under key ${publicKey instanceof Uint8Array ? toHex(publicKey) : typeof publicKey}`,
      {
        deviceId: d.fields.deviceId,
        seq: d.fields.seq,
        publicKey: publicKey instanceof Uint8Array ? toHex(publicKey) : undefined,
      },
    )
  }
  return d
}
