/**
 * Roots and proofs built from a stored tree (RFC 6962 2.1.1, 2.1.2): any range of leaves the
 * recursion needs is split into O(log n) perfect subtrees, read through a NodeReader (or in one
 * multi-get with a NodeBatchReader); and the number of hashes each proof has.
 */
import {
  checkCount,
  EMPTY_ROOT,
  isPowerOfTwo,
  MerkleError,
  nodeHash,
  readNode,
  splitPoint,
  type NodeBatchReader,
  type NodeReader,
} from './merkle-hash.ts'

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
