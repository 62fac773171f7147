/**
 * The integrity checker of a whole ledger (issue 5, "Integrity and recovery";
 * `coldproof verify-ledger`). It trusts nothing stored but the ledger's public
 * key: it re-reads every entry's bytes through a small reader interface (not
 * the storage), checks each entry's hash link, index, type rules and reading
 * signature, every device chain (readings in seq order, each linked to the
 * one before unless a gap entry declared the range lost), the signatures of
 * fork evidence, and recomputes the
 * RFC 6962 root of the whole log against the signed checkpoints.
 *
 * Reading signatures are checked with Node's crypto (OpenSSL), independent
 * of the noble engine the devices sign with (ARCHITECTURE.md decision 9).
 */
import { cachedEd25519Verifier } from '../node-crypto/index.ts'
import { decodeEntry, entryHash, EntryError, GENESIS_PREV, readingOfEntry } from '../tlog/index.ts'
import type { Entry } from '../tlog/index.ts'
import { appendLeaf, EMPTY_ROOT, leafHash, nodeHash, rootAt, rootFromFrontier, type NodeReader } from '../tlog/index.ts'
import { parseVerifierKey, verifierKey, NoteError, type SignatureVerifier } from '../tlog/index.ts'
import { CheckpointError, verifyCheckpoint, type Checkpoint } from '../tlog/index.ts'
import { checkDerived } from './fsck-derived.ts'
import { applyChange, changeProblem, initialWindows, type LoggerWindow } from '../tlog/index.ts'
import { equalBytes, fromBase64, fromHex, toBase64, toHex } from '../protocol/index.ts'
import { decodeReading } from '../protocol/index.ts'
import { GENESIS_PREV_HASH, readingHash, readingSigningMessage } from '../protocol/index.ts'

/** What the checker reads. A LevelDB ledger, a bundle or a test array can all provide it. */
export interface LedgerReader {
  /** Number of entries in the log. */
  size(): Promise<number>
  /** The exact stored bytes of entry `index` (0 <= index < size). */
  entryBytes(index: number): Promise<Uint8Array>
  /** The latest signed checkpoint note, if the ledger has signed one. */
  latestCheckpoint(): Promise<string | undefined>
  /**
   * Optional: the leaf hash the store recorded for entry `index` when it wrote
   * it. Only used to name the changed entry exactly when a hash link breaks;
   * the verdict never depends on it.
   */
  storedLeafHash?(index: number): Promise<Uint8Array | undefined>
  /** Optional: a problem of the storage itself found before reading (missing or damaged database files). */
  storageProblem?(): Promise<StorageProblem | undefined>
  /** Optional: the latest checkpoint of the anchor outside the store (checkpoints.log); the store must reach it with the same root. */
  anchorCheckpoint?(): Promise<string | undefined>
  /**
   * Optional: every key and value of the store from one snapshot, in key
   * order; the data derived from the entries is recomputed and compared
   * (ledger/store/fsck-derived.ts).
   */
  storeSnapshot?(): AsyncIterable<[string, Uint8Array]>
}

export interface StorageProblem { code: 'ERR_FSCK_DB_MISSING' | 'ERR_FSCK_DB_DAMAGED'; message: string; files?: string[] }

