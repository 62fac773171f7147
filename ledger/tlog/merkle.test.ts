/**
 * ledger/tlog/merkle.ts against the published RFC 6962 vectors (testdata/rfc6962,
 * values from transparency-dev/merkle), Node's own SHA-256, and fast-check
 * properties over random trees: every generated proof verifies, every altered
 * one fails, appending leaf by leaf gives the reference root.
 */
import t from 'tap'
import fc from 'fast-check'
import type { Test } from 'tap'
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { fromHex, toHex } from '../protocol/bytes.ts'
import {
  EMPTY_ROOT,
  MerkleError,
  appendLeaf,
  consistencyProof,
  frontierAt,
  inclusionProof,
  leafHash,
  nodeHash,
  memoNodeHash,
  nodeReaderFromLeaves,
  rootAt,
  rootFromFrontier,
  rootFromLeaves,
  verifyConsistency,
  verifyInclusion,
  type NodeHasher,
  type NodeReader,
} from './merkle.ts'

const dir = new URL('./testdata/rfc6962/', import.meta.url)
const load = <T>(f: string): T => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as T
interface Tree {
  source: string
  leaves: string[]
  roots: string[]
  nodes: string[][]
}
interface Inclusion {
  desc: string
  source: string
  leafIndex: number
  size: number
  root: string
  proof: string[]
}
interface Consistency {
  desc: string
  source: string
  oldSize: number
  newSize: number
  oldRoot: string
  newRoot: string
  proof: string[]
}

const tree = load<Tree>('tree.json')
const leafHashes = tree.leaves.map((l) => leafHash(fromHex(l)))
/** A reader over the PUBLISHED node hashes: proofs and roots are built from the vectors, not from our own hashing. */
const publishedReader: NodeReader = async (level, index) => fromHex(tree.nodes[level][index])
const hex = (a: Uint8Array[]) => a.map(toHex)

function expectCode(t: Test, fn: () => void, code: string, msg: string) {
  try {
    fn()
    t.fail(`${msg}: no error`)
  } catch (e) {
    t.equal((e as MerkleError).code, code, msg)
  }
}
function fails(fn: () => void): boolean {
  try {
    fn()
    return false
  } catch (e) {
    if (!(e instanceof MerkleError)) throw e
    return true
  }
}

t.test('sha256 cross-check with Node crypto', async (t) => {
  const data = Uint8Array.from({ length: 100 }, (_, i) => i * 7)
  t.equal(
    toHex(leafHash(data)),
    createHash('sha256')
      .update(Buffer.from([0]))
      .update(data)
      .digest('hex'),
    'leafHash = SHA-256(0x00 || d)',
  )
  const l = leafHash(data),
    r = leafHash(data.subarray(1))
  t.equal(
    toHex(nodeHash(l, r)),
    createHash('sha256')
      .update(Buffer.from([1]))
      .update(l)
      .update(r)
      .digest('hex'),
    'nodeHash = SHA-256(0x01 || l || r)',
  )
  t.equal(toHex(EMPTY_ROOT), createHash('sha256').digest('hex'), 'EMPTY_ROOT = SHA-256("")')
})

t.test('tree.json: leaves, roots of sizes 0..8, perfect subtrees', async (t) => {
  t.match(tree.source, /transparency-dev\/merkle/)
  t.equal(tree.leaves.length, 8)
  tree.nodes[0].forEach((h, i) => t.equal(toHex(leafHashes[i]), h, `leaf hash ${i}`))
  const reader = nodeReaderFromLeaves(leafHashes)
  let frontier: Uint8Array[] = []
  for (let size = 0; size <= 8; size++) {
    t.equal(toHex(rootFromLeaves(leafHashes.slice(0, size))), tree.roots[size], `rootFromLeaves, size ${size}`)
    t.equal(toHex(await rootAt(size, publishedReader)), tree.roots[size], `rootAt over published nodes, size ${size}`)
    t.equal(toHex(await rootAt(size, reader)), tree.roots[size], `rootAt over computed nodes, size ${size}`)
    t.equal(toHex(rootFromFrontier(frontier)), tree.roots[size], `rootFromFrontier, size ${size}`)
    t.same(hex(await frontierAt(size, publishedReader)), hex(frontier), `frontierAt, size ${size}`)
    if (size < 8) {
      const r = appendLeaf(frontier, size, leafHashes[size])
      for (const c of r.completed)
        t.equal(toHex(c.hash), tree.nodes[c.level][c.index], `append ${size}: completed (${c.level}, ${c.index})`)
      t.equal(
        r.completed.length,
        1 + Math.log2((size + 1) & -(size + 1)),
        `append ${size}: one completed node per carry`,
      )
      frontier = r.frontier
    }
  }
})

