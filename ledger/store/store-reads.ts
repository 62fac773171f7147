/**
 * The store's read side over LevelDB: entries, the query indexes (by type, device, shipment,
 * post-close), held readings, the quarantine and the latest checkpoint. Reads see durable state
 * only; every query for k items is a range scan of k keys.
 */
import type { Entry, EntryType, StoredEntry } from '../tlog/index.ts'
import { windowsOf } from '../tlog/index.ts'
import { sha256Hex } from '../node-crypto/index.ts'
import { parseJsonBytes, type HeldRow, type ReadingRow } from './batch-context.ts'
import type { DB } from './committed-state.ts'
import { LedgerError } from './errors.ts'
import { END, K, indexOfKey } from './keys-layout.ts'
import { currentRecord } from './quarantine-names.ts'
import type { QuarantineRecord, ShipmentState } from './state-types.ts'

export interface StoredCheckpoint {
  note: string
  size: number
  rootHash: string
}

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

export function checkIndex(i: number, size: number): void {
  if (!Number.isSafeInteger(i) || i < 0 || i >= size)
    throw new LedgerError('ERR_LEDGER_INDEX_RANGE', `entry index ${i} is outside the log of size ${size}`, {
      index: i,
      size,
    })
}

export async function entryBytes(db: DB, i: number, size: number): Promise<Uint8Array> {
  checkIndex(i, size)
  const b = await db.get(K.entry(i))
  if (!b) throw new LedgerError('ERR_LEDGER_STATE_MISMATCH', `entry ${i} is missing from the store`, { index: i })
  return b
}

export async function getEntry(db: DB, i: number, size: number): Promise<StoredEntry> {
  return parseStored(await entryBytes(db, i, size))
}

export async function getEntries(db: DB, indices: number[]): Promise<StoredEntry[]> {
  if (indices.length === 0) return []
  const all = await db.getMany(indices.map(K.entry))
  return all.map((bytes, n) => {
    if (!bytes)
      throw new LedgerError('ERR_LEDGER_STATE_MISMATCH', `entry ${indices[n]} is indexed but missing`, {
        index: indices[n],
      })
    return parseStored(bytes)
  })
}

export async function readHeldRow(db: DB, deviceId: string, seq: number): Promise<HeldRow | undefined> {
  const v = await db.get(K.held(deviceId, seq))
  return v ? parseJsonBytes<HeldRow>(v) : undefined
}

/** A device's held readings (outside the log), by seq. */
export async function heldRows(db: DB, deviceId: string): Promise<(HeldRow & { seq: number })[]> {
  const out: (HeldRow & { seq: number })[] = []
  for await (const [k, v] of db.iterator({ gte: K.heldPrefix(deviceId), lt: K.heldPrefix(deviceId) + END }))
    out.push({ ...parseJsonBytes<HeldRow>(v), seq: indexOfKey(k) })
  return out
}

export async function readReadingRow(db: DB, deviceId: string, seq: number): Promise<ReadingRow | undefined> {
  const v = await db.get(K.reading(deviceId, seq))
  return v ? parseJsonBytes<ReadingRow>(v) : undefined
}

/** Entry indices of one type, ascending, from entry index `from`. O(k). */
export async function indicesByType(
  db: DB,
  type: EntryType,
  { from = 0, limit = Infinity }: { from?: number; limit?: number } = {},
): Promise<number[]> {
  const out: number[] = []
  for await (const k of db.keys({
    gte: K.byType(type, from),
    lt: K.byTypePrefix(type) + END,
    limit: Number.isFinite(limit) ? limit : -1,
  }))
    out.push(indexOfKey(k))
  return out
}

/** Entry indices of a device's readings with fromSeq <= seq <= toSeq, by seq. O(k). */
export async function readingIndicesByDevice(
  db: DB,
  deviceId: string,
  fromSeq: number,
  toSeq: number,
  limit = Infinity,
): Promise<number[]> {
  const out: number[] = []
  for await (const v of db.values({
    gte: K.reading(deviceId, fromSeq),
    lte: K.reading(deviceId, toSeq),
    limit: Number.isFinite(limit) ? limit : -1,
  }))
    out.push(parseJsonBytes<ReadingRow>(v).i)
  return out
}

const unknownShipment = (shipmentId: string) =>
  new LedgerError('ERR_LEDGER_SHIPMENT_UNKNOWN', `shipment ${shipmentId} does not exist`, { shipmentId })

/** Entry indices of a shipment's readings by device time, within [startAt, closedAt]. O(k). */
export async function readingIndicesByShipment(
  db: DB,
  s: ShipmentState | undefined,
  shipmentId: string,
  { fromTime, toTime, limit = Infinity }: { fromTime?: number; toTime?: number; limit?: number } = {},
): Promise<number[]> {
  if (!s) throw unknownShipment(shipmentId)
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
  for await (const [k, v] of db.iterator({ gte: K.shipmentReadingFrom(shipmentId, from), lt: upper })) {
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
export async function postCloseIndices(db: DB, known: boolean, shipmentId: string): Promise<number[]> {
  if (!known) throw unknownShipment(shipmentId)
  const out: number[] = []
  for await (const v of db.values({
    gte: K.postClosePrefix(shipmentId),
    lt: K.postClosePrefix(shipmentId) + END,
  }))
    out.push(parseJsonBytes<number>(v))
  return out
}

export async function readQuarantine(
  db: DB,
  {
    from = 0,
    limit = 100,
    reverse = false,
  }: {
    from?: number
    limit?: number
    reverse?: boolean
  } = {},
): Promise<QuarantineRecord[]> {
  const out: QuarantineRecord[] = []
  const range = reverse
    ? { gte: K.quarantinePrefix, lte: K.quarantine(from === 0 ? Number.MAX_SAFE_INTEGER : from) }
    : { gte: K.quarantine(from), lt: K.quarantinePrefix + END }
  for await (const v of db.values({ ...range, reverse, limit }))
    out.push(currentRecord(parseJsonBytes<QuarantineRecord>(v)))
  return out
}

export async function latestCheckpoint(db: DB): Promise<StoredCheckpoint | undefined> {
  const v = await db.get(K.checkpoint)
  return v ? parseJsonBytes<StoredCheckpoint>(v) : undefined
}
