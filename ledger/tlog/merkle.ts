/**
 * The log's Merkle tree: RFC 6962 section 2.1 hashing, roots, inclusion and
 * consistency proofs, their verification (RFC 9162 sections 2.1.3.2 and
 * 2.1.4.2) and incremental append. Pure and synchronous hashing (noble), so the
 * same code runs in the ledger, the CLI and the browser verifier.
 *
 * Everything takes and returns 32-byte hashes. Leaves are leaf hashes
 * (`leafHash(entryBytes)`), never raw entries, except in `leafHash` itself.
 * Storage is abstracted as a NodeReader of perfect subtrees: any range of
 * leaves that RFC 6962's recursion needs is split into O(log n) of them.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { toHex } from '../protocol/index.ts'

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

const isHash = (h: unknown): h is Uint8Array => h instanceof Uint8Array && h.length === HASH_SIZE

function checkHash(h: unknown, what: string): Uint8Array {
  if (!isHash(h)) {
    throw new MerkleError(
      'ERR_MERKLE_BAD_HASH',
      `"${what}" expected a ${HASH_SIZE}-byte hash, got ${h instanceof Uint8Array ? `length=${h.length}` : typeof h}`,
      { what, length: h instanceof Uint8Array ? h.length : undefined },
    )
  }
  return h
}

function checkCount(n: unknown, what: string): number {
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
function splitPoint(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n
}

// Sizes may exceed 2^32, so bit tests use arithmetic, not 32-bit operators.
const half = (n: number): number => Math.floor(n / 2)
const odd = (n: number): boolean => n % 2 === 1

async function readNode(read: NodeReader, level: number, index: number): Promise<Uint8Array> {
  const h = await read(level, index)
  return checkHash(h, `node (${level}, ${index})`)
}

/**
 * MTH(D[begin:end]) as RFC 6962 2.1 defines it. A range that is not a perfect
 * subtree splits at its largest power of two; in the ranges that the root and
 * proof recursions produce, the left part is always perfect and aligned, so
 * this costs at most one read per level.
 */
async function rangeHash(begin: number, end: number, read: NodeReader): Promise<Uint8Array> {
  const n = end - begin
  if (isPowerOfTwo(n) && begin % n === 0) return readNode(read, Math.round(Math.log2(n)), begin / n)
  if (n === 1) return readNode(read, 0, begin)
  const k = splitPoint(n)
  const left = await rangeHash(begin, begin + k, read)
  const right = await rangeHash(begin + k, end, read)
  return nodeHash(left, right)
}

/** The perfect subtrees rangeHash(begin, end) reads, in its order. */
function rangeNodes(begin: number, end: number, out: { level: number; index: number }[]): void {
  const n = end - begin
  if (isPowerOfTwo(n) && begin % n === 0) {
    out.push({ level: Math.round(Math.log2(n)), index: begin / n })
    return
  }
  if (n === 1) {
    out.push({ level: 0, index: begin })
    return
  }
  const k = splitPoint(n)
  rangeNodes(begin, begin + k, out)
  rangeNodes(begin + k, end, out)
}

/**
 * MTH of each range. With a batch reader, every node the ranges need is read
 * in one call (one multi-get instead of one read per level), then hashed.
 */
async function rangeHashes(
  ranges: [number, number][],
  read: NodeReader,
  readMany?: NodeBatchReader,
): Promise<Uint8Array[]> {
  let reader = read
  if (readMany) {
    const nodes: { level: number; index: number }[] = []
    for (const [b, e] of ranges) rangeNodes(b, e, nodes)
    const hashes = await readMany(nodes)
    const got = new Map(nodes.map((n, i) => [`${n.level}/${n.index}`, hashes[i]]))
    reader = async (level, index) => got.get(`${level}/${index}`) ?? read(level, index)
  }
  const out: Uint8Array[] = []
  for (const [b, e] of ranges) out.push(await rangeHash(b, e, reader))
  return out
}

/** The root of the first `size` leaves. EMPTY_ROOT for size 0. */
export async function rootAt(size: number, read: NodeReader, readMany?: NodeBatchReader): Promise<Uint8Array> {
  checkCount(size, 'size')
  if (size === 0) return EMPTY_ROOT.slice()
  return (await rangeHashes([[0, size]], read, readMany))[0]
}

