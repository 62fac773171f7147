/**
 * SHA-256 with Node's crypto (OpenSSL) for the ledger's hot paths: the
 * reading hash the ingest judges with, and the entry, leaf and node hashes of
 * every append. The same functions in merkle.ts and entry-codec.ts use
 * @noble/hashes because the bundle verifier runs them in the browser; these
 * are several times faster per call and give the same bytes (node-hash.test.ts).
 * Node only: never import this from code the browser runs.
 */
import { createHash } from 'node:crypto'

const LEAF_PREFIX = Uint8Array.of(0x00)
const NODE_PREFIX = Uint8Array.of(0x01)

/** hex SHA-256 of `bytes` (a reading's hash, an entry's hash). */
export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

/** RFC 6962 2.1 leaf hash: SHA-256(0x00 || entry bytes). */
export const leafHashNode = (entryBytes: Uint8Array): Uint8Array =>
  createHash('sha256').update(LEAF_PREFIX).update(entryBytes).digest()

/** RFC 6962 2.1 interior node: SHA-256(0x01 || left || right). */
export const nodeHashNode = (left: Uint8Array, right: Uint8Array): Uint8Array =>
  createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest()
