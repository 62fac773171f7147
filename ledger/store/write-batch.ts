/**
 * Building one group-commit batch (ARCHITECTURE.md decision 5): every item is prepared against
 * the committed state plus the batch's own earlier items, and what it writes (entry bytes, the
 * Merkle nodes it completes, the indexes, the derived state, the counters, the new tree state)
 * is collected as LevelDB operations. Nothing of the committed state moves here: the store moves
 * it once the batch is durable.
 */
import type { Entry, EntryBodies, EntryType, StoredEntry } from '../tlog/index.ts'
import { appendLeaf, encodeEntry } from '../tlog/index.ts'
import { leafHashNode, nodeHashNode, sha256Hex } from '../node-crypto/index.ts'
import { toHex } from '../protocol/index.ts'
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
import type { CommittedState, DB, TreeState } from './committed-state.ts'
import type { ItemOutcome } from './group-commit.ts'
import { prepareEntry } from './indexes.ts'
import { END, K } from './keys-layout.ts'
import { prepareHold } from './reading-entries.ts'
import { readHeldRow, readReadingRow } from './store-reads.ts'
import type { DeviceState, QuarantineRecord, ShipmentState } from './state-types.ts'

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

/** A built batch: the operations to write and the committed state they leave once durable. */
export interface BuiltBatch {
  ops: BatchOp[]
  tree: TreeState
  frontier: Uint8Array[]
  devices: Map<string, DeviceState>
  shipments: Map<string, ShipmentState>
  stats: CommittedState['stats']
  quarantineSeq: number
  /** The entries appended, in log order. */
  entries: StoredEntry[]
}

/** The value of every t! (by type) key: one shared empty value, LevelDB copies what it writes. */
const NO_VALUE = new Uint8Array(0)

/**
 * Prepares every item against `committed` (read, never changed). `batch` is undefined when the
 * items write nothing (barriers, refused items): no batch is written then.
 */
export async function buildBatch(
  db: DB,
  committed: CommittedState,
  items: WriteItem[],
): Promise<{ outcomes: ItemOutcome<WriteResult>[]; batch?: BuiltBatch }> {
  const ops: BatchOp[] = []
  const devices = new Map<string, DeviceState>()
  const shipments = new Map<string, ShipmentState>()
  const rows = new Map<string, ReadingRow>()
  const heldRows = new Map<string, HeldRow | null>()
  const batchReadings: { deviceId: string; seq: number; t: number; i: number }[] = []
  const stats = structuredClone(committed.stats)
  let quarantineSeq = committed.quarantineSeq
  let { size, lastHash, lastTime } = committed.tree
  let frontier = committed.frontier
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
    const caps = committed.caps
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
    device: (id) => devices.get(id) ?? committed.devices.get(id),
    setDevice: (d) => {
      devices.set(d.deviceId, d)
    },
    shipment: (id) => shipments.get(id) ?? committed.shipments.get(id),
    setShipment: (s) => {
      shipments.set(s.shipmentId, s)
    },
    shipmentsOfDevice: (id) => {
      const linked = committed.deviceShipments.get(id)
      // Asked for every reading; a batch rarely changes a shipment, so the common case is one array.
      if (shipments.size === 0) {
        const out: ShipmentState[] = []
        if (linked) for (const sid of linked) out.push(committed.shipments.get(sid)!)
        return out
      }
      const ids = new Set(linked ?? [])
      for (const s of shipments.values()) if (s.devices.includes(id)) ids.add(s.shipmentId)
      return [...ids].map((sid) => (shipments.get(sid) ?? committed.shipments.get(sid))!)
    },
    readingRow: async (deviceId, seq) => rows.get(K.reading(deviceId, seq)) ?? readReadingRow(db, deviceId, seq),
    setReadingRow: (deviceId, seq, row) => {
      const key = K.reading(deviceId, seq)
      rows.set(key, row)
      put(key, jsonBytes(row))
      batchReadings.push({ deviceId, seq, t: row.t, i: row.i })
    },
    readingsFromTime: async (deviceId, from) => {
      const out: { seq: number; t: number; i: number }[] = []
      for await (const [k, v] of db.iterator({
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
      return readHeldRow(db, deviceId, seq)
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
  if (ops.length === 0 && !countsOnly) return { outcomes }
  stats.batches++
  stats.largestBatch = Math.max(stats.largestBatch, newEntries.length)
  const tree: TreeState = { size, frontier: frontier.map(toHex), lastHash, lastTime }
  for (const d of devices.values()) put(K.device(d.deviceId), jsonBytes(d))
  for (const s of shipments.values()) put(K.shipment(s.shipmentId), jsonBytes(s))
  put(K.tree, jsonBytes(tree))
  put(K.stats, jsonBytes(stats))
  return { outcomes, batch: { ops, tree, frontier, devices, shipments, stats, quarantineSeq, entries: newEntries } }
}
