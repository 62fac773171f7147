/**
 * Writing one batch durably: one atomic LevelDB batch with `sync: true`, retried with backoff
 * after a failed write (disk full, I/O error) until it lands, and the write health this leaves.
 */
import type { LedgerStats } from './state-types.ts'
import { parseJsonBytes, type BatchOp } from './batch-context.ts'
import { emptyTree, type DB, type TreeState } from './committed-state.ts'
import { LedgerError } from './errors.ts'
import { K } from './keys-layout.ts'

export interface StoreHealth {
  ok: boolean
  /** ERR_LEDGER_DISK_FULL / ERR_LEDGER_WRITE_FAILED (retrying) or ERR_LEDGER_FAILED (for good). */
  code?: 'ERR_LEDGER_DISK_FULL' | 'ERR_LEDGER_WRITE_FAILED' | 'ERR_LEDGER_FAILED'
  reason?: string
  /** ms UTC of the first failure of this episode. */
  since?: number
  /** Failed write attempts since the store was opened. */
  writeFailures: number
}

/** The batch counter and tree state a batch leaves on disk (every batch writes both). */
export interface DurableMark {
  batches: number
  tree: TreeState
}

/** Why writes are refused while a failed batch is retried (disk full, I/O error). */
export type Unhealthy = {
  code: 'ERR_LEDGER_DISK_FULL' | 'ERR_LEDGER_WRITE_FAILED' | 'ERR_LEDGER_FAILED'
  reason: string
  since: number
}

/** Writes batches durably on one database, retrying failed writes; `onWriteFailed` hears each failure. */
export class DurableWriter {
  readonly #db: DB
  readonly #onWriteFailed: (e: unknown) => void
  /** Set when the database no longer matches the in-memory state after a failed write: writes stop for good. */
  #failed: unknown = null
  #closing = false
  /** Why writes are refused while a failed batch is retried (disk full, I/O error); undefined when healthy. */
  #unhealthy: Unhealthy | undefined
  #writeFailures = 0
  /** Wakes the retry wait early (close). */
  #wake: (() => void) | undefined

  constructor(db: DB, onWriteFailed: (e: unknown) => void) {
    this.#db = db
    this.#onWriteFailed = onWriteFailed
  }

  /** Undefined when healthy, else why writes are refused right now. */
  get unhealthy(): Unhealthy | undefined {
    return this.#unhealthy
  }

  /** A batch retrying on a full disk gives up (its callers see the error) instead of holding a close. */
  stopRetrying(): void {
    this.#closing = true
    this.#wake?.()
  }

  health(): StoreHealth {
    const u = this.#unhealthy
    return u
      ? { ok: false, ...u, writeFailures: this.#writeFailures }
      : { ok: true, writeFailures: this.#writeFailures }
  }

  /**
   * Writes one batch durably, retrying until it is. A failed LevelDB write
   * (ENOSPC, EIO) leaves the handle refusing writes and its log possibly torn,
   * so each retry first reopens the database and reads which state it holds:
   * the one before this batch (retry the same operations: nothing in memory
   * moved) or the one after it (the write landed although it reported an
   * error). Anything else means the in-memory state and the disk differ:
   * writes stop for good (ERR_LEDGER_FAILED) and the ledger must be restarted.
   */
  async commit(ops: BatchOp[], before: DurableMark, after: DurableMark): Promise<void> {
    let delay = 0
    let reopen = false
    for (;;) {
      try {
        if (reopen) {
          if (this.#db.status === 'open') await this.#db.close()
          await this.#db.open({ createIfMissing: false })
          const onDisk = await durableMark(this.#db)
          const same = (m: DurableMark) =>
            onDisk.batches === m.batches && onDisk.tree.size === m.tree.size && onDisk.tree.lastHash === m.tree.lastHash
          if (same(after)) {
            this.#unhealthy = undefined
            return
          }
          if (!same(before)) {
            const e = new LedgerError(
              'ERR_LEDGER_FAILED',
              `after a failed write the database holds batch ${onDisk.batches} (size ${onDisk.tree.size}), neither the ledger's batch ${before.batches} nor ${after.batches}; restart the ledger`,
              { onDisk: onDisk.batches, before: before.batches, after: after.batches },
            )
            this.#failed = e
            this.#unhealthy = {
              code: 'ERR_LEDGER_FAILED',
              reason: e.message,
              since: this.#unhealthy?.since ?? Date.now(),
            }
            throw e
          }
          reopen = false
        }
        await writeChained(this.#db, ops)
        this.#unhealthy = undefined
        return
      } catch (e) {
        if (this.#failed) throw this.#failed
        this.#writeFailures++
        const full = isDiskFull(e)
        this.#unhealthy = {
          code: full ? 'ERR_LEDGER_DISK_FULL' : 'ERR_LEDGER_WRITE_FAILED',
          reason: `${full ? 'the disk is full' : 'a database write failed'} (${(e as Error).message}); retrying, nothing is acknowledged meanwhile`,
          since: this.#unhealthy?.since ?? Date.now(),
        }
        if (this.#closing) throw e
        this.#onWriteFailed(e)
        reopen = true
        // Backoff from 50 ms doubling to 5 s: frequent enough to resume soon after space returns.
        delay = Math.min(5000, Math.max(50, delay * 2))
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            this.#wake = undefined
            resolve()
          }, delay)
          this.#wake = () => {
            clearTimeout(t)
            this.#wake = undefined
            resolve()
          }
        })
        if (this.#closing) throw e
      }
    }
  }
}

/** ENOSPC / EDQUOT from Node, or LevelDB's "No space left on device" / "Disk quota exceeded" (an IO error whose text carries strerror). */
export function isDiskFull(e: unknown): boolean {
  const err = e as { code?: string; message?: string; cause?: unknown } | undefined
  if (!err) return false
  if (err.code === 'ENOSPC' || err.code === 'EDQUOT') return true
  if (typeof err.message === 'string' && /No space left on device|Disk quota exceeded/i.test(err.message)) return true
  return err.cause !== undefined && err.cause !== e && isDiskFull(err.cause)
}

/**
 * One atomic batch written with `sync: true`, through a chained batch: the
 * array form of batch() clones and re-validates every operation in JavaScript
 * first, which cost several times the chained form's CPU per operation (a
 * reading is about seven operations).
 */
async function writeChained(db: DB, ops: BatchOp[]): Promise<void> {
  const b = db.batch()
  try {
    for (const op of ops) {
      if (op.type === 'put') b.put(op.key, op.value!)
      else b.del(op.key)
    }
  } catch (e) {
    await b.close()
    throw e
  }
  await b.write({ sync: true })
}

/** The batch counter and tree state the database holds. */
async function durableMark(db: DB): Promise<DurableMark> {
  const [statsBytes, treeBytes] = await db.getMany([K.stats, K.tree])
  return {
    batches: statsBytes ? parseJsonBytes<LedgerStats>(statsBytes).batches : 0,
    tree: treeBytes ? parseJsonBytes<TreeState>(treeBytes) : emptyTree(),
  }
}