export const FSCK_ERROR_CODES = {
  ERR_FSCK_READ: 'an entry could not be read from the store',
  ERR_FSCK_ENTRY_MALFORMED: 'an entry does not decode (the entry codec code and field are in details)',
  ERR_FSCK_ENTRY_CHANGED: 'an entry no longer hashes to the leaf hash stored when it was written',
  ERR_FSCK_INDEX: 'an entry carries another index than its position in the log',
  ERR_FSCK_PREV_LINK: 'an entry\'s prev is not the SHA-256 of the entry before it',
  ERR_FSCK_DEVICE_UNKNOWN: 'a reading or shipment names a device that is not registered before it',
  ERR_FSCK_DEVICE_REREGISTERED: 'a device is registered twice',
  ERR_FSCK_DEVICE_REVOKED: 'a reading was logged after its device was revoked, or a device is revoked twice',
  ERR_FSCK_READING_SIGNATURE: 'a reading signature does not verify under the key its device registered',
  ERR_FSCK_READING_DUPLICATE: 'the same signed reading is logged twice',
  ERR_FSCK_CHAIN_FORK: 'two different readings of one device carry the same sequence number',
  ERR_FSCK_CHAIN_LINK: 'a reading\'s prevHash is not the hash of its device\'s previous reading',
  ERR_FSCK_CHAIN_ORDER: 'a reading is not the seq right above its device\'s chain head (readings are logged in seq order; a skipped range needs a gap entry)',
  ERR_FSCK_GAP: 'a gap entry does not start right above its device\'s chain head, or is not followed by the held reading right above it',
  ERR_FSCK_FORK: 'a reading.fork entry holds a payload whose signature does not verify under its device\'s key',
  ERR_FSCK_SHIPMENT: 'a shipment entry refers to a shipment that does not exist, exists already or is closed',
  ERR_FSCK_CHECKPOINT_SIGNATURE: 'a checkpoint note does not verify under the ledger key',
  ERR_FSCK_CHECKPOINT_ORIGIN: 'a checkpoint is for another log origin',
  ERR_FSCK_CHECKPOINT_SIZE: 'a checkpoint commits to more entries than the log holds (entries were removed)',
  ERR_FSCK_ROOT_MISMATCH: 'the Merkle root recomputed from the entries differs from the signed checkpoint root',
  ERR_FSCK_NO_CHECKPOINT: 'the log has entries but no signed checkpoint to check them against',
  ERR_FSCK_BAD_KEY: 'the ledger public key or origin given to the checker is unusable',
  ERR_FSCK_DB_MISSING: 'the database, its CURRENT file or a file it names is missing where a ledger existed',
  ERR_FSCK_DB_DAMAGED: 'a database file fails its own CRC-32C check, or LevelDB cannot open or iterate the database',
  ERR_FSCK_ANCHOR_DAMAGED: 'checkpoints.log has a damaged record or its latest checkpoint does not verify',
  ERR_FSCK_ANCHOR_MISSING: 'checkpoints.log is missing or lost records: the log holds a checkpoint entry the file does not reach',
  ERR_FSCK_BEHIND_ANCHOR: 'the log holds fewer entries than the latest checkpoint in checkpoints.log (acknowledged entries were lost)',
  ERR_FSCK_ANCHOR_MISMATCH: 'the root recomputed at the size of the latest checkpoint in checkpoints.log differs from its signed root',
  ERR_FSCK_DERIVED_NODE: 'a stored Merkle node is missing, extra, or differs from the hash the entries give',
  ERR_FSCK_DERIVED_INDEX: 'an index key (t!, r!, rt!, rs!) is missing, extra, or points at the wrong entry',
  ERR_FSCK_DERIVED_STATE: 'the stored device, shipment or tree state, counters or latest checkpoint differ from what the entries give',
  ERR_FSCK_STORE_READ: 'LevelDB reported an error (corruption) while the store was read',
} as const
export type FsckErrorCode = keyof typeof FSCK_ERROR_CODES

export interface FsckFailure {
  code: FsckErrorCode
  /** The first bad entry, when one entry is to blame. */
  index?: number
  message: string
  details: Record<string, unknown>
}

