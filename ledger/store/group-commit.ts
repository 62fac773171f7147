/**
 * Group commit (ARCHITECTURE.md decision 9): callers submit items; while one batch is
 * being written the next ones queue, and the next batch takes everything
 * queued. One write when idle, many items per write under load, never one
 * write per item. A submit's promise settles only after the write of its batch
 * settled, so "resolved" means "durable" when `write` syncs.
 *
 * Under a backlog, batches are bounded (`maxBatch`) and the next one starts
 * only after one turn of the event loop (`setImmediate`): building a batch is
 * synchronous CPU work, so one huge batch would hold every acknowledgement and
 * every incoming message until it is built and written, and batches started
 * back to back would leave no turn for the PUBACKs the last one released.
 */
export type ItemOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown }

export interface GroupCommit<I, R> {
  submit(item: I): Promise<R>
  /** Resolves once everything submitted so far has been written (or failed). */
  drain(): Promise<void>
  readonly pending: number
}

export interface GroupCommitOptions {
  /** Upper bound on items per batch, so one batch cannot grow without limit (default 10,000; the store passes its own). */
  maxBatch?: number
}

/** One turn of the event loop: I/O callbacks and the immediates queued before it run first. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * `write` receives the queued items in submit order and returns one outcome
 * per item (an item can fail validation alone); if it throws, every item of
 * the batch rejects with that error.
 */
export function createGroupCommit<I, R>(
  write: (items: I[]) => Promise<ItemOutcome<R>[]>,
  { maxBatch = 10_000 }: GroupCommitOptions = {},
): GroupCommit<I, R> {
  type Waiting = { item: I; resolve: (r: R) => void; reject: (e: unknown) => void }
  let queue: Waiting[] = []
  let writing: Promise<void> | null = null

  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1)
    throw new RangeError(`"maxBatch" expected a positive integer, got ${maxBatch}`)

  async function run(): Promise<void> {
    let first = true
    while (queue.length) {
      // Not before the first batch: an idle ledger writes at once.
      if (!first) await nextTurn()
      first = false
      if (!queue.length) break
      const group = queue.length > maxBatch ? queue.splice(0, maxBatch) : queue
      if (group === queue) queue = []
      let outcomes: ItemOutcome<R>[]
      try {
        outcomes = await write(group.map((w) => w.item))
      } catch (error) {
        for (const w of group) w.reject(error)
        continue
      }
      group.forEach((w, i) => {
        const o = outcomes[i]
        if (o?.ok) w.resolve(o.value)
        else w.reject(o ? o.error : new Error('group commit: write returned no outcome for an item'))
      })
    }
  }

  function kick(): void {
    if (writing) return
    writing = run().finally(() => {
      writing = null
      if (queue.length) kick()
    })
  }

  return {
    submit(item: I): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject })
        kick()
      })
    },
    async drain(): Promise<void> {
      while (writing) await writing
    },
    get pending() {
      return queue.length
    },
  }
}
