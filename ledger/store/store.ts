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
 */
import { ClassicLevel } from 'classic-level'
import { EventEmitter } from 'node:events'
import type { Entry, EntryBodies, EntryType, StoredEntry } from '../tlog/index.ts'
import {
  appendLeaf,
  consistencyProof,
  EMPTY_ROOT,
  inclusionProof,
  leafHash,
  rootAt,
  rootFromFrontier,
  type NodeBatchReader,
  type NodeReader,
} from '../tlog/index.ts'
import { leafHashNode, nodeHashNode, sha256Hex } from '../node-crypto/index.ts'
import { encodeEntry, entryHash, GENESIS_PREV } from '../tlog/index.ts'
import { createGroupCommit, type GroupCommit, type ItemOutcome } from './group-commit.ts'
import { END, K, indexOfKey } from './keys-layout.ts'
import {
  jsonBytes,
  parseJsonBytes,
  type BatchContext,
  type BatchOp,
  type ChainVia,
  type HeldRow,
  type KnownReading,
  type ReadingRow,
} from './batch-context.ts'
import { prepareEntry } from './indexes.ts'
import { prepareHold } from './reading-entries.ts'
import { windowsOf } from '../tlog/index.ts'
import { LedgerError } from './errors.ts'
import { defaultLedgerLog, type LedgerLog } from './log.ts'
import {
  DEFAULT_QUARANTINE_CAPS,
  type DeviceState,
  type LedgerStats,
  type QuarantineCaps,
  type QuarantineRecord,
  type ShipmentState,
} from './state-types.ts'
import { fromHex, toHex } from '../protocol/index.ts'
import { currentRecord, hasLegacyCounts, renameLegacyCounts } from './quarantine-names.ts'
import { hexOf } from './node-hex.ts'

const textDecoder = new TextDecoder()
/**
 * Entries read back from the store were validated by encodeEntry when written
 * and sit under an fsync'd batch; reading parses them without re-validating
 * (ledger/store/fsck.ts is the integrity checker that trusts nothing).
 */
const parseStored = (bytes: Uint8Array): StoredEntry => {
  let hash: string | undefined
  // The hash only when asked for: most readers (the live fold, shipment queries) never do.
  return {
    entry: JSON.parse(textDecoder.decode(bytes)) as Entry,
    bytes,
    get hash() {
      return (hash ??= sha256Hex(bytes))
    },
  }
}

interface TreeState {
  size: number
  frontier: string[]
  lastHash: string
  lastTime: number
}

export interface StoredCheckpoint {
  note: string
  size: number
  rootHash: string
}

export type WriteItem =
  /** `known`: a reading's payload as the ingest decoded and hashed it (batch-context.ts, KnownReading). */
  | { kind: 'entry'; type: EntryType; body: EntryBodies[EntryType]; time: number; known?: KnownReading }
  | { kind: 'quarantine'; record: Omit<QuarantineRecord, 'id'> }
  /** A verified reading above a gap, held outside the log (reading-entries.ts, prepareHold). */
  | { kind: 'hold'; body: EntryBodies['reading']; time: number; known?: KnownReading }
  /** No write: settles after everything submitted before it (keeps MQTT acks in order). */
  | { kind: 'barrier' }

export interface HeldResult {
  held: true
  deviceId: string
  seq: number
}
export type WriteResult = StoredEntry | QuarantineRecord | HeldResult | null

type DB = ClassicLevel<string, Uint8Array>

/** The value of every t! (by type) key: one shared empty value, LevelDB copies what it writes. */
const NO_VALUE = new Uint8Array(0)

/**
 * Items per group-commit batch. Past a few hundred readings the fsync is
 * amortised, and a bigger batch only delays its first items: building it is
 * synchronous CPU work during which no PUBACK leaves and no message is read
 * (the latency bench: p99 publish -> commit at half the saturation rate).
 */
export const MAX_BATCH_ITEMS = 512

const emptyStats = (): LedgerStats => ({
  batches: 0,
  entries: 0,
  largestBatch: 0,
  entriesByType: {},
  quarantined: 0,
  quarantineByReason: {},
})

