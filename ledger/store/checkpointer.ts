/**
 * Signed checkpoints (ARCHITECTURE.md decision 4; C2SP tlog-checkpoint and
 * signed-note). A checkpoint is signed only over a tree size that is already
 * durable (the store's committed size and frontier, read together), and sizes
 * only grow, so every checkpoint is a prefix of the one append-only tree: no
 * two are inconsistent.
 *
 * Every signed checkpoint is first appended and fsynced to checkpoints.log
 * (the anchor, ledger/store/anchor-log.ts); `whenAnchored(index)` resolves once a
 * checkpoint there covers entry `index`. Receipts wait for it, so a
 * checkpoint is signed `anchorDelayMs` after the first waiter (a short
 * debounce that gathers many receipts into one signature and one fsync).
 *
 * Some checkpoints are also logged as 'checkpoint' entries, which stores
 * them as the latest in the same batch: every `every` entries, every
 * `intervalMs` while entries keep arriving, and on close. That entry is not
 * covered by its own checkpoint (it comes after size).
 */
import { formatCheckpoint } from '../tlog/index.ts'
import { signNote } from '../tlog/index.ts'
import { toBase64 } from '../protocol/index.ts'
import type { LogStore, StoredCheckpoint } from './store.ts'
import type { LedgerKey } from './ledger-key.ts'
import type { AnchorWriter } from './anchor-log.ts'

export interface CheckpointerOptions {
  store: LogStore
  key: LedgerKey
  clock: () => number
  every: number
  intervalMs: number
  anchor: AnchorWriter
  /** Debounce between a receipt starting to wait and the checkpoint that anchors it. */
  anchorDelayMs: number
}

/** Retry pacing of a failed anchor append (full disk): doubling up to this. */
const MAX_RETRY_MS = 5000

export class Checkpointer {
  #o: CheckpointerOptions
  #latest: StoredCheckpoint | undefined
  #anchored: StoredCheckpoint | undefined
  #waiters: { index: number; resolve: () => void }[] = []
  #timer: NodeJS.Timeout | undefined
  #anchorTimer: NodeJS.Timeout | undefined
  #retryMs = 0
  #anchorError: Error | undefined
  #anchorErrorSince = 0
  #anchorFailures = 0
  #running: Promise<StoredCheckpoint | undefined> = Promise.resolve(undefined)
  #stopped = false

  constructor(o: CheckpointerOptions, latest: StoredCheckpoint | undefined, anchored: StoredCheckpoint | undefined) {
    this.#o = o
    this.#latest = latest
    this.#anchored = anchored
  }

  /** The latest checkpoint logged as an entry. */
  get latest(): StoredCheckpoint | undefined {
    return this.#latest
  }
  /** The latest checkpoint durable in checkpoints.log (the newest signed). */
  get anchored(): StoredCheckpoint | undefined {
    return this.#anchored
  }
  /** The last anchor append failure, until an append succeeds again. */
  get anchorError(): Error | undefined {
    return this.#anchorError
  }
  /** ms UTC of the first failed append of the current failure episode. */
  get anchorErrorSince(): number {
    return this.#anchorErrorSince
  }
  /** Failed anchor appends since open. */
  get anchorFailures(): number {
    return this.#anchorFailures
  }

  start(): void {
    if (this.#o.intervalMs > 0 && Number.isFinite(this.#o.intervalMs)) {
      this.#timer = setInterval(() => {
        void this.checkpoint().catch(() => {})
      }, this.#o.intervalMs)
      this.#timer.unref()
    }
  }

  /** Called after each durable batch. */
  afterBatch(): void {
    const covered = this.#latest?.size ?? 0
    // +1: the previous checkpoint's own entry is not a reason for a new one.
    if (this.#o.store.size - covered - (this.#latest ? 1 : 0) >= this.#o.every) void this.checkpoint().catch(() => {})
  }

  /** Resolves once a checkpoint with size > index is durable in checkpoints.log. */
  whenAnchored(index: number): Promise<void> {
    if ((this.#anchored?.size ?? 0) > index) return Promise.resolve()
    return new Promise((resolve) => {
      this.#waiters.push({ index, resolve })
      this.#scheduleAnchor(this.#o.anchorDelayMs)
    })
  }

  #scheduleAnchor(delay: number): void {
    if (this.#anchorTimer || this.#stopped) return
    this.#anchorTimer = setTimeout(() => {
      this.#anchorTimer = undefined
      void this.#enqueue(false).catch(() => {})
    }, delay)
  }

  #release(): void {
    const size = this.#anchored?.size ?? 0
    const ready = this.#waiters.filter((w) => w.index < size)
    if (ready.length === 0) return
    this.#waiters = this.#waiters.filter((w) => w.index >= size)
    for (const w of ready) w.resolve()
  }

  /** True when entries other than the last checkpoint's own entry were added since it. */
  #hasNew(): boolean {
    const size = this.#o.store.size
    if (!this.#latest) return size > 0
    return size > this.#latest.size + 1
  }

  /** Signs a checkpoint over the durable tree if anything was added since the last one, and logs it as an entry. Serialised. */
  checkpoint(): Promise<StoredCheckpoint | undefined> {
    return this.#enqueue(true)
  }

  #enqueue(logEntry: boolean): Promise<StoredCheckpoint | undefined> {
    const run = () => this.#run(logEntry)
    this.#running = this.#running.then(run, run)
    return this.#running
  }

  async #run(logEntry: boolean): Promise<StoredCheckpoint | undefined> {
    if (this.#stopped) return this.#latest
    if (logEntry && !this.#hasNew()) return this.#latest
    const { store, key, clock, anchor } = this.#o
    // size and root are read together synchronously from the committed state.
    const size = store.size
    const rootHash = store.rootHash
    let cp: StoredCheckpoint
    if (this.#anchored && this.#anchored.size === size) {
      cp = this.#anchored
    } else {
      const note = signNote(formatCheckpoint({ origin: key.name, size, rootHash }), key.name, key.sign, key.publicKey)
      cp = { note, size, rootHash: toBase64(rootHash) }
      try {
        await anchor.append(size, note)
      } catch (e) {
        if (!this.#anchorError) this.#anchorErrorSince = Date.now()
        this.#anchorError = e as Error
        this.#anchorFailures++
        // Waiters stay waiting; try again later (space may come back).
        this.#retryMs = Math.min(MAX_RETRY_MS, Math.max(this.#o.anchorDelayMs, 50, this.#retryMs * 2))
        // Retried even with no receipt waiting, so the ledger turns healthy again by itself.
        this.#scheduleAnchor(this.#retryMs)
        throw e
      }
      this.#anchorError = undefined
      this.#retryMs = 0
      this.#anchored = cp
      this.#release()
    }
    if (this.#waiters.length) this.#scheduleAnchor(this.#o.anchorDelayMs)
    if (!logEntry || (this.#latest && size === this.#latest.size)) return logEntry ? this.#latest : cp
    await store.appendEntry('checkpoint', cp, clock())
    this.#latest = cp
    return cp
  }

  /** Stops the timers and signs the final checkpoint over everything durable. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    await this.#o.store.drain()
    await this.checkpoint().catch(() => undefined)
    this.#stopped = true
    if (this.#anchorTimer) clearTimeout(this.#anchorTimer)
    this.#anchorTimer = undefined
    await this.#running.catch(() => undefined)
    await this.#o.anchor.close().catch(() => undefined)
  }
}
