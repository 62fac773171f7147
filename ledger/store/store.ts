/**
 * The append-only log on LevelDB (classic-level), ARCHITECTURE.md decisions 4, 5, 9.
 *
 * Every group of writes is ONE atomic LevelDB batch written with
 * `{ sync: true }` (fsync before it resolves): the entry bytes, every Merkle
 * node the entries complete, the indexes, the derived device/shipment state,
 * the counters and the new tree state (size, frontier, last entry hash). A
 * crash therefore leaves either the whole batch or none of it, and the tree
 * state always describes exactly the stored entries. Writes are
 * group-committed (group-commit.ts): submits queue while a batch is written,
 * at most MAX_BATCH_ITEMS per batch.
 *
 * This class wires the parts: committed-state.ts (what is kept in memory, loaded on open),
 * write-batch.ts (building a batch), durable-write.ts (writing it, retrying failed writes),
 * store-reads.ts and tree-reads.ts (the read side).
 */
import { ClassicLevel } from 'classic-level'
import { EventEmitter } from 'node:events'
import type { EntryBodies, EntryType, StoredEntry } from '../tlog/index.ts'
import {
  consistencyProof,
  EMPTY_ROOT,
  inclusionProof,
  rootAt,
  rootFromFrontier,
  type NodeBatchReader,
  type NodeReader,
} from '../tlog/index.ts'
import type { HeldRow, KnownReading, ReadingRow } from './batch-context.ts'
import { linkShipment, loadCommitted, type CommittedState, type DB } from './committed-state.ts'
import { DurableWriter, type StoreHealth } from './durable-write.ts'
import { createGroupCommit, type GroupCommit, type ItemOutcome } from './group-commit.ts'
import { LedgerError } from './errors.ts'
import { defaultLedgerLog, type LedgerLog } from './log.ts'
import type { DeviceState, LedgerStats, QuarantineCaps, QuarantineRecord, ShipmentState } from './state-types.ts'
import * as reads from './store-reads.ts'
import type { StoredCheckpoint } from './store-reads.ts'
import { checkOldSize, checkSize, nodeReader, nodesReader } from './tree-reads.ts'
import { buildBatch, type WriteItem, type WriteResult } from './write-batch.ts'

export { isDiskFull, type StoreHealth } from './durable-write.ts'
export type { StoredCheckpoint } from './store-reads.ts'
export type { HeldResult, WriteItem, WriteResult } from './write-batch.ts'

/**
 * Items per group-commit batch. Past a few hundred readings the fsync is
 * amortised, and a bigger batch only delays its first items: building it is
 * synchronous CPU work during which no PUBACK leaves and no message is read
 * (the latency bench: p99 publish -> commit at half the saturation rate).
 */
export const MAX_BATCH_ITEMS = 512

/** Events: 'entry' (StoredEntry, per committed entry, in log order), 'batch' ({ entries, items }, per durable batch). */
export class LogStore extends EventEmitter {
  readonly db: DB
  readonly #state: CommittedState
  // Set by open(); the fallback is created lazily, so a store opened with a logger never makes one.
  #log!: LedgerLog
  #gc: GroupCommit<WriteItem, WriteResult>
  #writer: DurableWriter
  #closed = false
  readonly readNode: NodeReader
  /** Every node a root or proof needs, in one LevelDB multi-get. */
  readonly readNodes: NodeBatchReader

  private constructor(db: DB, state: CommittedState) {
    super()
    this.db = db
    this.#state = state
    this.readNode = nodeReader(db)
    this.readNodes = nodesReader(db)
    this.#writer = new DurableWriter(db, (e) => this.emit('write-failed', e))
    this.#gc = createGroupCommit((items) => this.#writeBatch(items), { maxBatch: MAX_BATCH_ITEMS })
  }

