/**
 * The bounded buffer of readings not yet receipted by the ledger
 * (ARCHITECTURE.md decision 5). Sampling never waits for it: when it is full the
 * oldest reading is dropped and the caller flags BUFFER_OVERFLOW on the
 * reading that caused the drop.
 *
 * On disk (per device): `buffer.bin`, an append-only file of
 * `u32 length || payload` records, and `buffer.json`, the floor (every
 * sequence at or below it is receipted or dropped) plus the last receipt.
 * A torn last record (crash mid-append) is cut off on load. Dead records are
 * compacted away by rewriting the file atomically once they outnumber the
 * live ones.
 */
import { closeSync, fsyncSync, ftruncateSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { decodeReading, equalBytes, readingHash, toHex } from '../ledger/protocol/index.ts'
import { writeFailureReporter, type WriteErrorLog } from './atomic-file.ts'
import { writeFileAtomicSync } from '../ledger/protocol/atomic-file.ts'
import { SimError } from './errors.ts'

export interface BufferedReading {
  seq: number
  payload: Uint8Array
  /** readingHash(payload): what the ledger's receipt must echo. */
  hash: Uint8Array
  /** In memory only: wall-clock ms of the last time it was published (undefined: not since start-up). */
  sentAtMs?: number
  /** In memory only: the broker acknowledged it (PUBACK) since start-up, so it has left the device. */
  delivered?: boolean
  /** In memory only: how often it was re-sent for lack of a receipt (spaces out the next re-send). */
  retransmits?: number
}

export interface BufferMeta {
  /** Every seq <= floor is receipted or dropped. */
  floor: number
  /** Highest receipted seq (0 if none). */
  receiptedSeq: number
  /** Count of readings ever dropped for lack of room. */
  dropped: number
}

export interface BufferPersistence {
  /** `retained`: readings at or below the floor still in the file (receipted ones kept for a ledger restore). */
  load(): { entries: BufferedReading[]; meta: BufferMeta; retained?: BufferedReading[] }
  append(entry: BufferedReading): void
  saveMeta(meta: BufferMeta): void
  /** Replace the file's contents with exactly `live`. */
  compact(live: BufferedReading[]): void
}

const EMPTY_META: BufferMeta = { floor: 0, receiptedSeq: 0, dropped: 0 }

export function memoryBufferPersistence(): BufferPersistence {
  return { load: () => ({ entries: [], meta: { ...EMPTY_META } }), append() {}, saveMeta() {}, compact() {} }
}

export const BUFFER_FILE = 'buffer.bin'
export const BUFFER_META_FILE = 'buffer.json'

function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length)
  new DataView(out.buffer).setUint32(0, payload.length)
  out.set(payload, 4)
  return out
}

/**
 * `log` given: a failed write (full disk) never throws. Records that could not
 * be appended wait in memory and go out, in order, with the next append; the
 * file is cut back to its last whole record, so it never holds a torn record
 * in the middle. A failed meta save is retried with the next write; a failed
 * compaction leaves the old file (dead records are skipped on load).
 */