/** Events: 'entry' (StoredEntry, per committed entry, in log order), 'batch' ({ entries, items }, per durable batch). */
export class LogStore extends EventEmitter {
  readonly db: DB
  #tree: TreeState
  #frontier: Uint8Array[]
  #devices: Map<string, DeviceState>
  #shipments: Map<string, ShipmentState>
  #deviceShipments = new Map<string, Set<string>>()
  #stats: LedgerStats
  #quarantineSeq: number
  // Set by open(); the fallback is created lazily, so a store opened with a logger never makes one.
  #log!: LedgerLog
  #caps: QuarantineCaps = DEFAULT_QUARANTINE_CAPS
  #gc: GroupCommit<WriteItem, WriteResult>
  /** Set when the database no longer matches the in-memory state after a failed write: writes stop for good. */
  #failed: unknown = null
  #closed = false
  #closing = false
  /** Why writes are refused while a failed batch is retried (disk full, I/O error); undefined when healthy. */
  #unhealthy:
    | { code: 'ERR_LEDGER_DISK_FULL' | 'ERR_LEDGER_WRITE_FAILED' | 'ERR_LEDGER_FAILED'; reason: string; since: number }
    | undefined
  #writeFailures = 0
  /** Wakes the retry wait early (close). */
  #wake: (() => void) | undefined

  private constructor(
    db: DB,
    tree: TreeState,
    devices: Map<string, DeviceState>,
    shipments: Map<string, ShipmentState>,
    stats: LedgerStats,
    quarantineSeq: number,
  ) {
    super()
    this.db = db
    this.#tree = tree
    this.#frontier = tree.frontier.map(fromHex)
    this.#devices = devices
    this.#shipments = shipments
    for (const s of shipments.values()) this.#linkShipment(s)
    this.#stats = stats
    this.#quarantineSeq = quarantineSeq
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
      const treeBytes = await db.get(K.tree)
      const tree: TreeState = treeBytes
        ? parseJsonBytes(treeBytes)
        : { size: 0, frontier: [], lastHash: GENESIS_PREV, lastTime: 0 }
      await checkTreeState(db, tree)
      const devices = new Map<string, DeviceState>()
      for await (const [, v] of db.iterator({ gte: K.devicePrefix, lt: K.devicePrefix + END })) {
        const d = parseJsonBytes<DeviceState>(v)
        devices.set(d.deviceId, d)
      }
      const shipments = new Map<string, ShipmentState>()
      for await (const [, v] of db.iterator({ gte: K.shipmentPrefix, lt: K.shipmentPrefix + END })) {
        const s = parseJsonBytes<ShipmentState>(v)
        shipments.set(s.shipmentId, s)
      }
      const statsBytes = await db.get(K.stats)
      const stats = statsBytes ? parseJsonBytes<LedgerStats>(statsBytes) : emptyStats()
      let quarantineSeq = 0
      for await (const k of db.keys({ gte: K.quarantinePrefix, lt: K.quarantinePrefix + END, reverse: true, limit: 1 }))
        quarantineSeq = indexOfKey(k) + 1
      if (hasLegacyCounts(stats)) {
        const codes: unknown[] = []
        for await (const v of db.values({ gte: K.quarantinePrefix, lt: K.quarantinePrefix + END })) {
          const r = parseJsonBytes<QuarantineRecord>(v)
          if ((r.reason as string) === 'ERR_MALFORMED') codes.push(r.details?.protocolCode)
        }
        renameLegacyCounts(stats, codes)
      }
      // Ledgers written before the quarantine was bounded: count what it holds once.
      if (!stats.quarantineKept) {
        const kept = { records: 0, bytes: 0, byDevice: {} as Record<string, number> }
        for await (const v of db.values({ gte: K.quarantinePrefix, lt: K.quarantinePrefix + END })) {
          const r = parseJsonBytes<QuarantineRecord>(v)
          const who = r.deviceId !== undefined && devices.has(r.deviceId) ? r.deviceId : ''
          kept.records++
          kept.bytes += v.length
          kept.byDevice[who] = (kept.byDevice[who] ?? 0) + 1
        }
        stats.quarantineKept = kept
      }
      const store = new LogStore(db, tree, devices, shipments, stats, quarantineSeq)
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
    this.#caps = { ...caps }
  }