const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json') && f !== 'tree.json')
  .sort()
t.equal(files.filter((f) => f.startsWith('inclusion-')).length, 5, 'five published inclusion vectors')
t.equal(files.filter((f) => f.startsWith('consistency-')).length, 5, 'five published consistency vectors')

for (const f of files.filter((f) => f.startsWith('inclusion-'))) {
  const v = load<Inclusion>(f)
  t.test(`${f}: ${v.desc}`, async (t) => {
    t.match(v.source, /transparency-dev\/merkle/)
    const leaf = leafHashes[v.leafIndex],
      root = fromHex(v.root),
      proof = v.proof.map(fromHex)
    const reads: string[] = []
    const got = await inclusionProof(v.leafIndex, v.size, async (l, i) => {
      reads.push(`${l}/${i}`)
      return publishedReader(l, i)
    })
    t.same(hex(got), v.proof, 'generated proof equals the published proof')
    t.ok(reads.length <= 2 * Math.ceil(Math.log2(v.size)) + 1, `O(log n) reads (${reads.length})`)
    verifyInclusion(leaf, v.leafIndex, v.size, proof, root)
    t.pass('published proof verifies')
    // transparency-dev's corruptions (proof/verify_test.go), each with the code it must raise.
    expectCode(
      t,
      () => verifyInclusion(leafHash(Uint8Array.of(9)), v.leafIndex, v.size, proof, root),
      'ERR_MERKLE_ROOT_MISMATCH',
      'wrong leaf',
    )
    expectCode(
      t,
      () => verifyInclusion(leaf, v.leafIndex, v.size, proof, EMPTY_ROOT),
      'ERR_MERKLE_ROOT_MISMATCH',
      'empty root',
    )
    expectCode(
      t,
      () => verifyInclusion(leaf, v.leafIndex, v.size, [...proof, root], root),
      'ERR_MERKLE_PROOF_SIZE',
      'trailing root',
    )
    expectCode(
      t,
      () => verifyInclusion(leaf, v.leafIndex, v.size, [root, ...proof], root),
      'ERR_MERKLE_PROOF_SIZE',
      'preceding root',
    )
    expectCode(t, () => verifyInclusion(leaf, v.size, v.size, proof, root), 'ERR_MERKLE_INDEX_RANGE', 'index = size')
    expectCode(
      t,
      () => verifyInclusion(leaf, v.leafIndex, v.size, [...proof, new Uint8Array(0)], root),
      'ERR_MERKLE_PROOF_SIZE',
      'trailing garbage',
    )
    if (v.leafIndex + 1 < v.size)
      t.ok(
        fails(() => verifyInclusion(leaf, v.leafIndex + 1, v.size, proof, root)),
        'leafIndex + 1 fails',
      )
    if (v.leafIndex > 0)
      t.ok(
        fails(() => verifyInclusion(leaf, v.leafIndex - 1, v.size, proof, root)),
        'leafIndex - 1 fails',
      )
    t.ok(
      fails(() => verifyInclusion(leaf, v.leafIndex, v.size * 2, proof, root)),
      'size * 2 fails',
    )
    if (v.size > 1)
      t.ok(
        fails(() => verifyInclusion(leaf, v.leafIndex, Math.floor(v.size / 2) || 1, proof, root)),
        'size / 2 fails',
      )
    for (let i = 0; i < proof.length; i++) {
      const bad = proof.map((h) => h.slice())
      bad[i][0] ^= 8
      try {
        verifyInclusion(leaf, v.leafIndex, v.size, bad, root)
        t.fail(`proof[${i}] bit 3`)
      } catch (e) {
        const err = e as MerkleError
        t.equal(err.code, 'ERR_MERKLE_ROOT_MISMATCH', `modified proof[${i}] bit 3`)
        t.same(err.expected, root, 'error carries the expected root')
        t.notSame(err.calculated, root, 'and the calculated one')
      }
    }
    if (proof.length)
      expectCode(
        t,
        () => verifyInclusion(leaf, v.leafIndex, v.size, proof.slice(0, -1), root),
        'ERR_MERKLE_PROOF_SIZE',
        'removed component',
      )
  })
}