export function fileBufferPersistence(dir: string, log?: WriteErrorLog): BufferPersistence {
  const dataPath = join(dir, BUFFER_FILE)
  const metaPath = join(dir, BUFFER_META_FILE)
  const report = log && writeFailureReporter(dataPath, log)
  /** Bytes of whole records in the file (-1: unknown until load). */
  let length = -1
  let pending: Uint8Array[] = []
  let metaDirty: BufferMeta | undefined
  const attempt = (write: () => void): boolean => {
    try {
      write()
      return true
    } catch (e) {
      if (!report) throw e
      report.failed(e)
      return false
    }
  }
  const flushMeta = () => {
    if (metaDirty && attempt(() => writeFileAtomicSync(metaPath, JSON.stringify(metaDirty) + '\n', { mode: 0o600 })))
      metaDirty = undefined
  }
  const flushAppends = (): boolean => {
    if (pending.length === 0) return true
    const bytes = Buffer.concat(pending)
    return attempt(() => {
      const fd = openSync(dataPath, 'a', 0o600)
      try {
        if (length < 0) length = readFileSync(dataPath).length
        try {
          let off = 0
          while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
          fsyncSync(fd)
        } catch (e) {
          try {
            ftruncateSync(fd, length)
          } catch {
            /* the next load cuts a torn tail anyway */
          }
          throw e
        }
      } finally {
        closeSync(fd)
      }
      length += bytes.length
      pending = []
    })
  }
  const persistence: BufferPersistence = {
    load() {
      let meta = { ...EMPTY_META }
      try {
        const m = JSON.parse(readFileSync(metaPath, 'utf8')) as Partial<BufferMeta>
        for (const k of ['floor', 'receiptedSeq', 'dropped'] as const) {
          if (typeof m[k] !== 'number' || !Number.isInteger(m[k]) || (m[k] as number) < 0) {
            throw new SimError('ERR_STATE_CORRUPT', `buffer meta ${metaPath}: "${k}" must be a non-negative integer`, {
              path: metaPath,
            })
          }
        }
        meta = m as BufferMeta
      } catch (e) {
        if (e instanceof SimError) throw e
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
          throw new SimError('ERR_STATE_CORRUPT', `buffer meta ${metaPath} is not JSON`, { path: metaPath })
      }
      let bytes: Uint8Array
      try {
        bytes = readFileSync(dataPath)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
          length = 0
          return { entries: [], meta }
        }
        throw e
      }
      const entries: BufferedReading[] = []
      const retained: BufferedReading[] = []
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      let o = 0
      while (o + 4 <= bytes.length) {
        const n = dv.getUint32(o)
        if (o + 4 + n > bytes.length) break
        const payload = bytes.slice(o + 4, o + 4 + n)
        let seq: number
        try {
          seq = decodeReading(payload).fields.seq
        } catch {
          break // a torn or corrupted record ends the readable log
        }
        o += 4 + n
        ;(seq > meta.floor ? entries : retained).push({ seq, payload, hash: readingHash(payload) })
      }
      if (o < bytes.length) truncateSync(dataPath, o)
      length = o
      return { entries, meta, retained }
    },
    append(entry) {
      pending.push(frame(entry.payload))
      if (flushAppends()) report?.ok()
      flushMeta()
    },
    saveMeta(meta) {
      metaDirty = meta
      flushMeta()
      if (!metaDirty && flushAppends()) report?.ok()
    },
    compact(live) {
      const bytes = Buffer.concat(live.map((e) => frame(e.payload)))
      // `live` holds every reading, those still pending too: once written, nothing is pending.
      if (attempt(() => writeFileAtomicSync(dataPath, bytes, { mode: 0o600 }))) {
        length = bytes.length
        pending = []
        report?.ok()
      }
      flushMeta()
    },
  }
  return persistence
}

export type ReceiptOutcome =
  | { kind: 'pruned'; count: number }
  | { kind: 'stale' } // at or below what is already receipted or dropped
  | { kind: 'hash-mismatch'; seq: number; expected: string; got: string }
  | { kind: 'unknown-seq'; seq: number }
  /** The ledger receipted less than before (it was restored from a backup): the readings above are unreceipted again. */
  | { kind: 'rewound'; count: number }

/** Test hook: the durable steps of adding a reading, in order (crash tests stop the process here). */
export type BufferStep = 'appended' | 'drop-recorded'

export class ReadingBuffer {
  readonly capacity: number
  /** Called after each durable step of add() (tests only). */
  onStep?: (step: BufferStep, seq: number) => void
  private entries: BufferedReading[]
  /**
   * Receipted readings kept (up to `capacity`, newest) in case the ledger is
   * restored from a backup older than its receipts: a lower receipt then
   * makes them unreceipted again, and they are re-sent.
   */
  private retained: BufferedReading[]
  private meta: BufferMeta
  private deadInFile = 0
  private readonly store: BufferPersistence

