/**
 * The ledger integrity check as the dashboard runs it: ledger/store/fsck.ts's
 * checkLedger over the open ledger, against the ledger's own verifier key,
 * including its derived data (Merkle nodes, indexes, state) and the latest
 * checkpoint of checkpoints.log.
 * One check at a time; the last result is kept for GET /api/ledger.
 */
import type { Ledger } from '../../ledger/store/index.ts'
import { checkLedger, type LedgerReader } from '../../ledger/store/index.ts'

export interface IntegrityResult {
  /** ms UTC when the check finished */
  at: number
  ok: boolean
  /** entries checked */
  size: number
  /** entries after the latest signed checkpoint (intact links, not yet signed over) */
  uncovered: number
  failure: { code: string; index: number | null; message: string } | null
}

export interface IntegrityChecker {
  run(): Promise<IntegrityResult>
  last(): IntegrityResult | null
}

export function createIntegrityChecker(ledger: Ledger, clock: () => number): IntegrityChecker {
  let last: IntegrityResult | null = null
  let running: Promise<IntegrityResult> | null = null
  const check = async (): Promise<IntegrityResult> => {
    // Checkpoints first, then size: the snapshot always contains what they sign.
    const anchor = ledger.latestAnchor()
    const cp = ledger.latestCheckpoint()
    const size = ledger.size()
    const reader: LedgerReader = {
      size: async () => size,
      entryBytes: (i) => ledger.entryBytes(i),
      latestCheckpoint: async () => cp?.note,
      anchorCheckpoint: async () => anchor?.note,
      // Merkle nodes, indexes and state recomputed from one LevelDB snapshot (taken now, so it holds at least `size` entries).
      storeSnapshot: () => ledger.storeSnapshot(),
    }
    const r = await checkLedger(reader, { ledgerPublicKey: ledger.verifierKey, origin: ledger.origin })
    last = {
      at: clock(),
      ok: r.ok,
      size: r.size,
      uncovered: r.uncovered,
      failure: r.failure ? { code: r.failure.code, index: r.failure.index ?? null, message: r.failure.message } : null,
    }
    return last
  }
  return {
    run() {
      running ??= check().finally(() => {
        running = null
      })
      return running
    },
    last: () => last,
  }
}
