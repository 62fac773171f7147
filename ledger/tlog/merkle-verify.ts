/**
 * Verifying proofs without the tree (RFC 9162 sections 2.1.3.2 and 2.1.4.2): inclusion of a leaf
 * and consistency of two tree sizes, each failure a MerkleError carrying its evidence.
 */
import { toHex } from '../protocol/index.ts'
import {
  checkCount,
  checkHash,
  EMPTY_ROOT,
  half,
  isPowerOfTwo,
  MerkleError,
  nodeHash,
  odd,
  type NodeHasher,
} from './merkle-hash.ts'
import { consistencyProofLength, inclusionProofLength } from './merkle-proofs.ts'

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