  constructor(capacity: number, store: BufferPersistence = memoryBufferPersistence()) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new SimError('ERR_SIM_OPTIONS', `buffer capacity must be a positive integer, got ${capacity}`)
    this.capacity = capacity
    this.store = store
    const loaded = store.load()
    this.meta = loaded.meta
    this.retained = (loaded.retained ?? []).slice(-capacity)
    // A capacity lowered since the last run: keep the newest, as on overflow.
    const excess = Math.max(0, loaded.entries.length - capacity)
    this.entries = loaded.entries.slice(excess)
    if (excess > 0) this.dropThrough(this.entries[0].seq - 1, excess)
  }

  get size(): number {
    return this.entries.length
  }
  get floor(): number {
    return this.meta.floor
  }
  get receiptedSeq(): number {
    return this.meta.receiptedSeq
  }
  get droppedTotal(): number {
    return this.meta.dropped
  }
  last(): BufferedReading | undefined {
    return this.entries[this.entries.length - 1]
  }
  all(): readonly BufferedReading[] {
    return this.entries
  }

  /**
   * Adds a reading, then drops the oldest if that made the buffer overfull.
   * Returns how many were dropped. The order matters for a crash: the new
   * reading (which carries BUFFER_OVERFLOW when its room costs a reading) is
   * durable before the drop is recorded. A crash in between leaves one
   * reading too many, which the next load drops the same way; the other
   * order could record the drop and lose the flagged reading, and the
   * re-signed one would no longer know it must carry the flag.
   */
  add(entry: BufferedReading): number {
    this.store.append(entry)
    this.entries.push(entry)
    this.onStep?.('appended', entry.seq)
    const dropped = Math.max(0, this.entries.length - this.capacity)
    if (dropped > 0) {
      this.dropThrough(this.entries[dropped - 1].seq, dropped)
      this.onStep?.('drop-recorded', entry.seq)
    }
    return dropped
  }

  private dropThrough(seq: number, count: number): void {
    this.entries = this.entries.filter((e) => e.seq > seq)
    this.meta = { ...this.meta, floor: Math.max(this.meta.floor, seq), dropped: this.meta.dropped + count }
    this.store.saveMeta(this.meta)
    this.deadInFile += count
    this.maybeCompact()
  }

  /** Readings in [from, to] still held, in order: receipted ones too (a ledger restored from a backup asks again for them). */
  range(from: number, to: number): BufferedReading[] {
    return [...this.retained, ...this.entries].filter((e) => e.seq >= from && e.seq <= to)
  }

  /**
   * Applies a receipt: the ledger holds every reading up to `seq`, and `hash`
   * is the hash of the one at `seq`. Prunes only if the hash matches what
   * this device sent; otherwise keeps everything and reports the mismatch.
   */
  receipt(seq: number, hash: Uint8Array): ReceiptOutcome {
    if (seq < this.meta.receiptedSeq) return this.rewind(seq, hash)
    if (seq <= this.meta.floor) return { kind: 'stale' }
    const at = this.entries.find((e) => e.seq === seq)
    if (!at) return { kind: 'unknown-seq', seq }
    if (!equalBytes(at.hash, hash)) return { kind: 'hash-mismatch', seq, expected: toHex(at.hash), got: toHex(hash) }
    const pruned = this.entries.filter((e) => e.seq <= seq)
    this.entries = this.entries.filter((e) => e.seq > seq)
    this.retained.push(...pruned)
    const evicted = Math.max(0, this.retained.length - this.capacity)
    this.retained = this.retained.slice(evicted)
    this.meta = { ...this.meta, floor: seq, receiptedSeq: seq }
    this.store.saveMeta(this.meta)
    this.deadInFile += evicted
    this.maybeCompact()
    return { kind: 'pruned', count: pruned.length }
  }

  /**
   * A receipt below an earlier one: the ledger lost readings it had
   * receipted (a restore from a backup). If `hash` matches what this device
   * holds at `seq`, every retained reading above it is unreceipted again.
   */
  private rewind(seq: number, hash: Uint8Array): ReceiptOutcome {
    const at = seq === 0 ? undefined : this.retained.find((e) => e.seq === seq)
    if (seq > 0 && !at) return { kind: 'unknown-seq', seq }
    const mine = at ? at.hash : new Uint8Array(32)
    if (!equalBytes(mine, hash)) return { kind: 'hash-mismatch', seq, expected: toHex(mine), got: toHex(hash) }
    const back = this.retained.filter((e) => e.seq > seq)
    this.retained = this.retained.filter((e) => e.seq <= seq)
    this.entries = [...back.map((e) => ({ seq: e.seq, payload: e.payload, hash: e.hash })), ...this.entries]
    this.meta = { ...this.meta, floor: seq, receiptedSeq: seq }
    this.store.saveMeta(this.meta)
    return { kind: 'rewound', count: back.length }
  }

  private maybeCompact(): void {
    if (this.deadInFile >= 64 && this.deadInFile > this.entries.length) {
      this.store.compact([...this.retained, ...this.entries])
      this.deadInFile = 0
    }
  }
}
