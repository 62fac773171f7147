/**
 * The hash a shipment logs for its rule profile: hex SHA-256 of the profile's
 * canonical JSON (docs/ARCHITECTURE.md, decision 7). One definition for the
 * ledger, the compliance engine and the offline verifier. Pure.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { canonicalJsonBytes } from './canonical-json.ts'
import { toHex } from '../protocol/index.ts'

/** Throws CanonicalJsonError when `profile` has no canonical JSON (floats, undefined, ...). */
export function profileHashOf(profile: unknown): string {
  return toHex(sha256(canonicalJsonBytes(profile)))
}
