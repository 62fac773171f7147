/**
 * The Merkle tree as stored (every perfect subtree under n!<level>!<index>): node readers for
 * ledger/tlog's root and proof functions, and the size checks a root or proof is asked with.
 */
import type { NodeBatchReader, NodeReader } from '../tlog/index.ts'
import type { DB } from './committed-state.ts'
import { LedgerError } from './errors.ts'
import { K } from './keys-layout.ts'

export const nodeReader =
  (db: DB): NodeReader =>
  async (level, index) => {
    const h = await db.get(K.node(level, index))
    if (!h)
      throw new LedgerError('ERR_LEDGER_STATE_MISMATCH', `Merkle node (${level}, ${index}) is missing`, {
        level,
        index,
      })
    return h
  }

/** Every node a root or proof needs, in one LevelDB multi-get. */
export const nodesReader =
  (db: DB): NodeBatchReader =>
  async (nodes) => {
    const hashes = await db.getMany(nodes.map((n) => K.node(n.level, n.index)))
    return hashes.map((h, i) => {
      if (!h)
        throw new LedgerError(
          'ERR_LEDGER_STATE_MISMATCH',
          `Merkle node (${nodes[i].level}, ${nodes[i].index}) is missing`,
          { level: nodes[i].level, index: nodes[i].index },
        )
      return h
    })
  }

/** A tree size a root or proof may be asked for: 0..current. */
export function checkSize(size: number, current: number): void {
  if (!Number.isSafeInteger(size) || size < 0 || size > current)
    throw new LedgerError('ERR_LEDGER_INDEX_RANGE', `tree size ${size} is outside 0..${current}`, {
      size,
      current,
    })
}

export function checkOldSize(oldSize: number, newSize: number): void {
  if (!Number.isSafeInteger(oldSize) || oldSize < 0 || oldSize > newSize)
    throw new LedgerError('ERR_LEDGER_INDEX_RANGE', `old size ${oldSize} is outside 0..${newSize}`, {
      oldSize,
      newSize,
    })
}