for (const f of files.filter((f) => f.startsWith('consistency-'))) {
  const v = load<Consistency>(f)
  t.test(`${f}: ${v.desc}`, async (t) => {
    t.match(v.source, /transparency-dev\/merkle/)
    const r1 = fromHex(v.oldRoot),
      r2 = fromHex(v.newRoot),
      proof = v.proof.map(fromHex)
    t.same(
      hex(await consistencyProof(v.oldSize, v.newSize, publishedReader)),
      v.proof,
      'generated proof equals the published proof',
    )
    verifyConsistency(v.oldSize, v.newSize, r1, r2, proof)
    t.pass('published proof verifies')
    if (proof.length === 0) return
    expectCode(
      t,
      () => verifyConsistency(v.oldSize, v.newSize, r2, r1, proof),
      'ERR_MERKLE_ROOT_MISMATCH',
      'swapped roots',
    )
    expectCode(
      t,
      () => verifyConsistency(v.oldSize, v.newSize, EMPTY_ROOT, r2, proof),
      'ERR_MERKLE_ROOT_MISMATCH',
      'wrong old root',
    )
    expectCode(
      t,
      () => verifyConsistency(v.oldSize, v.newSize, r1, EMPTY_ROOT, proof),
      'ERR_MERKLE_ROOT_MISMATCH',
      'wrong new root',
    )
    expectCode(t, () => verifyConsistency(v.oldSize, v.newSize, r1, r2, []), 'ERR_MERKLE_PROOF_SIZE', 'empty proof')
    expectCode(
      t,
      () => verifyConsistency(v.oldSize, v.newSize, r1, r2, [...proof, r1]),
      'ERR_MERKLE_PROOF_SIZE',
      'trailing root1',
    )
    expectCode(
      t,
      () => verifyConsistency(v.oldSize, v.newSize, r1, r2, [proof[0], ...proof]),
      'ERR_MERKLE_PROOF_SIZE',
      'preceding proof[0]',
    )
    expectCode(
      t,
      () => verifyConsistency(v.oldSize, v.newSize, r1, r2, proof.slice(0, -1)),
      'ERR_MERKLE_PROOF_SIZE',
      'truncated proof',
    )
    expectCode(
      t,
      () => verifyConsistency(v.newSize, v.oldSize, r1, r2, proof),
      'ERR_MERKLE_SIZE_ORDER',
      'time travel to the past',
    )
    for (const [o, n, what] of [
      [v.oldSize - 1, v.newSize, 'size1 - 1'],
      [v.oldSize + 1, v.newSize, 'size1 + 1'],
      [v.oldSize, v.newSize * 2, 'size2 * 2'],
      [v.oldSize, Math.floor(v.newSize / 2), 'size2 / 2'],
    ] as const) {
      if (o >= 0 && o <= n)
        t.ok(
          fails(() => verifyConsistency(o, n, r1, r2, proof)),
          `${what} fails`,
        )
    }
    for (let i = 0; i < proof.length; i++) {
      const bad = proof.map((h) => h.slice())
      bad[i][0] ^= 16
      expectCode(
        t,
        () => verifyConsistency(v.oldSize, v.newSize, r1, r2, bad),
        'ERR_MERKLE_ROOT_MISMATCH',
        `modified proof[${i}] bit 4`,
      )
    }
  })
}