  get size(): number {
    return this.#tree.size
  }
  get lastHash(): string {
    return this.#tree.lastHash
  }
  /** Root of the durable tree. */
  get rootHash(): Uint8Array {
    return rootFromFrontier(this.#frontier)
  }
  get stats(): LedgerStats {
    return structuredClone(this.#stats)
  }
  get closed(): boolean {
    return this.#closed
  }

  device(id: string): DeviceState | undefined {
    return this.#devices.get(id)
  }
  devices(): DeviceState[] {
    return [...this.#devices.values()]
  }
  shipment(id: string): ShipmentState | undefined {
    return this.#shipments.get(id)
  }
  shipments(): ShipmentState[] {
    return [...this.#shipments.values()]
  }

  /** Queues a write; resolves once the batch holding it is durable. */
  submit(item: WriteItem): Promise<WriteResult> {
    if (this.#closed) return Promise.reject(new LedgerError('ERR_LEDGER_CLOSED', 'the ledger is closed'))
    // Unhealthy (a failed batch is being retried): refuse at once, so callers do not wait on a full disk.
    // The ingest then sends no PUBACK and the device re-sends later.
    const u = this.#unhealthy
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
    this.#closing = true
    this.#wake?.()
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
  async #commit(
    ops: BatchOp[],
    before: { batches: number; tree: TreeState },
    after: { batches: number; tree: TreeState },
  ): Promise<void> {
    let delay = 0
    let reopen = false
    for (;;) {
      try {
        if (reopen) {
          if (this.db.status === 'open') await this.db.close()
          await this.db.open({ createIfMissing: false })
          const onDisk = await durableMark(this.db)
          const same = (m: { batches: number; tree: TreeState }) =>
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
        await writeChained(this.db, ops)
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
        this.emit('write-failed', e)
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

  // ---- batch building ------------------------------------------------------

  async #writeBatch(items: WriteItem[]): Promise<ItemOutcome<WriteResult>[]> {
    const ops: BatchOp[] = []
    const devices = new Map<string, DeviceState>()
    const shipments = new Map<string, ShipmentState>()
    const rows = new Map<string, ReadingRow>()
    const heldRows = new Map<string, HeldRow | null>()
    const batchReadings: { deviceId: string; seq: number; t: number; i: number }[] = []
    const stats = structuredClone(this.#stats)
    let quarantineSeq = this.#quarantineSeq
    let { size, lastHash, lastTime } = this.#tree
    let frontier = this.#frontier
    const put = (key: string, value: Uint8Array) => {
      ops.push({ type: 'put', key, value })
    }
    /** A batch whose only change is a counter (a dropped quarantine record) is written too. */
    let countsOnly = false
    const quarantine = (r: Omit<QuarantineRecord, 'id'>): QuarantineRecord => {
      stats.quarantined++
      stats.quarantineByReason[r.reason] = (stats.quarantineByReason[r.reason] ?? 0) + 1
      const kept = (stats.quarantineKept ??= { records: 0, bytes: 0, byDevice: {} })
      // Per device only for registered devices: made-up device ids must not grow the counters.
      const who = r.deviceId !== undefined && ctx.device(r.deviceId) ? r.deviceId : ''
      const record: QuarantineRecord = { ...r, id: quarantineSeq }
      const bytes = jsonBytes(record)
      const caps = this.#caps
      if (
        kept.records >= caps.maxRecords ||
        kept.bytes + bytes.length > caps.maxBytes ||
        (kept.byDevice[who] ?? 0) >= caps.maxPerDevice
      ) {
        // Over a cap: counted, not kept (docs/ARCHITECTURE.md, "Quarantine"); the oldest records stay as the first evidence.
        countsOnly = true
        stats.quarantineDropped = (stats.quarantineDropped ?? 0) + 1
        const by = (stats.quarantineDroppedByReason ??= {})
        by[r.reason] = (by[r.reason] ?? 0) + 1
        return { ...record, id: -1 }
      }
      quarantineSeq++
      put(K.quarantine(record.id), bytes)
      kept.records++
      kept.bytes += bytes.length
      kept.byDevice[who] = (kept.byDevice[who] ?? 0) + 1
      return record
    }
    const ctx: BatchContext = {
      put,
      del: (key) => {
        ops.push({ type: 'del', key })
      },
      device: (id) => devices.get(id) ?? this.#devices.get(id),
      setDevice: (d) => {
        devices.set(d.deviceId, d)
      },
      shipment: (id) => shipments.get(id) ?? this.#shipments.get(id),
      setShipment: (s) => {
        shipments.set(s.shipmentId, s)
      },
      shipmentsOfDevice: (id) => {
        const committed = this.#deviceShipments.get(id)
        // Asked for every reading; a batch rarely changes a shipment, so the common case is one array.
        if (shipments.size === 0) {
          const out: ShipmentState[] = []
          if (committed) for (const sid of committed) out.push(this.#shipments.get(sid)!)
          return out
        }
        const ids = new Set(committed ?? [])
        for (const s of shipments.values()) if (s.devices.includes(id)) ids.add(s.shipmentId)
        return [...ids].map((sid) => (shipments.get(sid) ?? this.#shipments.get(sid))!)
      },
      readingRow: async (deviceId, seq) => rows.get(K.reading(deviceId, seq)) ?? this.readingRow(deviceId, seq),
      setReadingRow: (deviceId, seq, row) => {
        const key = K.reading(deviceId, seq)
        rows.set(key, row)
        put(key, jsonBytes(row))
        batchReadings.push({ deviceId, seq, t: row.t, i: row.i })
      },
      readingsFromTime: async (deviceId, from) => {
        const out: { seq: number; t: number; i: number }[] = []
        for await (const [k, v] of this.db.iterator({
          gte: K.readingTimeFrom(deviceId, from),
          lt: K.readingTimePrefix(deviceId) + END,
        })) {
          const parts = k.split('!')
          out.push({ t: Number(parts[2]), seq: Number(parts[3]), i: parseJsonBytes<number>(v) })
        }
        for (const r of batchReadings) if (r.deviceId === deviceId && r.t >= from) out.push(r)
        return out
      },
      heldRow: async (deviceId, seq) => {
        const k = K.held(deviceId, seq)
        if (heldRows.has(k)) return heldRows.get(k) ?? undefined
        return this.heldRow(deviceId, seq)
      },
      setHeldRow: (deviceId, seq, row) => {
        heldRows.set(K.held(deviceId, seq), row)
        put(K.held(deviceId, seq), jsonBytes(row))
      },
      deleteHeldRow: (deviceId, seq) => {
        heldRows.set(K.held(deviceId, seq), null)
        ops.push({ type: 'del', key: K.held(deviceId, seq) })
      },
      quarantine: (r) => {
        quarantine(r)
      },
    }
    const outcomes: ItemOutcome<WriteResult>[] = []
    const newEntries: StoredEntry[] = []
    /** Encodes the next entry (validating it; throws before anything is recorded). */
    const encodeNext = (type: EntryType, body: EntryBodies[EntryType], time: number, known?: KnownReading) => {
      const entry: Entry = { v: 1, index: size, type, time, prev: lastHash, body }
      return { entry, bytes: encodeEntry(entry, known?.reading) }
    }
    /** Records one encoded entry and applies it; returns it and the entries it makes follow. */
    const appendEncoded = async (
      { entry, bytes }: { entry: Entry; bytes: Uint8Array },
      apply: Awaited<ReturnType<typeof prepareEntry>>,
    ) => {
      const { type } = entry
      const hash = sha256Hex(bytes)
      const stored: StoredEntry = { entry, bytes, hash }
      const appended = appendLeaf(frontier, size, leafHashNode(bytes), nodeHashNode)
      for (const n of appended.completed) put(K.node(n.level, n.index), n.hash)
      put(K.entry(size), bytes)
      put(K.byType(type, size), NO_VALUE)
      const follow = (await apply(stored)) ?? []
      frontier = appended.frontier
      size++
      lastHash = hash
      lastTime = entry.time
      stats.entries++
      stats.entriesByType[type] = (stats.entriesByType[type] ?? 0) + 1
      newEntries.push(stored)
      return { stored, follow }
    }
    for (const item of items) {
      let applying = false
      try {
        if (item.kind === 'barrier') {
          outcomes.push({ ok: true, value: null })
          continue
        }
        if (item.kind === 'quarantine') {
          outcomes.push({ ok: true, value: quarantine(item.record) })
          continue
        }
        if (item.kind === 'hold') {
          prepareHold(ctx, item.body, item.time, item.known)()
          outcomes.push({ ok: true, value: { held: true, deviceId: item.body.deviceId, seq: item.body.seq } })
          continue
        }
        // Entry times never go backwards along the log.
        const time = Math.max(item.time, lastTime)
        const apply = await prepareEntry(ctx, item.type, item.body, time, undefined, item.known)
        const encoded = encodeNext(item.type, item.body, time, item.known)
        // From here on nothing is expected to fail; if something does (a read error),
        // the batch cannot be partly undone, so the whole batch fails.
        applying = true
        const first = await appendEncoded(encoded, apply)
        // Held readings the entry reached are chained right after it, in seq order (a queue only when there are).
        if (first.follow.length) {
          const queue: { type: 'reading'; body: EntryBodies['reading']; via: ChainVia }[] = [...first.follow]
          while (queue.length) {
            const f = queue.shift()!
            const apply = await prepareEntry(ctx, f.type, f.body, time, f.via)
            const next = await appendEncoded(encodeNext(f.type, f.body, time), apply)
            queue.push(...next.follow)
          }
        }
        outcomes.push({ ok: true, value: first.stored })
      } catch (error) {
        if (applying) throw error
        // prepareEntry and encodeEntry throw before anything of this item is recorded.
        outcomes.push({ ok: false, error })
      }
    }
    if (ops.length === 0 && !countsOnly) return outcomes
    stats.batches++
    stats.largestBatch = Math.max(stats.largestBatch, newEntries.length)
    const tree: TreeState = { size, frontier: frontier.map(hexOf), lastHash, lastTime }
    for (const d of devices.values()) put(K.device(d.deviceId), jsonBytes(d))
    for (const s of shipments.values()) put(K.shipment(s.shipmentId), jsonBytes(s))
    put(K.tree, jsonBytes(tree))
    put(K.stats, jsonBytes(stats))
    // Nothing in memory has moved yet: it moves only once the batch is durable (#commit retries until it is).
    await this.#commit(ops, { batches: this.#stats.batches, tree: this.#tree }, { batches: stats.batches, tree })
    this.#tree = tree
    this.#frontier = frontier
    for (const d of devices.values()) this.#devices.set(d.deviceId, d)
    for (const s of shipments.values()) {
      this.#shipments.set(s.shipmentId, s)
      this.#linkShipment(s)
    }
    this.#stats = stats
    this.#quarantineSeq = quarantineSeq
    // The batch is durable whatever a listener does: a throwing listener must not fail the writes.
    const notify = (event: 'entry' | 'batch', arg: unknown) => {
      try {
        this.emit(event, arg)
      } catch (e) {
        this.#log.error(
          { event: 'listener_threw', on: event, err: (e as Error).message },
          `a ledger ${event} listener threw: ${(e as Error).message}`,
        )
      }
    }
    for (const e of newEntries) notify('entry', e)
    notify('batch', { entries: newEntries.length, items: items.length })
    return outcomes
  }

  #linkShipment(s: ShipmentState): void {
    for (const id of s.devices) {
      let set = this.#deviceShipments.get(id)
      if (!set) this.#deviceShipments.set(id, (set = new Set()))
      set.add(s.shipmentId)
    }
  }

  // ---- reads ----------------------------------------------------------------

  #checkIndex(i: number, size = this.#tree.size): void {
    if (!Number.isSafeInteger(i) || i < 0 || i >= size)
      throw new LedgerError('ERR_LEDGER_INDEX_RANGE', `entry index ${i} is outside the log of size ${size}`, {
        index: i,
        size,
      })
  }

  async entryBytes(i: number): Promise<Uint8Array> {
    this.#checkIndex(i)
    const b = await this.db.get(K.entry(i))
    if (!b) throw new LedgerError('ERR_LEDGER_STATE_MISMATCH', `entry ${i} is missing from the store`, { index: i })
    return b
  }

  async getEntry(i: number): Promise<StoredEntry> {
    return parseStored(await this.entryBytes(i))
  }

  async getEntries(indices: number[]): Promise<StoredEntry[]> {
    if (indices.length === 0) return []
    const all = await this.db.getMany(indices.map(K.entry))
    return all.map((bytes, n) => {
      if (!bytes)
        throw new LedgerError('ERR_LEDGER_STATE_MISMATCH', `entry ${indices[n]} is indexed but missing`, {
          index: indices[n],
        })
      return parseStored(bytes)
    })
  }

  async heldRow(deviceId: string, seq: number): Promise<HeldRow | undefined> {
    const v = await this.db.get(K.held(deviceId, seq))
    return v ? parseJsonBytes<HeldRow>(v) : undefined
  }

  /** A device's held readings (outside the log), by seq. */
  async heldRows(deviceId: string): Promise<(HeldRow & { seq: number })[]> {
    const out: (HeldRow & { seq: number })[] = []
    for await (const [k, v] of this.db.iterator({ gte: K.heldPrefix(deviceId), lt: K.heldPrefix(deviceId) + END }))
      out.push({ ...parseJsonBytes<HeldRow>(v), seq: indexOfKey(k) })
    return out
  }

  async readingRow(deviceId: string, seq: number): Promise<ReadingRow | undefined> {
    const v = await this.db.get(K.reading(deviceId, seq))
    return v ? parseJsonBytes<ReadingRow>(v) : undefined
  }

  /** Entry indices of one type, ascending, from entry index `from`. O(k). */
  async indicesByType(
    type: EntryType,
    { from = 0, limit = Infinity }: { from?: number; limit?: number } = {},
  ): Promise<number[]> {
    const out: number[] = []
    for await (const k of this.db.keys({
      gte: K.byType(type, from),
      lt: K.byTypePrefix(type) + END,
      limit: Number.isFinite(limit) ? limit : -1,
    }))
      out.push(indexOfKey(k))
    return out
  }

  /** Entry indices of a device's readings with fromSeq <= seq <= toSeq, by seq. O(k). */
  async readingIndicesByDevice(deviceId: string, fromSeq: number, toSeq: number, limit = Infinity): Promise<number[]> {
    const out: number[] = []
    for await (const v of this.db.values({
      gte: K.reading(deviceId, fromSeq),
      lte: K.reading(deviceId, toSeq),
      limit: Number.isFinite(limit) ? limit : -1,
    }))
      out.push(parseJsonBytes<ReadingRow>(v).i)
    return out
  }

  /** Entry indices of a shipment's readings by device time, within [startAt, closedAt]. O(k). */
  async readingIndicesByShipment(
    shipmentId: string,
    { fromTime, toTime, limit = Infinity }: { fromTime?: number; toTime?: number; limit?: number } = {},
  ): Promise<number[]> {
    const s = this.#shipments.get(shipmentId)
    if (!s)
      throw new LedgerError('ERR_LEDGER_SHIPMENT_UNKNOWN', `shipment ${shipmentId} does not exist`, { shipmentId })
    const from = Math.max(s.startAt, fromTime ?? 0)
    const to = Math.min(s.closedAt ?? Number.MAX_SAFE_INTEGER, toTime ?? Number.MAX_SAFE_INTEGER)
    const out: number[] = []
    if (to < from) return out
    // Every key of device time `to` sorts before the next time's prefix.
    const upper =
      to >= Number.MAX_SAFE_INTEGER
        ? K.shipmentReadingPrefix(shipmentId) + END
        : K.shipmentReadingFrom(shipmentId, to + 1)
    // Once closed, only readings up to each logger's close anchor are the shipment's (final once closed);
    // readings indexed earlier above a head (past a hole) are post-close evidence.
    // A removed logger ends at its removal anchor (ledger/tlog/logger-windows.ts).
    const head = s.closeAnchors
      ? new Map(
          [...s.closeAnchors, ...windowsOf(s).flatMap((w) => (w.endAnchor ? [w.endAnchor] : []))].map((a) => [
            a.deviceId,
            a.seq,
          ]),
        )
      : null
    for await (const [k, v] of this.db.iterator({ gte: K.shipmentReadingFrom(shipmentId, from), lt: upper })) {
      if (head) {
        const parts = k.split('!')
        if (Number(parts[4]) > (head.get(parts[3]) ?? 0)) continue
      }
      out.push(parseJsonBytes<number>(v))
      if (out.length >= limit) break
    }
    return out
  }

  /** Entry indices of a closed shipment's post-close readings (above a close anchor, device time in the window), by device and seq. */
  async postCloseIndices(shipmentId: string): Promise<number[]> {
    if (!this.#shipments.has(shipmentId))
      throw new LedgerError('ERR_LEDGER_SHIPMENT_UNKNOWN', `shipment ${shipmentId} does not exist`, { shipmentId })
    const out: number[] = []
    for await (const v of this.db.values({
      gte: K.postClosePrefix(shipmentId),
      lt: K.postClosePrefix(shipmentId) + END,
    }))
      out.push(parseJsonBytes<number>(v))
    return out
  }

  async quarantine({
    from = 0,
    limit = 100,
    reverse = false,
  }: {
    from?: number
    limit?: number
    reverse?: boolean
  } = {}): Promise<QuarantineRecord[]> {
    const out: QuarantineRecord[] = []
    const range = reverse
      ? { gte: K.quarantinePrefix, lte: K.quarantine(from === 0 ? Number.MAX_SAFE_INTEGER : from) }
      : { gte: K.quarantine(from), lt: K.quarantinePrefix + END }
    for await (const v of this.db.values({ ...range, reverse, limit }))
      out.push(currentRecord(parseJsonBytes<QuarantineRecord>(v)))
    return out
  }

  async latestCheckpoint(): Promise<StoredCheckpoint | undefined> {
    const v = await this.db.get(K.checkpoint)
    return v ? parseJsonBytes<StoredCheckpoint>(v) : undefined
  }

  // ---- Merkle ---------------------------------------------------------------

  readonly readNode: NodeReader = async (level, index) => {
    const h = await this.db.get(K.node(level, index))
    if (!h)
      throw new LedgerError('ERR_LEDGER_STATE_MISMATCH', `Merkle node (${level}, ${index}) is missing`, {
        level,
        index,
      })
    return h
  }

  /** Every node a root or proof needs, in one LevelDB multi-get. */
  readonly readNodes: NodeBatchReader = async (nodes) => {
    const hashes = await this.db.getMany(nodes.map((n) => K.node(n.level, n.index)))
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

  #checkSize(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.#tree.size)
      throw new LedgerError('ERR_LEDGER_INDEX_RANGE', `tree size ${size} is outside 0..${this.#tree.size}`, {
        size,
        current: this.#tree.size,
      })
  }

  async rootAt(size: number): Promise<Uint8Array> {
    this.#checkSize(size)
    return size === 0 ? EMPTY_ROOT.slice() : rootAt(size, this.readNode, this.readNodes)
  }

  async inclusionProof(index: number, size: number): Promise<Uint8Array[]> {
    this.#checkSize(size)
    this.#checkIndex(index, size)
    return inclusionProof(index, size, this.readNode, this.readNodes)
  }

  async consistencyProof(oldSize: number, newSize: number): Promise<Uint8Array[]> {
    this.#checkSize(newSize)
    if (!Number.isSafeInteger(oldSize) || oldSize < 0 || oldSize > newSize)
      throw new LedgerError('ERR_LEDGER_INDEX_RANGE', `old size ${oldSize} is outside 0..${newSize}`, {
        oldSize,
        newSize,
      })
    return consistencyProof(oldSize, newSize, this.readNode, this.readNodes)
  }
}

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

/** The batch counter and tree state the database holds (every batch writes both). */
async function durableMark(db: DB): Promise<{ batches: number; tree: TreeState }> {
  const [statsBytes, treeBytes] = await db.getMany([K.stats, K.tree])
  return {
    batches: statsBytes ? parseJsonBytes<LedgerStats>(statsBytes).batches : 0,
    tree: treeBytes
      ? parseJsonBytes<TreeState>(treeBytes)
      : { size: 0, frontier: [], lastHash: GENESIS_PREV, lastTime: 0 },
  }
}

/**
 * Recovery check on open. The tree state is written in the same atomic batch
 * as its entries, so after any crash it matches them; a mismatch means the
 * directory was changed by something else, and the ledger refuses to append.
 */
async function checkTreeState(db: DB, tree: TreeState): Promise<void> {
  const after = await db.get(K.entry(tree.size))
  if (after)
    throw new LedgerError(
      'ERR_LEDGER_STATE_MISMATCH',
      `an entry exists at index ${tree.size}, beyond the stored tree size`,
      { size: tree.size },
    )
  if (tree.size === 0) return
  const last = await db.get(K.entry(tree.size - 1))
  if (!last)
    throw new LedgerError(
      'ERR_LEDGER_STATE_MISMATCH',
      `entry ${tree.size - 1} (the last of the stored tree) is missing`,
      { size: tree.size },
    )
  const h = entryHash(last)
  if (h !== tree.lastHash)
    throw new LedgerError(
      'ERR_LEDGER_STATE_MISMATCH',
      `entry ${tree.size - 1} hashes to ${h}, the tree state says ${tree.lastHash}`,
      { index: tree.size - 1, expected: tree.lastHash, actual: h },
    )
  const leaf = await db.get(K.node(0, tree.size - 1))
  if (!leaf || toHex(leaf) !== toHex(leafHash(last)))
    throw new LedgerError(
      'ERR_LEDGER_STATE_MISMATCH',
      `the Merkle leaf of entry ${tree.size - 1} does not match its bytes`,
      { index: tree.size - 1 },
    )
}
