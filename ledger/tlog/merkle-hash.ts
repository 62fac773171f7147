/**
 * RFC 6962 section 2.1 hashing (leaf and interior nodes, the empty root), the Merkle error type,
 * how storage is read (NodeReader), and the argument checks and size arithmetic the Merkle
 * modules share (merkle-proofs.ts, merkle-verify.ts, merkle-append.ts; merkle.ts is their door).
 */
import { sha256 } from '@noble/hashes/sha2.js'

export const HASH_SIZE = 32

export const MERKLE_ERROR_CODES = {
  ERR_MERKLE_ROOT_MISMATCH: 'the root recomputed from the proof is not the expected root',
  ERR_MERKLE_PROOF_SIZE: 'the proof has the wrong number of hashes for this index and tree size',
  ERR_MERKLE_INDEX_RANGE: 'the leaf index is not inside the tree',
  ERR_MERKLE_SIZE_ORDER: 'the old tree size is larger than the new one',
  ERR_MERKLE_BAD_HASH: 'a hash (leaf, root, proof element or stored node) is not 32 bytes',
  ERR_MERKLE_BAD_ARGUMENT: 'an index or size is not a non-negative safe integer',
  ERR_MERKLE_FRONTIER: 'the frontier does not have one hash per set bit of the tree size',
} as const
export type MerkleErrorCode = keyof typeof MERKLE_ERROR_CODES

/** A typed Merkle failure carrying its evidence (as transparency-dev's RootMismatchError does). */
export class MerkleError extends Error {
  readonly code: MerkleErrorCode
  /** The root the caller trusts (for ERR_MERKLE_ROOT_MISMATCH). */
  readonly expected?: Uint8Array
  /** The root the proof leads to (for ERR_MERKLE_ROOT_MISMATCH). */
  readonly calculated?: Uint8Array
  readonly details: Readonly<Record<string, unknown>>
  constructor(
    code: MerkleErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    evidence: { expected?: Uint8Array; calculated?: Uint8Array } = {},
  ) {
    super(message)
    this.name = 'MerkleError'
    this.code = code
    this.details = details
    this.expected = evidence.expected
    this.calculated = evidence.calculated
  }
}

const LEAF_PREFIX = Uint8Array.of(0x00)
const NODE_PREFIX = Uint8Array.of(0x01)

/** RFC 6962 2.1: MTH({d}) = SHA-256(0x00 || d). */
export function leafHash(entryBytes: Uint8Array): Uint8Array {
  if (!(entryBytes instanceof Uint8Array))
    throw new TypeError(`"entryBytes" expected Uint8Array, got ${typeof entryBytes}`)
  return sha256.create().update(LEAF_PREFIX).update(entryBytes).digest()
}

/** RFC 6962 2.1: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  checkHash(left, 'left')
  checkHash(right, 'right')
  return sha256.create().update(NODE_PREFIX).update(left).update(right).digest()
}

/** RFC 6962 2.1: the hash of an empty tree is the hash of the empty string. */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0))

/** Hash of the PERFECT subtree at (level, index): the leaves [index*2^level, (index+1)*2^level). level 0 = leaf hashes. */
export type NodeReader = (level: number, index: number) => Promise<Uint8Array>

/** Many perfect subtrees in one read (a store's multi-get), in the order asked. */
export type NodeBatchReader = (nodes: readonly { level: number; index: number }[]) => Promise<Uint8Array[]>

export const isHash = (h: unknown): h is Uint8Array => h instanceof Uint8Array && h.length === HASH_SIZE

export function checkHash(h: unknown, what: string): Uint8Array {
  if (!isHash(h)) {
    throw new MerkleError(
      'ERR_MERKLE_BAD_HASH',
      `"${what}" expected a ${HASH_SIZE}-byte hash, got ${h instanceof Uint8Array ? `length=${h.length}` : typeof h}`,
      { what, length: h instanceof Uint8Array ? h.length : undefined },
    )
  }
  return h
}

export function checkCount(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new MerkleError(
      'ERR_MERKLE_BAD_ARGUMENT',
      `"${what}" expected a non-negative safe integer, got ${String(n)}`,
      { what, value: n },
    )
  }
  return n
}

/** Largest power of two strictly less than n (n >= 2): the split point k of RFC 6962 2.1. */
export function splitPoint(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

export function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n
}

// Sizes may exceed 2^32, so bit tests use arithmetic, not 32-bit operators.
export const half = (n: number): number => Math.floor(n / 2)
export const odd = (n: number): boolean => n % 2 === 1

export async function readNode(read: NodeReader, level: number, index: number): Promise<Uint8Array> {
  const h = await read(level, index)
  return checkHash(h, `node (${level}, ${index})`)
}

/** How an interior node is hashed: nodeHash, or a memo of it (memoNodeHash). */
export type NodeHasher = (left: Uint8Array, right: Uint8Array) => Uint8Array