t.test('edge cases and typed errors', async (t) => {
  const reader = nodeReaderFromLeaves(leafHashes)
  t.same(await inclusionProof(0, 1, reader), [], 'a one-leaf tree has an empty path')
  t.same(await consistencyProof(0, 5, reader), [], 'the empty tree needs no consistency proof')
  verifyConsistency(0, 5, EMPTY_ROOT, fromHex(tree.roots[5]), [])
  expectCode(
    t,
    () => verifyConsistency(0, 5, fromHex(tree.roots[1]), fromHex(tree.roots[5]), []),
    'ERR_MERKLE_ROOT_MISMATCH',
    'size 0 must have the empty root',
  )
  verifyConsistency(3, 3, fromHex(tree.roots[3]), fromHex(tree.roots[3]), [])
  expectCode(
    t,
    () => verifyConsistency(3, 3, fromHex(tree.roots[3]), fromHex(tree.roots[4]), []),
    'ERR_MERKLE_ROOT_MISMATCH',
    'equal sizes need equal roots',
  )
  expectCode(
    t,
    () => verifyConsistency(3, 3, fromHex(tree.roots[3]), fromHex(tree.roots[3]), [EMPTY_ROOT]),
    'ERR_MERKLE_PROOF_SIZE',
    'equal sizes need an empty proof',
  )
  await t.rejects(inclusionProof(8, 8, reader), { code: 'ERR_MERKLE_INDEX_RANGE' })
  await t.rejects(consistencyProof(5, 4, reader), { code: 'ERR_MERKLE_SIZE_ORDER' })
  await t.rejects(rootAt(-1, reader), { code: 'ERR_MERKLE_BAD_ARGUMENT' })
  await t.rejects(rootAt(1.5, reader), { code: 'ERR_MERKLE_BAD_ARGUMENT' })
  await t.rejects(
    rootAt(3, async () => new Uint8Array(31)),
    { code: 'ERR_MERKLE_BAD_HASH' },
    'a stored node of the wrong length is refused',
  )
  expectCode(
    t,
    () => verifyInclusion(new Uint8Array(31), 0, 1, [], leafHashes[0]),
    'ERR_MERKLE_BAD_HASH',
    'short leaf hash',
  )
  expectCode(
    t,
    () => verifyInclusion(leafHashes[0], 0, 0, [], EMPTY_ROOT),
    'ERR_MERKLE_INDEX_RANGE',
    'nothing is in the empty tree',
  )
  expectCode(t, () => appendLeaf([], 1, leafHashes[0]), 'ERR_MERKLE_FRONTIER', 'frontier must match the size')
  const f = [leafHashes[0]]
  appendLeaf(f, 1, leafHashes[1])
  t.equal(f.length, 1, 'appendLeaf does not modify its input frontier')
  // A documented limit of RFC 6962 proofs: leaf 0's path is the same in trees of 5 and 6
  // leaves, so the size is bound by the signed checkpoint (size + root), not by the proof.
  const p = await inclusionProof(0, 5, reader)
  t.doesNotThrow(
    () => verifyInclusion(leafHashes[0], 0, 6, p, fromHex(tree.roots[5])),
    'same path shape: the proof alone does not bind the size',
  )
  // The same holds for the new size of a consistency proof: 4 -> 5 has the same shape as 4 -> 6.
  const c = await consistencyProof(4, 5, reader)
  t.doesNotThrow(
    () => verifyConsistency(4, 6, fromHex(tree.roots[4]), fromHex(tree.roots[5]), c),
    'consistency proof alone does not bind the new size',
  )
})