  /** Opens (creating if needed) the LevelDB at `path` and checks the tree state against the last entry. */
  static async open(
    path: string,
    { createIfMissing = true, log = defaultLedgerLog() }: { createIfMissing?: boolean; log?: LedgerLog } = {},
  ): Promise<LogStore> {
    const db: DB = new ClassicLevel<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' })
    await db.open({ createIfMissing })
    try {
      const store = new LogStore(db, await loadCommitted(db))
      store.#log = log
      return store
    } catch (e) {
      await db.close()
      throw e
    }
  }

  /** Bounds the quarantine from now on (records already kept stay). */
  setQuarantineCaps(caps: QuarantineCaps): void {
    for (const [k, v] of Object.entries(caps))
      if (!Number.isSafeInteger(v) || v < 0)
        throw new LedgerError(
          'ERR_LEDGER_BAD_INPUT',
          `quarantine cap "${k}" must be a non-negative integer, got ${v}`,
          { field: k },
        )
    this.#state.caps = { ...caps }
  }

  get size(): number {
    return this.#state.tree.size
  }
  get lastHash(): string {
    return this.#state.tree.lastHash
  }
  /** Root of the durable tree. */
  get rootHash(): Uint8Array {
    return rootFromFrontier(this.#state.frontier)
  }
  get stats(): LedgerStats {
    return structuredClone(this.#state.stats)
  }
  get closed(): boolean {
    return this.#closed
  }

  device(id: string): DeviceState | undefined {
    return this.#state.devices.get(id)
  }
  devices(): DeviceState[] {
    return [...this.#state.devices.values()]
  }
  shipment(id: string): ShipmentState | undefined {
    return this.#state.shipments.get(id)
  }
  shipments(): ShipmentState[] {
    return [...this.#state.shipments.values()]
  }

  /** Queues a write; resolves once the batch holding it is durable. */
  submit(item: WriteItem): Promise<WriteResult> {
    if (this.#closed) return Promise.reject(new LedgerError('ERR_LEDGER_CLOSED', 'the ledger is closed'))
    // Unhealthy (a failed batch is being retried): refuse at once, so callers do not wait on a full disk.
    // The ingest then sends no PUBACK and the device re-sends later.
    const u = this.#writer.unhealthy
    if (u) return Promise.reject(new LedgerError(u.code, `the ledger cannot write: ${u.reason}`, { since: u.since }))
    return this.#gc.submit(item)
  }

  appendEntry<T extends EntryType>(
    type: T,
    body: EntryBodies[T],
    time: number,
    known?: KnownReading,
  ): Promise<StoredEntry<T>> {
    return this.submit({ kind: 'entry', type, body, time, ...(known ? { known } : {}) }) as Promise<StoredEntry<T>>
  }

  /** Waits for every queued write. */
  drain(): Promise<void> {
    return this.#gc.drain()
  }

  /** A batch retrying on a full disk gives up (its callers see the error) instead of holding a close. */
  stopRetrying(): void {
    this.#writer.stopRetrying()
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.stopRetrying()
    await this.#gc.drain()
    this.#closed = true
    if (this.db.status === 'open' || this.db.status === 'opening') await this.db.close()
  }

  /**
   * Write health: ok, or the reason writes are refused right now (a failed
   * batch being retried with backoff: disk full or an I/O error; or, for
   * good, a database that no longer matches the ledger's state).
   */
  health(): StoreHealth {
    return this.#writer.health()
  }

  /** Builds, writes and only then applies one batch; then tells the listeners. */
  async #writeBatch(items: WriteItem[]): Promise<ItemOutcome<WriteResult>[]> {
    const state = this.#state
    const { outcomes, batch } = await buildBatch(this.db, state, items)
    if (!batch) return outcomes
    const { tree, stats } = batch
    // Nothing in memory has moved yet: it moves only once the batch is durable (commit retries until it is).
    await this.#writer.commit(
      batch.ops,
      { batches: state.stats.batches, tree: state.tree },
      { batches: stats.batches, tree },
    )
    state.tree = tree
    state.frontier = batch.frontier
    for (const d of batch.devices.values()) state.devices.set(d.deviceId, d)
    for (const s of batch.shipments.values()) {
      state.shipments.set(s.shipmentId, s)
      linkShipment(state, s)
    }
    state.stats = stats
    state.quarantineSeq = batch.quarantineSeq
    for (const e of batch.entries) this.#notify('entry', e)
    this.#notify('batch', { entries: batch.entries.length, items: items.length })
    return outcomes
  }

  /** The batch is durable whatever a listener does: a throwing listener must not fail the writes. */
  #notify(event: 'entry' | 'batch', arg: unknown): void {
    try {
      this.emit(event, arg)
    } catch (e) {
      this.#log.error(
        { event: 'listener_threw', on: event, err: (e as Error).message },
        `a ledger ${event} listener threw: ${(e as Error).message}`,
      )
    }
  }

  // ---- reads (store-reads.ts, tree-reads.ts) ----------------------------------

  entryBytes(i: number): Promise<Uint8Array> {
    return reads.entryBytes(this.db, i, this.#state.tree.size)
  }
  getEntry(i: number): Promise<StoredEntry> {
    return reads.getEntry(this.db, i, this.#state.tree.size)
  }
  getEntries(indices: number[]): Promise<StoredEntry[]> {
    return reads.getEntries(this.db, indices)
  }
  heldRow(deviceId: string, seq: number): Promise<HeldRow | undefined> {
    return reads.readHeldRow(this.db, deviceId, seq)
  }
  /** A device's held readings (outside the log), by seq. */
  heldRows(deviceId: string): Promise<(HeldRow & { seq: number })[]> {
    return reads.heldRows(this.db, deviceId)
  }
  readingRow(deviceId: string, seq: number): Promise<ReadingRow | undefined> {
    return reads.readReadingRow(this.db, deviceId, seq)
  }
  /** Entry indices of one type, ascending, from entry index `from`. O(k). */
  indicesByType(type: EntryType, opts?: { from?: number; limit?: number }): Promise<number[]> {
    return reads.indicesByType(this.db, type, opts)
  }
  /** Entry indices of a device's readings with fromSeq <= seq <= toSeq, by seq. O(k). */
  readingIndicesByDevice(deviceId: string, fromSeq: number, toSeq: number, limit = Infinity): Promise<number[]> {
    return reads.readingIndicesByDevice(this.db, deviceId, fromSeq, toSeq, limit)
  }
  /** Entry indices of a shipment's readings by device time, within [startAt, closedAt]. O(k). */
  readingIndicesByShipment(
    shipmentId: string,
    opts?: { fromTime?: number; toTime?: number; limit?: number },
  ): Promise<number[]> {
    return reads.readingIndicesByShipment(this.db, this.#state.shipments.get(shipmentId), shipmentId, opts)
  }
  /** Entry indices of a closed shipment's post-close readings (above a close anchor, device time in the window), by device and seq. */
  postCloseIndices(shipmentId: string): Promise<number[]> {
    return reads.postCloseIndices(this.db, this.#state.shipments.has(shipmentId), shipmentId)
  }
  quarantine(opts?: { from?: number; limit?: number; reverse?: boolean }): Promise<QuarantineRecord[]> {
    return reads.readQuarantine(this.db, opts)
  }
  latestCheckpoint(): Promise<StoredCheckpoint | undefined> {
    return reads.latestCheckpoint(this.db)
  }

  async rootAt(size: number): Promise<Uint8Array> {
    checkSize(size, this.#state.tree.size)
    return size === 0 ? EMPTY_ROOT.slice() : rootAt(size, this.readNode, this.readNodes)
  }

  async inclusionProof(index: number, size: number): Promise<Uint8Array[]> {
    checkSize(size, this.#state.tree.size)
    reads.checkIndex(index, size)
    return inclusionProof(index, size, this.readNode, this.readNodes)
  }

  async consistencyProof(oldSize: number, newSize: number): Promise<Uint8Array[]> {
    checkSize(newSize, this.#state.tree.size)
    checkOldSize(oldSize, newSize)
    return consistencyProof(oldSize, newSize, this.readNode, this.readNodes)
  }
}