/** RFC 6962 2.1.1 PATH(m, D[n]), leaves first; O(log n) reads (one call with `readMany`). */
export async function inclusionProof(
  index: number,
  size: number,
  read: NodeReader,
  readMany?: NodeBatchReader,
): Promise<Uint8Array[]> {
  checkCount(index, 'index')
  checkCount(size, 'size')
  if (index >= size)
    throw new MerkleError('ERR_MERKLE_INDEX_RANGE', `leaf index ${index} is not inside a tree of size ${size}`, {
      index,
      size,
    })
  const ranges: [number, number][] = []
  // Walk down from the root, collecting the sibling of each step; the RFC lists them bottom-up.
  let begin = 0,
    end = size,
    m = index
  while (end - begin > 1) {
    const k = splitPoint(end - begin)
    if (m < k) {
      ranges.push([begin + k, end])
      end = begin + k
    } else {
      ranges.push([begin, begin + k])
      begin += k
      m -= k
    }
  }
  return (await rangeHashes(ranges, read, readMany)).reverse()
}

/** RFC 6962 2.1.2 PROOF(m, D[n]) = SUBPROOF(m, D[n], true); empty when oldSize is 0 or equals newSize. */
export async function consistencyProof(
  oldSize: number,
  newSize: number,
  read: NodeReader,
  readMany?: NodeBatchReader,
): Promise<Uint8Array[]> {
  checkCount(oldSize, 'oldSize')
  checkCount(newSize, 'newSize')
  if (oldSize > newSize)
    throw new MerkleError('ERR_MERKLE_SIZE_ORDER', `old size ${oldSize} is larger than new size ${newSize}`, {
      oldSize,
      newSize,
    })
  if (oldSize === 0 || oldSize === newSize) return []
  const ranges: [number, number][] = []
  let begin = 0,
    end = newSize,
    m = oldSize,
    whole = true
  while (m !== end - begin) {
    const k = splitPoint(end - begin)
    if (m <= k) {
      ranges.push([begin + k, end])
      end = begin + k
    } else {
      ranges.push([begin, begin + k])
      begin += k
      m -= k
      whole = false
    }
  }
  // SUBPROOF(m, D[m], false) = [MTH(D[m])]: the old tree's subtree, unless it is the whole old tree.
  if (!whole) ranges.push([begin, end])
  return (await rangeHashes(ranges, read, readMany)).reverse()
}

/** Number of hashes in PATH(index, D[size]). */
export function inclusionProofLength(index: number, size: number): number {
  let n = size,
    m = index,
    count = 0
  while (n > 1) {
    const k = splitPoint(n)
    if (m < k) n = k
    else {
      m -= k
      n -= k
    }
    count++
  }
  return count
}

/** Number of hashes in PROOF(oldSize, D[newSize]). */
export function consistencyProofLength(oldSize: number, newSize: number): number {
  if (oldSize === 0 || oldSize === newSize) return 0
  let n = newSize,
    m = oldSize,
    count = 0,
    whole = true
  while (m !== n) {
    const k = splitPoint(n)
    if (m <= k) n = k
    else {
      m -= k
      n -= k
      whole = false
    }
    count++
  }
  return whole ? count : count + 1
}

function checkProof(proof: unknown, expectedLength: number, details: Record<string, unknown>): Uint8Array[] {
  if (!Array.isArray(proof)) throw new TypeError(`"proof" expected an array of hashes, got ${typeof proof}`)
  if (proof.length !== expectedLength) {
    throw new MerkleError(
      'ERR_MERKLE_PROOF_SIZE',
      `proof has ${proof.length} hashes; expected ${expectedLength} for ${Object.entries(details)
        .map(([k, v]) => `${k} ${String(v)}`)
        .join(', ')}`,
      { ...details, expectedLength, actualLength: proof.length },
    )
  }
  proof.forEach((h, i) => checkHash(h, `proof[${i}]`))
  return proof as Uint8Array[]
}

function rootMismatch(
  what: string,
  expected: Uint8Array,
  calculated: Uint8Array,
  details: Record<string, unknown>,
): MerkleError {
  return new MerkleError(
    'ERR_MERKLE_ROOT_MISMATCH',
    `${what}: calculated root ${toHex(calculated)} does not match expected ${toHex(expected)}`,
    { ...details, expected: toHex(expected), calculated: toHex(calculated) },
    { expected, calculated },
  )
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let d = 0
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i]
  return d === 0
}

/** How an interior node is hashed: nodeHash, or a memo of it (memoNodeHash). */
export type NodeHasher = (left: Uint8Array, right: Uint8Array) => Uint8Array

/**
 * nodeHash remembering its results. The proofs of many entries of one tree
 * share their upper nodes (each node at level L is on the path of 2^L leaves):
 * a verifier checking them all hashes each distinct pair once. Same outputs as
 * nodeHash; scope one to one batch of proofs, its memory grows with the pairs.
 */
