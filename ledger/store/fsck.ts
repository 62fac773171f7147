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
 *
 * checkLedger reads the entries (readEntry) and hands them to its parts:
 * fsck-entry-rules (the entry rules replayed), fsck-tree (the rebuilt Merkle
 * tree), fsck-checkpoints (ledger key, checkpoints, anchor), fsck-derived.
 */
import { cachedEd25519Verifier } from '../node-crypto/index.ts'
import { decodeEntry, entryHash, EntryError, GENESIS_PREV } from '../tlog/index.ts'
import type { Entry } from '../tlog/index.ts'
import { CheckpointChecks, ledgerKeyOf } from './fsck-checkpoints.ts'
import { checkDerived } from './fsck-derived.ts'
import { EntryRules } from './fsck-entry-rules.ts'
import { Stop, stop } from './fsck-stop.ts'
import { RebuiltTree } from './fsck-tree.ts'
import { EMPTY_ROOT, leafHash } from '../tlog/index.ts'
import type { SignatureVerifier } from '../tlog/index.ts'
import { equalBytes, toBase64, toHex } from '../protocol/index.ts'

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

export interface StorageProblem {
  code: 'ERR_FSCK_DB_MISSING' | 'ERR_FSCK_DB_DAMAGED'
  message: string
  files?: string[]
}