export interface FsckReport {
  ok: boolean
  /** Entries read. */
  size: number
  /** The first failure (lowest index), when !ok. */
  failure?: FsckFailure
  readings: number
  devices: number
  /** Checkpoint entries in the log whose signature and root were checked. */
  checkpointEntries: number
  /** The latest signed checkpoint, when it verified. */
  checkpoint?: { size: number; rootHash: string }
  /** Derived keys (Merkle nodes, indexes, state) recomputed and compared, when the reader gives a store snapshot. */
  derivedKeys?: number
  /** The latest checkpoint of checkpoints.log, when the reader has one and the log reaches it. */
  anchor?: { size: number; rootHash: string }
  /** Entries after the latest checkpoint: intact links, but not yet committed to by a signature. */
  uncovered: number
  /** Sequence ranges declared lost by gap entries (the only ranges a device chain may skip). */
  gaps: { deviceId: string; from: number; to: number; cause: string; index: number }[]
  /** reading.fork entries: devices proven to have signed two histories. */
  forks: { deviceId: string; seq: number; index: number }[]
  /** The root recomputed over all entries (base64). */
  rootHash: string
}

/** Thrown by `assertLedger`; `checkLedger` returns the same as a report. */
export class FsckError extends Error {
  readonly code: FsckErrorCode
  readonly index?: number
  readonly details: Readonly<Record<string, unknown>>
  constructor(f: FsckFailure) {
    super(f.message)
    this.name = 'FsckError'
    this.code = f.code
    this.index = f.index
    this.details = f.details
  }
}

export interface CheckLedgerOptions {
  /** The ledger's verifier key string ("name+keyid+base64"), or its raw 32-byte Ed25519 public key with `origin`. */
  ledgerPublicKey: string | Uint8Array
  /** The checkpoint origin (defaults to the verifier key's name). */
  origin?: string
  /** Called after each entry and at the end; cheap. */
  onProgress?: (done: number, total: number) => void
  /** Reading-signature engine; Node's crypto by default. (message, signature, publicKey) */
  verifyReading?: SignatureVerifier
  /** Checkpoint-note engine; Node's crypto by default. */
  verifyNoteSignature?: SignatureVerifier
}


function nodeVerifier(): SignatureVerifier {
  return cachedEd25519Verifier()
}

class Stop extends Error {
  constructor(readonly failure: FsckFailure) { super(failure.message) }
}
const stop = (code: FsckErrorCode, index: number | undefined, message: string, details: Record<string, unknown> = {}): never => {
  throw new Stop({ code, index, message: index === undefined ? message : `entry ${index}: ${message}`, details })
}

interface DeviceState { publicKey: Uint8Array; registeredAt: number; revokedAt?: number }
interface ReadingRef { index: number; hash: Uint8Array }
/** A device chain as read so far: its head, and whether the head is the end of a declared gap (no hash to link to). */
interface ChainState { refs: Map<number, ReadingRef>; head: number; headHash: Uint8Array; afterGap: boolean }

/** Packed leaf hashes, 32 bytes each: enough to recompute the root at any earlier size. */
class Leaves {
  private buf = new Uint8Array(32 * 1024)
  length = 0
  push(h: Uint8Array) {
    if ((this.length + 1) * 32 > this.buf.length) { const b = new Uint8Array(this.buf.length * 2); b.set(this.buf); this.buf = b }
    this.buf.set(h, this.length * 32); this.length++
  }
  readonly reader: NodeReader = async (level, index) => {
    const hashAt = (l: number, i: number): Uint8Array => l === 0 ? this.buf.subarray(i * 32, i * 32 + 32) : nodeHash(hashAt(l - 1, 2 * i), hashAt(l - 1, 2 * i + 1))
    return hashAt(level, index)
  }
}

/**
 * Checks a whole ledger. Never throws for a bad ledger: the report says
 * whether it verifies and, if not, the first bad index and what is wrong.
 */
