/**
 * What the entry preparers (device-entries.ts, shipment-entries.ts, reading-entries.ts) work
 * against: the view of the ledger a batch is built on, the rows they read and write, and the
 * shape of a preparer. The store (store.ts) builds the view; indexes.ts picks the preparer.
 */
import type { DecodedReading } from '../protocol/index.ts'
import type { EntryBodies, EntryType, StoredEntry } from '../tlog/index.ts'
import { LedgerError } from './errors.ts'
import type { DeviceState, QuarantineRecord, ShipmentState } from './state-types.ts'

/** A reading's row in the r! index: entry index, payload hash, prevHash (hex), device time. */
export interface ReadingRow {
  i: number
  h: string
  p: string
  t: number
}

/** A held reading (h! key): the exact payload (base64), its hash and prevHash (hex), device time, ledger receive time. */
export interface HeldRow {
  payload: string
  h: string
  p: string
  t: number
  receivedAt: number
}

export interface BatchOp {
  type: 'put' | 'del'
  key: string
  value?: Uint8Array
}

/**
 * What the ingest already decoded and hashed of a reading's payload (the
 * bytes `body.payload` encodes): passed along so the ledger does not decode
 * the base64, the reading and its SHA-256 again. The caller vouches that both
 * come from exactly those bytes; the ledger still checks device id and seq.
 */
export interface KnownReading {
  reading: DecodedReading /** hex SHA-256 of the payload */
  hash: string
}

/** The view of the ledger a batch is built against: committed state plus the batch's own earlier entries. */
export interface BatchContext {
  put(key: string, value: Uint8Array): void
  del(key: string): void
  device(id: string): DeviceState | undefined
  setDevice(d: DeviceState): void
  shipment(id: string): ShipmentState | undefined
  setShipment(s: ShipmentState): void
  /** Open or closed shipments listing this device. */
  shipmentsOfDevice(id: string): ShipmentState[]
  readingRow(deviceId: string, seq: number): Promise<ReadingRow | undefined>
  setReadingRow(deviceId: string, seq: number, row: ReadingRow): void
  /** Readings of one device with device time >= from, committed or earlier in this batch. */
  readingsFromTime(deviceId: string, from: number): Promise<{ seq: number; t: number; i: number }[]>
  heldRow(deviceId: string, seq: number): Promise<HeldRow | undefined>
  setHeldRow(deviceId: string, seq: number, row: HeldRow): void
  deleteHeldRow(deviceId: string, seq: number): void
  /** Stores a quarantine record in this batch (outside the log). */
  quarantine(record: Omit<QuarantineRecord, 'id'>): void
}

/**
 * How a reading entry reaches the chain: sent by the ingest as the next seq
 * (undefined), chained from the held store because the seq below it was
 * chained ('held'), or the first held reading above a declared gap, which has
 * no predecessor to link to ('after-gap').
 */
export type ChainVia = 'held' | 'after-gap'

/** An entry the store appends right after another in the same batch (held readings a chained reading reaches). */
export interface FollowUp {
  type: 'reading'
  body: EntryBodies['reading']
  via: ChainVia
}

/**
 * JSON.stringify's UTF-8 bytes. Buffer.from writes small values into Node's shared pool, where
 * TextEncoder makes an ArrayBuffer per value: a batch writes several values per entry, and the
 * batch copies each one (LevelDB's WriteBatch) when it is put.
 */
export const jsonBytes = (v: unknown): Uint8Array => Buffer.from(JSON.stringify(v), 'utf8')
export const parseJsonBytes = <T>(b: Uint8Array): T => JSON.parse(new TextDecoder().decode(b)) as T

export type Apply = (stored: StoredEntry) => Promise<readonly FollowUp[] | void>

/**
 * Checks one entry against the batch's view (throws a LedgerError and changes nothing) and
 * returns what applies it once its bytes are encoded.
 */
export type Preparer<T extends EntryType> = (
  ctx: BatchContext,
  body: EntryBodies[T],
  time: number,
  via?: ChainVia,
  known?: KnownReading,
) => Promise<Apply> | Apply

export const bad = (message: string, details: Record<string, unknown> = {}): never => {
  throw new LedgerError('ERR_LEDGER_BAD_INPUT', message, details)
}