export function memoNodeHash(): NodeHasher {
  const seen = new Map<string, Uint8Array>()
  return (left, right) => {
    checkHash(left, 'left')
    checkHash(right, 'right')
    const key =
      String.fromCharCode.apply(null, left as unknown as number[]) +
      String.fromCharCode.apply(null, right as unknown as number[])
    let h = seen.get(key)
    if (!h) {
      h = nodeHash(left, right)
      seen.set(key, h)
    }
    return h
  }
}

/** The root an inclusion proof leads to (RFC 9162 2.1.3.2, steps 2-5), after size checks. */
export function rootFromInclusionProof(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: Uint8Array[],
  hashNode: NodeHasher = nodeHash,
): Uint8Array {
  checkCount(index, 'index')
  checkCount(size, 'size')
  checkHash(leaf, 'leaf')
  if (index >= size)
    throw new MerkleError('ERR_MERKLE_INDEX_RANGE', `leaf index ${index} is not inside a tree of size ${size}`, {
      index,
      size,
    })
  checkProof(proof, inclusionProofLength(index, size), { index, size })
  let fn = index,
    sn = size - 1,
    r = leaf
  for (const p of proof) {
    if (sn === 0)
      throw new MerkleError('ERR_MERKLE_PROOF_SIZE', 'proof is longer than the path to the root', { index, size })
    if (odd(fn) || fn === sn) {
      r = hashNode(p, r)
      // Skip the levels where this node is a right-edge node with no sibling.
      if (!odd(fn))
        while (!odd(fn) && fn !== 0) {
          fn = half(fn)
          sn = half(sn)
        }
    } else {
      r = hashNode(r, p)
    }
    fn = half(fn)
    sn = half(sn)
  }
  if (sn !== 0)
    throw new MerkleError('ERR_MERKLE_PROOF_SIZE', 'proof is shorter than the path to the root', { index, size })
  return r
}

/** RFC 9162 2.1.3.2: throws MerkleError unless `proof` shows leaf hash `leaf` at `index` in the tree of `size` with `root`. */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: Uint8Array[],
  root: Uint8Array,
  hashNode: NodeHasher = nodeHash,
): void {
  checkHash(root, 'root')
  const calculated = rootFromInclusionProof(leaf, index, size, proof, hashNode)
  if (!equal(calculated, root))
    throw rootMismatch(`inclusion of leaf ${index} in tree of size ${size}`, root, calculated, { index, size })
}

/** RFC 9162 2.1.4.2: throws MerkleError unless the tree of `newSize` with `newRoot` extends the tree of `oldSize` with `oldRoot`. */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: Uint8Array[],
): void {
  checkCount(oldSize, 'oldSize')
  checkCount(newSize, 'newSize')
  checkHash(oldRoot, 'oldRoot')
  checkHash(newRoot, 'newRoot')
  const details = { oldSize, newSize }
  if (oldSize > newSize)
    throw new MerkleError('ERR_MERKLE_SIZE_ORDER', `old size ${oldSize} is larger than new size ${newSize}`, details)
  checkProof(proof, consistencyProofLength(oldSize, newSize), details)
  if (oldSize === newSize) {
    if (!equal(oldRoot, newRoot))
      throw rootMismatch(`trees of equal size ${oldSize}`, oldRoot, newRoot, { ...details, which: 'new' })
    return
  }
  // Every tree extends the empty tree; its root is fixed, so check it.
  if (oldSize === 0) {
    if (!equal(oldRoot, EMPTY_ROOT))
      throw rootMismatch('empty old tree', oldRoot, EMPTY_ROOT, { ...details, which: 'old' })
    return
  }
  // RFC 9162 2.1.4.2 step 2: a power-of-two old tree is itself the first node of the path.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof
  let fn = oldSize - 1,
    sn = newSize - 1
  while (odd(fn)) {
    fn = half(fn)
    sn = half(sn)
  }
  let fr = path[0],
    sr = path[0]
  for (let i = 1; i < path.length; i++) {
    const c = path[i]
    if (sn === 0)
      throw new MerkleError('ERR_MERKLE_PROOF_SIZE', 'proof is longer than the path to the new root', details)
    if (odd(fn) || fn === sn) {
      fr = nodeHash(c, fr)
      sr = nodeHash(c, sr)
      if (!odd(fn))
        while (!odd(fn) && fn !== 0) {
          fn = half(fn)
          sn = half(sn)
        }
    } else {
      sr = nodeHash(sr, c)
    }
    fn = half(fn)
    sn = half(sn)
  }
  if (sn !== 0)
    throw new MerkleError('ERR_MERKLE_PROOF_SIZE', 'proof is shorter than the path to the new root', details)
  if (!equal(fr, oldRoot))
    throw rootMismatch(`consistency ${oldSize} -> ${newSize}, old root`, oldRoot, fr, { ...details, which: 'old' })
  if (!equal(sr, newRoot))
    throw rootMismatch(`consistency ${oldSize} -> ${newSize}, new root`, newRoot, sr, { ...details, which: 'new' })
}

