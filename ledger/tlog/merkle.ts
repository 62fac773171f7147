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
 *
 * The parts: merkle-hash.ts (hashing, errors, storage readers), merkle-proofs.ts (roots and
 * proofs from a stored tree), merkle-verify.ts (checking proofs), merkle-append.ts (trees in
 * memory, incremental append). This module is what the rest of the code imports.
 */
export {
  EMPTY_ROOT,
  HASH_SIZE,
  leafHash,
  MERKLE_ERROR_CODES,
  MerkleError,
  nodeHash,
  type MerkleErrorCode,
  type NodeBatchReader,
  type NodeHasher,
  type NodeReader,
} from './merkle-hash.ts'
export {
  consistencyProof,
  consistencyProofLength,
  inclusionProof,
  inclusionProofLength,
  rootAt,
} from './merkle-proofs.ts'
export { memoNodeHash, rootFromInclusionProof, verifyConsistency, verifyInclusion } from './merkle-verify.ts'
export { appendLeaf, frontierAt, nodeReaderFromLeaves, rootFromFrontier, rootFromLeaves } from './merkle-append.ts'
