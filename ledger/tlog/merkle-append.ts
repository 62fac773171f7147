/**
 * Trees held or grown in memory: the reference root of a list of leaves, a NodeReader over them,
 * and incremental append over a frontier (the perfect-subtree roots of the tree, largest first).
 */
import {
  checkCount,
  checkHash,
  EMPTY_ROOT,
  half,
  isHash,
  MerkleError,
  nodeHash,
  odd,
  readNode,
  splitPoint,
  type NodeReader,
} from './merkle-hash.ts'

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