/** Reference root of a list of leaf hashes, straight from the RFC 6962 2.1 recursion. For tests and small trees. */
export function rootFromLeaves(leaves: Uint8Array[]): Uint8Array {
  leaves.forEach((h, i) => checkHash(h, `leaves[${i}]`))
  const mth = (a: number, b: number): Uint8Array => {
    if (b - a === 1) return leaves[a]
    const k = splitPoint(b - a)
    return nodeHash(mth(a, a + k), mth(a + k, b))
  }
  return leaves.length === 0 ? EMPTY_ROOT.slice() : mth(0, leaves.length).slice()
}

/** A NodeReader over leaf hashes held in memory (tests, evidence bundles, small trees). */
export function nodeReaderFromLeaves(leaves: Uint8Array[]): NodeReader {
  const levels: Uint8Array[][] = [leaves.slice()]
  return async (level, index) => {
    while (levels.length <= level) {
      const below = levels[levels.length - 1],
        up: Uint8Array[] = []
      for (let i = 0; i + 1 < below.length; i += 2) up.push(nodeHash(below[i], below[i + 1]))
      levels.push(up)
    }
    const h = levels[level][index]
    if (!h) throw new RangeError(`no perfect subtree at level ${level}, index ${index} over ${leaves.length} leaves`)
    return h
  }
}

/** Number of set bits of a size, i.e. the length of its frontier. */
function popcount(n: number): number {
  let c = 0
  for (; n > 0; n = half(n)) if (odd(n)) c++
  return c
}

/**
 * Incremental append. `frontier` is the list of perfect-subtree roots of the
 * current tree, largest first (one per set bit of size). Returns the new
 * frontier (the input is not modified) and every perfect subtree the leaf
 * completes, starting with the leaf itself at level 0: the store saves each
 * under (level, index) so proofs cost O(log n) reads. `hashNode` is the
 * RFC 6962 interior hash (the ledger passes Node's crypto, node-hash.ts).
 */
export function appendLeaf(
  frontier: Uint8Array[],
  size: number,
  leaf: Uint8Array,
  hashNode: (left: Uint8Array, right: Uint8Array) => Uint8Array = nodeHash,
): { frontier: Uint8Array[]; completed: { level: number; index: number; hash: Uint8Array }[] } {
  checkCount(size, 'size')
  checkHash(leaf, 'leaf')
  if (!Array.isArray(frontier) || frontier.length !== popcount(size)) {
    throw new MerkleError(
      'ERR_MERKLE_FRONTIER',
      `frontier has ${Array.isArray(frontier) ? frontier.length : 'no'} hashes; a tree of size ${size} has ${popcount(size)}`,
      { size, length: Array.isArray(frontier) ? frontier.length : undefined },
    )
  }
  // The message (and its field name) only when a hash is bad: this runs for every frontier hash of every append.
  for (let i = 0; i < frontier.length; i++) if (!isHash(frontier[i])) checkHash(frontier[i], `frontier[${i}]`)
  const next = frontier.slice()
  const completed = [{ level: 0, index: size, hash: leaf }]
  let h = leaf,
    level = 0,
    index = size,
    s = size
  // Each set low bit of size is a perfect subtree of the same height as h: merge (a binary carry).
  while (odd(s)) {
    h = hashNode(next.pop()!, h)
    level++
    index = half(index)
    s = half(s)
    completed.push({ level, index, hash: h })
  }
  next.push(h)
  return { frontier: next, completed }
}

/** Root of the tree whose frontier is given (RFC 6962 2.1: the right-most subtrees combine first). */
export function rootFromFrontier(frontier: Uint8Array[]): Uint8Array {
  if (frontier.length === 0) return EMPTY_ROOT.slice()
  let h = checkHash(frontier[frontier.length - 1], `frontier[${frontier.length - 1}]`)
  for (let i = frontier.length - 2; i >= 0; i--) h = nodeHash(frontier[i], h)
  return h.slice()
}

/** The frontier of the first `size` leaves, read from stored perfect subtrees (recovery, or starting an appender). */
export async function frontierAt(size: number, read: NodeReader): Promise<Uint8Array[]> {
  checkCount(size, 'size')
  const out: Uint8Array[] = []
  let begin = 0
  for (let level = 52; level >= 0; level--) {
    const w = 2 ** level
    if (size - begin >= w) {
      out.push(await readNode(read, level, begin / w))
      begin += w
    }
  }
  return out
}
