/**
 * Signed checkpoints (DESIGN.md decision 4; C2SP tlog-checkpoint and
 * signed-note): every `every` entries, every `intervalMs` while entries keep
 * arriving, and on close. A checkpoint is signed only over a tree size that is
 * already durable (the store's committed size and frontier, read together),
 * and sizes only grow, so every checkpoint is a prefix of the one append-only
 * tree: no two are inconsistent. Each signed checkpoint is also logged as a
 * 'checkpoint' entry, which stores it as the latest in the same batch; that
 * entry is not covered by its own checkpoint (it comes after size).
 */
import { formatCheckpoint } from './checkpoint.ts'
import { signNote } from './note.ts'
import { toBase64 } from './protocol/index.ts'
import type { LogStore, StoredCheckpoint } from './store.ts'
import type { LedgerKey } from './ledger-key.ts'

export interface CheckpointerOptions {
  store: LogStore
  key: LedgerKey
  clock: () => number
  every: number
  intervalMs: number
}

export class Checkpointer {
  #o: CheckpointerOptions
  #latest: StoredCheckpoint | undefined
  #timer: NodeJS.Timeout | undefined
  #running: Promise<StoredCheckpoint | undefined> = Promise.resolve(undefined)
  #stopped = false

  constructor(o: CheckpointerOptions, latest: StoredCheckpoint | undefined) {
    this.#o = o
    this.#latest = latest
  }

  get latest(): StoredCheckpoint | undefined { return this.#latest }

  start(): void {
    if (this.#o.intervalMs > 0 && Number.isFinite(this.#o.intervalMs)) {
      this.#timer = setInterval(() => { void this.checkpoint().catch(() => {}) }, this.#o.intervalMs)
      this.#timer.unref()
    }
  }

  /** Called after each durable batch. */
  afterBatch(): void {
    const covered = this.#latest?.size ?? 0
    // +1: the previous checkpoint's own entry is not a reason for a new one.
    if (this.#o.store.size - covered - (this.#latest ? 1 : 0) >= this.#o.every) void this.checkpoint().catch(() => {})
  }

  /** True when entries other than the last checkpoint's own entry were added since it. */
  #hasNew(): boolean {
    const size = this.#o.store.size
    if (!this.#latest) return size > 0
    return size > this.#latest.size + 1
  }

  /** Signs a checkpoint over the durable tree if anything was added since the last one. Serialised. */
  checkpoint(): Promise<StoredCheckpoint | undefined> {
    const run = async (): Promise<StoredCheckpoint | undefined> => {
      if (this.#stopped || !this.#hasNew()) return this.#latest
      const { store, key, clock } = this.#o
      // size and root are read together synchronously from the committed state.
      const size = store.size
      const rootHash = store.rootHash
      if (this.#latest && size === this.#latest.size) return this.#latest
      const note = signNote(formatCheckpoint({ origin: key.name, size, rootHash }), key.name, key.sign, key.publicKey)
      const cp: StoredCheckpoint = { note, size, rootHash: toBase64(rootHash) }
      await store.appendEntry('checkpoint', cp, clock())
      this.#latest = cp
      return cp
    }
    this.#running = this.#running.then(run, run)
    return this.#running
  }

  /** Stops the timer and signs the final checkpoint over everything durable. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    await this.#o.store.drain()
    await this.checkpoint().catch(() => undefined)
    this.#stopped = true
    await this.#running.catch(() => undefined)
  }
}