export const FSCK_ERROR_CODES = {
  ERR_FSCK_READ: 'an entry could not be read from the store',
  ERR_FSCK_ENTRY_MALFORMED: 'an entry does not decode (the entry codec code and field are in details)',
  ERR_FSCK_ENTRY_CHANGED: 'an entry no longer hashes to the leaf hash stored when it was written',
  ERR_FSCK_INDEX: 'an entry carries another index than its position in the log',
  ERR_FSCK_PREV_LINK: "an entry's prev is not the SHA-256 of the entry before it",
  ERR_FSCK_DEVICE_UNKNOWN: 'a reading or shipment names a device that is not registered before it',
  ERR_FSCK_DEVICE_REREGISTERED: 'a device is registered twice',
  ERR_FSCK_DEVICE_REVOKED: 'a reading was logged after its device was revoked, or a device is revoked twice',
  ERR_FSCK_READING_SIGNATURE: 'a reading signature does not verify under the key its device registered',
  ERR_FSCK_READING_DUPLICATE: 'the same signed reading is logged twice',
  ERR_FSCK_CHAIN_FORK: 'two different readings of one device carry the same sequence number',
  ERR_FSCK_CHAIN_LINK: "a reading's prevHash is not the hash of its device's previous reading",
  ERR_FSCK_CHAIN_ORDER:
    "a reading is not the seq right above its device's chain head (readings are logged in seq order; a skipped range needs a gap entry)",
  ERR_FSCK_GAP:
    "a gap entry does not start right above its device's chain head, or is not followed by the held reading right above it",
  ERR_FSCK_FORK: "a reading.fork entry holds a payload whose signature does not verify under its device's key",
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
  ERR_FSCK_ANCHOR_MISSING:
    'checkpoints.log is missing or lost records: the log holds a checkpoint entry the file does not reach',
  ERR_FSCK_BEHIND_ANCHOR:
    'the log holds fewer entries than the latest checkpoint in checkpoints.log (acknowledged entries were lost)',
  ERR_FSCK_ANCHOR_MISMATCH:
    'the root recomputed at the size of the latest checkpoint in checkpoints.log differs from its signed root',
  ERR_FSCK_DERIVED_NODE: 'a stored Merkle node is missing, extra, or differs from the hash the entries give',
  ERR_FSCK_DERIVED_INDEX: 'an index key (t!, r!, rt!, rs!) is missing, extra, or points at the wrong entry',
  ERR_FSCK_DERIVED_STATE:
    'the stored device, shipment or tree state, counters or latest checkpoint differ from what the entries give',
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

/**
 * Checks a whole ledger. Never throws for a bad ledger: the report says
 * whether it verifies and, if not, the first bad index and what is wrong.
 */
export async function checkLedger(reader: LedgerReader, opts: CheckLedgerOptions): Promise<FsckReport> {
  const verifyReading = opts.verifyReading ?? cachedEd25519Verifier()
  const verifyNoteSig = opts.verifyNoteSignature ?? cachedEd25519Verifier()
  const report: FsckReport = {
    ok: false,
    size: 0,
    readings: 0,
    devices: 0,
    checkpointEntries: 0,
    uncovered: 0,
    gaps: [],
    forks: [],
    rootHash: toBase64(EMPTY_ROOT),
  }
  try {
    const tree = new RebuiltTree()
    const checkpoints = new CheckpointChecks(ledgerKeyOf(opts), verifyNoteSig, tree)
    const rules = new EntryRules(report, verifyReading, (note, i) => checkpoints.checkEntry(note, i))
    const storage = await reader.storageProblem?.()
    if (storage) stop(storage.code, undefined, storage.message, storage.files ? { files: storage.files } : {})
    let size = 0
    try {
      size = await reader.size()
    } catch (e) {
      stop('ERR_FSCK_READ', undefined, `cannot read the log size: ${(e as Error).message}`)
    }
    report.size = size
    let prev = GENESIS_PREV
    for (let i = 0; i < size; i++) {
      const { bytes, leaf, entry } = await readEntry(reader, i, prev)
      await rules.check(entry, i)
      tree.append(leaf)
      prev = entryHash(bytes)
      opts.onProgress?.(i + 1, size)
    }
    report.rootHash = toBase64(tree.root())
    rules.finish()
    await checkpoints.checkLatest(reader, report)
    await checkpoints.checkAnchor(reader, report)
    if (reader.storeSnapshot) {
      const d = await checkDerived(reader.storeSnapshot())
      if (d.failure)
        stop(
          d.failure.code,
          d.failure.index,
          d.failure.message,
          d.failure.key !== undefined ? { key: d.failure.key } : {},
        )
      report.derivedKeys = d.keys
    }
    report.ok = true
    opts.onProgress?.(size, size)
    return report
  } catch (e) {
    if (!(e instanceof Stop)) throw e
    report.ok = false
    report.failure = e.failure
    return report
  }
}

/** Entry i's bytes, leaf hash and decoded entry, once its stored leaf hash, index and link to `prev` (entry i-1's hash) hold. */
async function readEntry(
  reader: LedgerReader,
  i: number,
  prev: string,
): Promise<{ bytes: Uint8Array; leaf: Uint8Array; entry: Entry }> {
  let bytes: Uint8Array
  try {
    bytes = await reader.entryBytes(i)
  } catch (e) {
    return stop('ERR_FSCK_READ', i, `cannot read: ${(e as Error).message}`)
  }
  const leaf = leafHash(bytes)
  if (reader.storedLeafHash) {
    let stored: Uint8Array | undefined
    try {
      stored = await reader.storedLeafHash(i)
    } catch (e) {
      stop('ERR_FSCK_READ', i, `cannot read its stored leaf hash: ${(e as Error).message}`)
    }
    if (stored && !equalBytes(stored, leaf))
      stop(
        'ERR_FSCK_ENTRY_CHANGED',
        i,
        `the bytes hash to leaf ${toHex(leaf)}, but the store recorded ${toHex(stored)} when it wrote them`,
        { expected: toHex(stored), calculated: toHex(leaf) },
      )
  }
  let entry: Entry
  try {
    entry = decodeEntry(bytes)
  } catch (e) {
    if (!(e instanceof EntryError)) throw e
    return stop('ERR_FSCK_ENTRY_MALFORMED', i, e.message, { entryCode: e.code, field: e.field })
  }
  if (entry.index !== i) stop('ERR_FSCK_INDEX', i, `carries index ${entry.index}`, { expected: i, actual: entry.index })
  if (entry.prev !== prev) {
    // The link i-1 -> i is broken: entry i-1 was changed (its hash moved) or entry i's prev was.
    stop(
      'ERR_FSCK_PREV_LINK',
      i,
      `prev is ${entry.prev}, but entry ${i - 1 < 0 ? '(genesis)' : i - 1} hashes to ${prev}: ${i === 0 ? 'entry 0 must have the genesis prev' : `entry ${i - 1} or this prev was changed`}`,
      { expected: prev, actual: entry.prev },
    )
  }
  return { bytes, leaf, entry }
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