export async function checkLedger(reader: LedgerReader, opts: CheckLedgerOptions): Promise<FsckReport> {
  const verifyReading = opts.verifyReading ?? nodeVerifier()
  const verifyNoteSig = opts.verifyNoteSignature ?? nodeVerifier()
  const report: FsckReport = { ok: false, size: 0, readings: 0, devices: 0, checkpointEntries: 0, uncovered: 0, gaps: [], forks: [], rootHash: toBase64(EMPTY_ROOT) }
  const devices = new Map<string, DeviceState>()
  const chains = new Map<string, ChainState>()
  /** A gap entry's held reading, which must be the very next entry. */
  let owedAfterGap: { deviceId: string; seq: number; index: number } | undefined
  const shipments = new Map<string, { closed: boolean; received?: boolean; startAt: number; loggers: LoggerWindow[] }>()
  const leaves = new Leaves()
  let frontier: Uint8Array[] = []
  try {
    let vkey: string, origin: string
    try {
      if (typeof opts.ledgerPublicKey === 'string') {
        vkey = opts.ledgerPublicKey.trim()
        origin = opts.origin ?? parseVerifierKey(vkey).name
      } else {
        if (!opts.origin) throw new Error('an origin is needed with a raw public key')
        vkey = verifierKey(opts.origin, opts.ledgerPublicKey)
        origin = opts.origin
      }
      parseVerifierKey(vkey)
    } catch (e) {
      return stop('ERR_FSCK_BAD_KEY', undefined, `ledger key: ${(e as Error).message}`)
    }

    const checkpointNote = async (note: string, index: number | undefined): Promise<Checkpoint> => {
      try {
        return await verifyCheckpoint(note, vkey, { origin, verify: verifyNoteSig })
      } catch (e) {
        if (e instanceof CheckpointError && e.code === 'ERR_CHECKPOINT_ORIGIN') return stop('ERR_FSCK_CHECKPOINT_ORIGIN', index, e.message, { ...e.details })
        if (e instanceof NoteError || e instanceof CheckpointError) return stop('ERR_FSCK_CHECKPOINT_SIGNATURE', index, `checkpoint does not verify under ${vkey}: ${e.message}`, { noteCode: e.code })
        throw e
      }
    }
    const rootOfPrefix = async (size: number): Promise<Uint8Array> => size === leaves.length ? rootFromFrontier(frontier) : rootAt(size, leaves.reader)
    const checkRoot = async (c: Checkpoint, index: number | undefined, what: string) => {
      if (c.size > leaves.length) return stop('ERR_FSCK_CHECKPOINT_SIZE', index, `${what} commits to ${c.size} entries, but only ${leaves.length} precede it`, { checkpointSize: c.size, size: leaves.length })
      const root = await rootOfPrefix(c.size)
      if (!equalBytes(root, c.rootHash)) {
        return stop('ERR_FSCK_ROOT_MISMATCH', index, `${what} signs root ${toBase64(c.rootHash)} for size ${c.size}, but the entries hash to ${toBase64(root)}`, { size: c.size, expected: toBase64(c.rootHash), calculated: toBase64(root) })
      }
    }

    const storage = await reader.storageProblem?.()
    if (storage) stop(storage.code, undefined, storage.message, storage.files ? { files: storage.files } : {})
    let size = 0
    try { size = await reader.size() } catch (e) { stop('ERR_FSCK_READ', undefined, `cannot read the log size: ${(e as Error).message}`) }
    report.size = size
    let prev = GENESIS_PREV
    for (let i = 0; i < size; i++) {
      let bytes: Uint8Array
      try { bytes = await reader.entryBytes(i) } catch (e) { return stop('ERR_FSCK_READ', i, `cannot read: ${(e as Error).message}`) }
      const leaf = leafHash(bytes)
      if (reader.storedLeafHash) {
        let stored: Uint8Array | undefined
        try { stored = await reader.storedLeafHash(i) } catch (e) { stop('ERR_FSCK_READ', i, `cannot read its stored leaf hash: ${(e as Error).message}`) }
        if (stored && !equalBytes(stored, leaf)) stop('ERR_FSCK_ENTRY_CHANGED', i, `the bytes hash to leaf ${toHex(leaf)}, but the store recorded ${toHex(stored)} when it wrote them`, { expected: toHex(stored), calculated: toHex(leaf) })
      }
      let entry: Entry
      try { entry = decodeEntry(bytes) } catch (e) {
        if (!(e instanceof EntryError)) throw e
        return stop('ERR_FSCK_ENTRY_MALFORMED', i, e.message, { entryCode: e.code, field: e.field })
      }
      if (entry.index !== i) stop('ERR_FSCK_INDEX', i, `carries index ${entry.index}`, { expected: i, actual: entry.index })
      if (entry.prev !== prev) {
        // The link i-1 -> i is broken: entry i-1 was changed (its hash moved) or entry i's prev was.
        stop('ERR_FSCK_PREV_LINK', i, `prev is ${entry.prev}, but entry ${i - 1 < 0 ? '(genesis)' : i - 1} hashes to ${prev}: ${i === 0 ? 'entry 0 must have the genesis prev' : `entry ${i - 1} or this prev was changed`}`, { expected: prev, actual: entry.prev })
      }
      if (owedAfterGap) {
        const b = entry.type === 'reading' ? (entry as Entry<'reading'>).body : undefined
        if (!b || b.deviceId !== owedAfterGap.deviceId || b.seq !== owedAfterGap.seq) stop('ERR_FSCK_GAP', i, `the gap entry ${owedAfterGap.index} must be followed by the held reading ${owedAfterGap.deviceId}#${owedAfterGap.seq} it chains, found ${entry.type}`, { ...owedAfterGap })
        owedAfterGap = undefined
      }
      await checkEntry(entry, i)
      leaves.push(leaf)
      frontier = appendLeaf(frontier, i, leaf).frontier
      prev = entryHash(bytes)
      opts.onProgress?.(i + 1, size)
    }
    report.rootHash = toBase64(rootFromFrontier(frontier))

    if (owedAfterGap) stop('ERR_FSCK_GAP', owedAfterGap.index, `the gap entry is the last entry: the held reading ${owedAfterGap.deviceId}#${owedAfterGap.seq} chained with it is missing`, { ...owedAfterGap })

    let note: string | undefined
    try { note = await reader.latestCheckpoint() } catch (e) { stop('ERR_FSCK_READ', undefined, `cannot read the latest checkpoint: ${(e as Error).message}`) }
    if (note === undefined) {
      // No checkpoint entry yet (one is logged every 10 s): the anchor's checkpoint, checked below, may sign the log instead.
      const anchored = await reader.anchorCheckpoint?.().catch(() => undefined)
      if (size > 0 && anchored === undefined) stop('ERR_FSCK_NO_CHECKPOINT', undefined, `the log has ${size} entries but no signed checkpoint: its root cannot be checked against the ledger's signature`)
    } else {
      const c = await checkpointNote(note, undefined)
      await checkRoot(c, undefined, 'the latest checkpoint')
      report.checkpoint = { size: c.size, rootHash: toBase64(c.rootHash) }
      report.uncovered = size - c.size
    }
    await checkAnchor()
    if (reader.storeSnapshot) {
      const d = await checkDerived(reader.storeSnapshot())
      if (d.failure) stop(d.failure.code, d.failure.index, d.failure.message, d.failure.key !== undefined ? { key: d.failure.key } : {})
      report.derivedKeys = d.keys
    }
    report.ok = true
    opts.onProgress?.(size, size)
    return report

    /** The store must reach the latest checkpoint of the anchor file with the same root. */
    async function checkAnchor(): Promise<void> {
      let note: string | undefined
      try { note = await reader.anchorCheckpoint?.() } catch (e) { return stop('ERR_FSCK_ANCHOR_DAMAGED', undefined, `checkpoints.log: ${(e as Error).message}`) }
      // Every checkpoint is appended to checkpoints.log before it is logged as an entry: the file reaches the latest one.
      const logged = report.checkpoint?.size
      if (reader.anchorCheckpoint && logged !== undefined && note === undefined) {
        return stop('ERR_FSCK_ANCHOR_MISSING', undefined, `checkpoints.log is missing or empty, but the log holds a checkpoint entry of size ${logged}: the anchor outside the database was lost`, { loggedSize: logged })
      }
      if (note === undefined) return
      let c: Checkpoint
      try { c = await verifyCheckpoint(note, vkey, { origin, verify: verifyNoteSig }) } catch (e) {
        return stop('ERR_FSCK_ANCHOR_DAMAGED', undefined, `the latest checkpoint in checkpoints.log does not verify: ${(e as Error).message}`)
      }
      if (logged !== undefined && c.size < logged) {
        return stop('ERR_FSCK_ANCHOR_MISSING', undefined, `checkpoints.log ends at a checkpoint of size ${c.size}, but the log holds a checkpoint entry of size ${logged}: records of checkpoints.log were lost`, { anchorSize: c.size, loggedSize: logged })
      }
      if (c.size > leaves.length) {
        return stop('ERR_FSCK_BEHIND_ANCHOR', leaves.length, `the log holds ${leaves.length} entries, but the latest checkpoint in checkpoints.log signs ${c.size}: entries ${leaves.length}..${c.size - 1} were lost from the database`, { size: leaves.length, anchorSize: c.size })
      }
      const root = await rootOfPrefix(c.size)
      if (!equalBytes(root, c.rootHash)) {
        return stop('ERR_FSCK_ANCHOR_MISMATCH', undefined, `at size ${c.size} the entries hash to ${toBase64(root)}, but checkpoints.log signs ${toBase64(c.rootHash)}`, { size: c.size, expected: toBase64(c.rootHash), calculated: toBase64(root) })
      }
      report.anchor = { size: c.size, rootHash: toBase64(c.rootHash) }
    }

    function chainOf(deviceId: string): ChainState {
      let c = chains.get(deviceId)
      if (!c) chains.set(deviceId, c = { refs: new Map(), head: 0, headHash: GENESIS_PREV_HASH, afterGap: false })
      return c
    }

    async function checkEntry(entry: Entry, i: number): Promise<void> {
      switch (entry.type) {
        case 'device.register': {
          const b = (entry as Entry<'device.register'>).body
          if (devices.has(b.deviceId)) stop('ERR_FSCK_DEVICE_REREGISTERED', i, `device ${b.deviceId} was registered already at entry ${devices.get(b.deviceId)!.registeredAt}`, { deviceId: b.deviceId })
          devices.set(b.deviceId, { publicKey: fromHex(b.publicKey), registeredAt: i })
          report.devices++
          return
        }
        case 'device.revoke': {
          const b = (entry as Entry<'device.revoke'>).body
          const d = devices.get(b.deviceId)
          if (!d) stop('ERR_FSCK_DEVICE_UNKNOWN', i, `revokes ${b.deviceId}, which is not registered`, { deviceId: b.deviceId })
          if (d!.revokedAt !== undefined) stop('ERR_FSCK_DEVICE_REVOKED', i, `revokes ${b.deviceId}, already revoked at entry ${d!.revokedAt}`, { deviceId: b.deviceId })
          d!.revokedAt = i
          return
        }
        case 'reading': {
          const e = entry as Entry<'reading'>
          const r = readingOfEntry(e)
          const { deviceId, seq } = r.fields
          const d = devices.get(deviceId)
          if (!d) stop('ERR_FSCK_DEVICE_UNKNOWN', i, `reading of ${deviceId}, which is not registered before it`, { deviceId, seq })
          if (d!.revokedAt !== undefined) stop('ERR_FSCK_DEVICE_REVOKED', i, `reading of ${deviceId}#${seq} logged after the device was revoked at entry ${d!.revokedAt}`, { deviceId, seq, revokedAt: d!.revokedAt })
          if (!(await verifyReading(r.signature, readingSigningMessage(r.record), d!.publicKey))) {
            stop('ERR_FSCK_READING_SIGNATURE', i, `the signature of ${deviceId}#${seq} does not verify under the key registered at entry ${d!.registeredAt}`, { deviceId, seq, publicKey: toHex(d!.publicKey) })
          }
          const chain = chainOf(deviceId)
          const hash = readingHash(r.payload)
          const seen = chain.refs.get(seq)
          if (seen) {
            if (equalBytes(seen.hash, hash)) stop('ERR_FSCK_READING_DUPLICATE', i, `${deviceId}#${seq} is logged again (first at entry ${seen.index})`, { deviceId, seq, first: seen.index })
            stop('ERR_FSCK_CHAIN_FORK', i, `${deviceId}#${seq} differs from the reading with the same sequence at entry ${seen.index}`, { deviceId, seq, first: seen.index, firstHash: toHex(seen.hash), hash: toHex(hash) })
          }
          if (seq !== chain.head + 1) stop('ERR_FSCK_CHAIN_ORDER', i, `${deviceId}#${seq} is logged while the chain head is ${chain.head}: readings follow each other in seq order, and a skipped range needs a gap entry`, { deviceId, seq, head: chain.head })
          if (!chain.afterGap && !equalBytes(chain.headHash, r.fields.prevHash)) {
            const prior = chain.refs.get(seq - 1)
            stop('ERR_FSCK_CHAIN_LINK', i, `reading ${deviceId}#${seq} has prevHash ${toHex(r.fields.prevHash)}, but ${seq === 1 ? 'a first reading must have 32 zero bytes' : `${deviceId}#${seq - 1} (entry ${prior?.index}) hashes to ${toHex(chain.headHash)}`}`, { deviceId, seq, expected: toHex(chain.headHash), actual: toHex(r.fields.prevHash) })
          }
          chain.refs.set(seq, { index: i, hash })
          chain.head = seq; chain.headHash = hash; chain.afterGap = false
          report.readings++
          return
        }
        case 'shipment.create': {
          const b = (entry as Entry<'shipment.create'>).body
          if (shipments.has(b.shipmentId)) stop('ERR_FSCK_SHIPMENT', i, `shipment ${b.shipmentId} is created twice`, { shipmentId: b.shipmentId })
          for (const id of b.devices) if (!devices.has(id)) stop('ERR_FSCK_DEVICE_UNKNOWN', i, `shipment ${b.shipmentId} lists ${id}, which is not registered before it`, { shipmentId: b.shipmentId, deviceId: id })
          shipments.set(b.shipmentId, { closed: false, startAt: b.startAt, loggers: initialWindows(b) })
          return
        }
        case 'shipment.close': {
          const b = (entry as Entry<'shipment.close'>).body
          const s = shipments.get(b.shipmentId)
          if (!s || s.closed) stop('ERR_FSCK_SHIPMENT', i, `closes shipment ${b.shipmentId}, which ${s ? 'is closed already' : 'does not exist'}`, { shipmentId: b.shipmentId })
          s!.closed = true
          return
        }
        case 'shipment.devices': {
          const b = (entry as Entry<'shipment.devices'>).body
          const s = shipments.get(b.shipmentId)
          if (!s || s.closed) stop('ERR_FSCK_SHIPMENT', i, `changes the loggers of shipment ${b.shipmentId}, which ${s ? 'is closed already' : 'does not exist'}`, { shipmentId: b.shipmentId })
          for (const id of b.add) if (!devices.has(id)) stop('ERR_FSCK_DEVICE_UNKNOWN', i, `shipment ${b.shipmentId} is assigned ${id}, which is not registered before it`, { shipmentId: b.shipmentId, deviceId: id })
          // The ledger's own assignment rule (ledger/tlog/logger-windows.ts), replayed.
          const problem = changeProblem(s!.loggers, b, s!.startAt)
          if (problem) stop('ERR_FSCK_SHIPMENT', i, `changes the loggers of shipment ${b.shipmentId} against the rule: ${problem.message}`, { shipmentId: b.shipmentId })
          s!.loggers = applyChange(s!.loggers, { index: i, body: b })
          return
        }
        case 'shipment.receive': {
          const b = (entry as Entry<'shipment.receive'>).body
          const s = shipments.get(b.shipmentId)
          if (!s || s.closed || s.received) stop('ERR_FSCK_SHIPMENT', i, `receives shipment ${b.shipmentId}, which ${!s ? 'does not exist' : s.closed ? 'is closed already' : 'was received already'}`, { shipmentId: b.shipmentId })
          s!.received = true
          return
        }
        case 'alarm.ack': {
          const b = (entry as Entry<'alarm.ack'>).body
          if (!shipments.has(b.shipmentId)) stop('ERR_FSCK_SHIPMENT', i, `acknowledges an alarm of shipment ${b.shipmentId}, which does not exist`, { shipmentId: b.shipmentId })
          return
        }
        case 'gap': {
          const b = (entry as Entry<'gap'>).body
          const d = devices.get(b.deviceId)
          if (!d) stop('ERR_FSCK_DEVICE_UNKNOWN', i, `gap entry for ${b.deviceId}, which is not registered before it`, { deviceId: b.deviceId })
          if (d!.revokedAt !== undefined) stop('ERR_FSCK_DEVICE_REVOKED', i, `gap entry for ${b.deviceId} logged after the device was revoked at entry ${d!.revokedAt}`, { deviceId: b.deviceId })
          const chain = chainOf(b.deviceId)
          if (b.fromSeq !== chain.head + 1) stop('ERR_FSCK_GAP', i, `declares ${b.deviceId} #${b.fromSeq}..${b.toSeq} lost, but the chain head is ${chain.head}: a gap starts right above it`, { deviceId: b.deviceId, fromSeq: b.fromSeq, head: chain.head })
          chain.head = b.toSeq; chain.afterGap = true
          owedAfterGap = { deviceId: b.deviceId, seq: b.toSeq + 1, index: i }
          report.gaps.push({ deviceId: b.deviceId, from: b.fromSeq, to: b.toSeq, cause: b.cause, index: i })
          return
        }
        case 'reading.fork': {
          const b = (entry as Entry<'reading.fork'>).body
          const d = devices.get(b.deviceId)
          if (!d) stop('ERR_FSCK_DEVICE_UNKNOWN', i, `reading.fork entry for ${b.deviceId}, which is not registered before it`, { deviceId: b.deviceId })
          // Evidence against a device must be its own signatures: a fork entry cannot be made up.
          for (const [k, payload] of b.payloads.entries()) {
            const r = decodeReading(fromBase64(payload))
            if (!(await verifyReading(r.signature, readingSigningMessage(r.record), d!.publicKey))) {
              stop('ERR_FSCK_FORK', i, `payload ${k} of the fork of ${b.deviceId}#${b.seq} does not verify under the key registered at entry ${d!.registeredAt}`, { deviceId: b.deviceId, seq: b.seq, payload: k })
            }
          }
          report.forks.push({ deviceId: b.deviceId, seq: b.seq, index: i })
          return
        }
        case 'checkpoint': {
          const b = (entry as Entry<'checkpoint'>).body
          const c = await checkpointNote(b.note, i)
          await checkRoot(c, i, 'this checkpoint entry')
          report.checkpointEntries++
          return
        }
      }
    }
  } catch (e) {
    if (!(e instanceof Stop)) throw e
    report.ok = false
    report.failure = e.failure
    return report
  }
}

/** checkLedger, throwing FsckError on the first failure. */
export async function assertLedger(reader: LedgerReader, opts: CheckLedgerOptions): Promise<FsckReport> {
  const r = await checkLedger(reader, opts)
  if (!r.ok) throw new FsckError(r.failure!)
  return r
}

/** A reader over entry bytes held in memory (tests, evidence bundles). */
export function memoryLedgerReader(entries: Uint8Array[], checkpoint?: string): LedgerReader {
  return {
    size: async () => entries.length,
    entryBytes: async (i) => {
      if (!Number.isInteger(i) || i < 0 || i >= entries.length) throw new RangeError(`no entry ${i}`)
      return entries[i]
    },
    latestCheckpoint: async () => checkpoint,
  }
}