/** Left/right pattern of PATH(index, D[size]), bottom-up, from the RFC recursion (independent of the verifier). */
function pathShape(index: number, size: number): string {
  let s = '',
    m = index,
    n = size
  while (n > 1) {
    let k = 1
    while (k * 2 < n) k *= 2
    if (m < k) {
      s = 'R' + s
      n = k
    } else {
      s = 'L' + s
      m -= k
      n -= k
    }
  }
  return s
}

const bigLeaves = Array.from({ length: 3000 }, (_, i) => leafHash(Uint8Array.of(i & 255, i >> 8, 42)))
const bigReader = nodeReaderFromLeaves(bigLeaves)
// Roots of every prefix, by appending (the append property below checks appending against rootFromLeaves).
const prefixRoots: Uint8Array[] = [EMPTY_ROOT]
{
  let frontier: Uint8Array[] = []
  bigLeaves.forEach((leaf, n) => {
    frontier = appendLeaf(frontier, n, leaf).frontier
    prefixRoots.push(rootFromFrontier(frontier))
  })
}
const rootOf = (n: number) => prefixRoots[n]

t.test('property: appendLeaf frontier root equals rootFromLeaves at every size', async (t) => {
  let frontier: Uint8Array[] = []
  for (let n = 0; n < 600; n++) {
    if (toHex(rootFromFrontier(frontier)) !== toHex(rootFromLeaves(bigLeaves.slice(0, n)))) {
      t.fail(`size ${n}`)
      return
    }
    const { frontier: next, completed } = appendLeaf(frontier, n, bigLeaves[n])
    for (const c of completed)
      if (toHex(c.hash) !== toHex(await bigReader(c.level, c.index))) {
        t.fail(`node (${c.level}, ${c.index})`)
        return
      }
    frontier = next
  }
  t.pass('600 appends agree with the reference root and the stored nodes')
})

const sharedMemo = memoNodeHash()
t.test('property: every generated inclusion proof verifies; any altered one fails', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc
        .integer({ min: 1, max: 3000 })
        .chain((size) => fc.tuple(fc.constant(size), fc.nat(size - 1), fc.nat(), fc.nat(255))),
      async ([size, index, pick, bit]) => {
        let reads = 0
        const proof = await inclusionProof(index, size, (l, i) => {
          reads++
          return bigReader(l, i)
        })
        if (reads > 2 * Math.ceil(Math.log2(size)) + 1) return false
        const leaf = bigLeaves[index],
          root = rootOf(size)
        verifyInclusion(leaf, index, size, proof, root)
        verifyInclusion(leaf, index, size, proof, root, sharedMemo)
        if ((await rootAt(size, bigReader).then(toHex)) !== toHex(root)) return false
        const mutations: ((h?: NodeHasher) => void)[] = [
          (h) => verifyInclusion(leaf, index, size, [...proof, proof[0] ?? root], root, h),
          (h) => verifyInclusion(bigLeaves[(index + 1) % 3000], index, size, proof, root, h),
        ]
        if (proof.length) {
          const i = pick % proof.length
          const flipped = proof.map((h) => h.slice())
          flipped[i][bit % 32] ^= 1 << (bit % 8)
          mutations.push((h) => verifyInclusion(leaf, index, size, flipped, root, h))
          mutations.push((h) =>
            verifyInclusion(
              leaf,
              index,
              size,
              proof.filter((_, j) => j !== i),
              root,
              h,
            ),
          )
        }
        // A wrong index always changes the path in a tree of the same size.
        const other = (index + 1 + (pick % Math.max(1, size - 1))) % size
        if (other !== index) mutations.push((h) => verifyInclusion(leaf, other, size, proof, root, h))
        // The same with one memo of node hashes shared by every proof of the run (as the bundle verifier does).
        for (const m of mutations) if (!fails(() => m()) || !fails(() => m(sharedMemo))) return false
        // A wrong size fails unless it has the very same path shape (see the limit above).
        const wrongSize = index + 1 + (pick % 3000)
        if (
          wrongSize !== size &&
          pathShape(index, wrongSize) !== pathShape(index, size) &&
          !fails(() => verifyInclusion(leaf, index, wrongSize, proof, root))
        )
          return false
        return true
      },
    ),
    { numRuns: 300 },
  )
  t.pass('300 random trees')
})

t.test('property: every generated consistency proof verifies; any altered one fails', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 3000 }).chain((n) => fc.tuple(fc.nat(n), fc.constant(n), fc.nat(), fc.nat(255))),
      async ([m, n, pick, bit]) => {
        let reads = 0
        const proof = await consistencyProof(m, n, (l, i) => {
          reads++
          return bigReader(l, i)
        })
        if (reads > 2 * Math.ceil(Math.log2(n)) + 2) return false
        const r1 = rootOf(m),
          r2 = rootOf(n)
        verifyConsistency(m, n, r1, r2, proof)
        if (m === 0 || m === n) return fails(() => verifyConsistency(m, n, r1, r2, [r1]))
        const i = pick % proof.length
        const flipped = proof.map((h) => h.slice())
        flipped[i][bit % 32] ^= 1 << (bit % 8)
        const mutations: (() => void)[] = [
          () => verifyConsistency(m, n, r1, r2, flipped),
          () =>
            verifyConsistency(
              m,
              n,
              r1,
              r2,
              proof.filter((_, j) => j !== i),
            ),
          () => verifyConsistency(m, n, r1, r2, [...proof, r1]),
          () => verifyConsistency(m, n, rootOf(m - 1), r2, proof),
          () => verifyConsistency(m, n, r1, rootOf(n - 1), proof),
        ]
        for (const mu of mutations) if (!fails(mu)) return false
        return true
      },
    ),
    { numRuns: 300 },
  )
  t.pass('300 random pairs of sizes')
})

t.test('property: consistency proofs with a wrong size fail', async (t) => {
  // The old size fixes the old root's decomposition; any other old size, checked
  // against the same two roots, must fail (the roots are the real ones of m and n).
  await fc.assert(
    fc.asyncProperty(
      fc
        .integer({ min: 3, max: 3000 })
        .chain((n) => fc.tuple(fc.integer({ min: 1, max: n - 1 }), fc.constant(n), fc.integer({ min: 1, max: n - 1 }))),
      async ([m, n, m2]) => {
        if (m2 === m) return true
        const proof = await consistencyProof(m, n, bigReader)
        return fails(() => verifyConsistency(m2, n, rootOf(m), rootOf(n), proof))
      },
    ),
    { numRuns: 300 },
  )
  t.pass('300 wrong old sizes')
})

t.test('property: with a batch reader, roots and proofs are the same and read every node in one call', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc
        .integer({ min: 1, max: 3000 })
        .chain((size) => fc.tuple(fc.constant(size), fc.nat(size - 1), fc.integer({ min: 0, max: size }))),
      async ([size, index, oldSize]) => {
        let calls = 0,
          single = 0
        const many = async (nodes: readonly { level: number; index: number }[]) => {
          calls++
          return Promise.all(nodes.map((n) => bigReader(n.level, n.index)))
        }
        const read = (l: number, i: number) => {
          single++
          return bigReader(l, i)
        }
        const same = (a: Uint8Array[], b: Uint8Array[]) =>
          a.length === b.length && a.every((h, i) => toHex(h) === toHex(b[i]))
        if (!same(await inclusionProof(index, size, read, many), await inclusionProof(index, size, bigReader)))
          return false
        if (!same(await consistencyProof(oldSize, size, read, many), await consistencyProof(oldSize, size, bigReader)))
          return false
        if (toHex(await rootAt(size, read, many)) !== toHex(await rootAt(size, bigReader))) return false
        // One call per non-empty proof and per root; nothing read one node at a time.
        return single === 0 && calls <= 3
      },
    ),
    { numRuns: 300 },
  )
  t.pass('300 random trees')
})
