/**
 * The root log of the cluster mode (docs/SCALING.md, "The root log"): one
 * Merkle log whose leaves are the signed checkpoints of the partition logs,
 * so one signed root checkpoint commits to every partition at once.
 *
 *   <dir>/ledger.key, ledger.vkey   the root signing key (origin "<origin>")
 *   <dir>/partitions.log            one leaf per line: {"p":k,"note":"<signed partition checkpoint>"}
 *   <dir>/checkpoints.log           every signed root checkpoint, fsynced (ledger/store/anchor-log.ts)
 *
 * A leaf is the line's UTF-8 bytes without its newline; leaf and node hashes
 * are RFC 6962's (ledger/tlog/merkle.ts). Partition checkpoints of one log only
 * grow, and every one is a prefix of the next, so recording a partition's
 * newest checkpoint at each root tick commits to every earlier one too (a
 * consistency proof of the partition log links them).
 *
 * The leaf hashes are kept in memory (32 bytes per recorded checkpoint, at
 * most one per partition per tick: ~2.7 MB a day per partition at one tick a
 * second).
 */
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { formatCheckpoint, verifyCheckpoint } from '../tlog/index.ts'
import { signNote } from '../tlog/index.ts'
import { leafHash, nodeReaderFromLeaves, inclusionProof, rootFromLeaves, verifyInclusion } from '../tlog/index.ts'
import { AnchorWriter, ANCHOR_FILE, readAnchors, syncDir } from '../store/index.ts'
import { parseAnchorRecords } from '../tlog/index.ts'
import { loadOrCreateLedgerKey, readVerifierKey } from '../store/index.ts'
import { LedgerError } from '../store/index.ts'
import { toBase64 } from '../protocol/index.ts'
import { rootLeafBytes, type RootLeaf } from '../tlog/index.ts'

export const ROOT_LEAVES_FILE = 'partitions.log'

export type { RootLeaf } from '../tlog/index.ts'
export { rootLeafBytes } from '../tlog/index.ts'

export interface RootCheckpoint {
  note: string
  size: number
  rootHash: string
}

/** What an evidence bundle needs of a root log: its leaves, its signed checkpoints, proofs (live or read offline). */
export interface RootView {
  readonly origin: string
  readonly verifierKey: string
  /** Leaves recorded so far, in order. */
  leaves(): readonly RootLeaf[]
  /** Every signed root checkpoint note of checkpoints.log, oldest first. */
  checkpoints(): Promise<string[]>
  inclusionProof(index: number, size: number): Promise<Uint8Array[]>
}

export interface RootLog extends RootView {
  /** Appends a partition checkpoint and fsyncs; resolves once durable. */
  record(p: number, note: string): Promise<void>
  /** Signs a root checkpoint over every durable leaf (if any was added since the last) and fsyncs it to checkpoints.log. */
  sign(): Promise<RootCheckpoint | undefined>
  latest(): RootCheckpoint | undefined
  close(): Promise<void>
}

const leafBytes = rootLeafBytes

/** The signed notes of a root log's checkpoints.log, oldest first (a torn last record is left out). */
async function checkpointNotes(dir: string): Promise<string[]> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(join(dir, ANCHOR_FILE))
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw e
  }
  const parsed = parseAnchorRecords(bytes)
  if (parsed.damagedAt !== undefined)
    throw damaged(join(dir, ANCHOR_FILE), `the record at byte ${parsed.damagedAt} is damaged`)
  return parsed.records.map((r) => r.note)
}

/** Parses partitions.log text: complete lines only (a torn last line is a crash mid-append). */
function parseLeaves(path: string, text: string): RootLeaf[] {
  const complete = text.lastIndexOf('\n') + 1
  const leaves: RootLeaf[] = []
  for (const line of text.slice(0, complete).split('\n').slice(0, -1)) {
    let l: RootLeaf
    try {
      l = JSON.parse(line) as RootLeaf
    } catch {
      throw damaged(path, `line ${leaves.length + 1} is not JSON`)
    }
    if (!Number.isInteger(l.p) || typeof l.note !== 'string')
      throw damaged(path, `line ${leaves.length + 1} is not {"p":partition,"note":checkpoint}`)
    leaves.push({ p: l.p, note: l.note })
  }
  return leaves
}

/**
 * Reads a root log directory without writing to it (`coldproof report` over a cluster data
 * directory): the leaves, the signed checkpoints, proofs. Nothing is truncated or signed.
 */
export async function readRootLog(dir: string): Promise<RootView> {
  const verifierKey = await readVerifierKey(dir)
  const path = join(dir, ROOT_LEAVES_FILE)
  const leaves = parseLeaves(path, await readFile(path, 'utf8'))
  const hashes = leaves.map((l) => leafHash(leafBytes(l)))
  return {
    origin: verifierKey.split('+')[0],
    verifierKey,
    leaves: () => leaves,
    checkpoints: () => checkpointNotes(dir),
    inclusionProof: (index, size) => inclusionProof(index, size, nodeReaderFromLeaves(hashes.slice(0, size))),
  }
}

function damaged(path: string, message: string): LedgerError {
  return new LedgerError(
    'ERR_LEDGER_ANCHOR_DAMAGED',
    `${path}: ${message}; restore the root directory from a backup (docs/OPERATIONS.md, "Recovery")`,
    { path },
  )
}

/** Opens (or creates) a root log directory; a torn last line (a crash mid-append) is cut off. */
export async function openRootLog(opts: { dir: string; origin: string; clock?: () => number }): Promise<RootLog> {
  const { dir, origin } = opts
  await mkdir(dir, { recursive: true })
  const key = await loadOrCreateLedgerKey(dir, origin)
  const path = join(dir, ROOT_LEAVES_FILE)
  let text = ''
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
  const complete = text.lastIndexOf('\n') + 1
  const leaves = parseLeaves(path, text)
  const hashes = leaves.map((l) => leafHash(leafBytes(l)))
  const anchors = await readAnchors(dir, key.verifierKey, { origin: key.name })
  if (anchors.latest) {
    if (anchors.latest.size > leaves.length)
      throw damaged(path, `holds ${leaves.length} leaves, but a signed root checkpoint covers ${anchors.latest.size}`)
    const root = rootFromLeaves(hashes.slice(0, anchors.latest.size))
    if (toBase64(root) !== toBase64(anchors.latest.rootHash))
      throw damaged(path, `its first ${anchors.latest.size} leaves do not hash to the signed root checkpoint`)
  }
  const fh: FileHandle = await open(path, 'a', 0o644)
  if (complete < Buffer.byteLength(text)) {
    await fh.truncate(Buffer.byteLength(text.slice(0, complete)))
    await fh.sync()
  }
  if (!text) {
    await fh.sync()
    await syncDir(dir)
  }
  const anchor = await AnchorWriter.open(dir, anchors)
  let latest: RootCheckpoint | undefined = anchors.latest && {
    note: anchors.latest.note,
    size: anchors.latest.size,
    rootHash: toBase64(anchors.latest.rootHash),
  }
  let queue: Promise<unknown> = Promise.resolve()
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn)
    queue = run.catch(() => undefined)
    return run
  }

  return {
    origin: key.name,
    verifierKey: key.verifierKey,
    leaves: () => leaves,
    record(p, note) {
      return serial(async () => {
        const leaf = { p, note }
        const line = JSON.stringify(leaf) + '\n'
        await fh.write(line)
        await fh.datasync()
        leaves.push(leaf)
        hashes.push(leafHash(leafBytes(leaf)))
      })
    },
    sign() {
      return serial(async () => {
        const size = leaves.length
        if (size === 0 || latest?.size === size) return latest
        const rootHash = rootFromLeaves(hashes.slice(0, size))
        const note = signNote(formatCheckpoint({ origin: key.name, size, rootHash }), key.name, key.sign, key.publicKey)
        await anchor.append(size, note)
        latest = { note, size, rootHash: toBase64(rootHash) }
        return latest
      })
    },
    latest: () => latest,
    checkpoints: () => serial(() => checkpointNotes(dir)),
    inclusionProof: (index, size) => inclusionProof(index, size, nodeReaderFromLeaves(hashes.slice(0, size))),
    async close() {
      await queue
      await fh.close()
      await anchor.close()
    },
  }
}

export interface RootVerification {
  size: number
  /** Per partition: the newest checkpoint the root commits to (size and base64 root). */
  partitions: Map<number, { size: number; rootHash: string; note: string }>
}

/**
 * Checks a root checkpoint against the leaves it claims: its signature under
 * `rootVkey`, the Merkle root of the first `size` leaves, and every leaf's
 * partition checkpoint under that partition's verifier key, each partition's
 * sizes never shrinking. Returns each partition's newest committed checkpoint.
 * Throws LedgerError ERR_LEDGER_CLUSTER_ROOT naming what does not hold.
 */
export async function verifyRootLog(
  rootNote: string,
  rootVkey: string,
  leaves: readonly RootLeaf[],
  partitionVkeys: ReadonlyMap<number, string>,
): Promise<RootVerification> {
  const fail = (message: string, details: Record<string, unknown> = {}): never => {
    throw new LedgerError('ERR_LEDGER_CLUSTER_ROOT', message, details)
  }
  const cp = await verifyCheckpoint(rootNote, rootVkey).catch((e) =>
    fail(`the root checkpoint does not verify under ${rootVkey}: ${(e as Error).message}`),
  )
  if (cp.size > leaves.length)
    fail(`the root checkpoint covers ${cp.size} leaves, only ${leaves.length} were given`, { size: cp.size })
  const hashes = leaves.slice(0, cp.size).map((l) => leafHash(leafBytes(l)))
  if (toBase64(rootFromLeaves(hashes)) !== toBase64(cp.rootHash))
    fail(`the first ${cp.size} leaves do not hash to the root checkpoint's root`)
  const partitions = new Map<number, { size: number; rootHash: string; note: string }>()
  for (const [i, l] of leaves.slice(0, cp.size).entries()) {
    const vkey =
      partitionVkeys.get(l.p) ??
      fail(`leaf ${i} names partition ${l.p}, whose verifier key was not given`, { leaf: i, partition: l.p })
    const c = await verifyCheckpoint(l.note, vkey).catch((e) =>
      fail(`leaf ${i}: the checkpoint of partition ${l.p} does not verify: ${(e as Error).message}`, { leaf: i }),
    )
    const before = partitions.get(l.p)
    if (before && c.size < before.size)
      fail(`leaf ${i}: partition ${l.p} shrinks from ${before.size} to ${c.size}`, { leaf: i })
    partitions.set(l.p, { size: c.size, rootHash: toBase64(c.rootHash), note: l.note })
  }
  return { size: cp.size, partitions }
}

/**
 * A root tick (docs/SCALING.md, "The root log"): records each partition's newest durable
 * checkpoint not recorded yet, then signs a root checkpoint. `ledgers[k]` is partition k.
 */
export function createRootTicker(
  root: RootLog,
  ledgers: readonly { latestAnchor(): { size: number; note: string } | undefined }[],
): () => Promise<RootCheckpoint | undefined> {
  // Resume from what the root log already holds.
  const recorded = new Map<number, number>()
  for (const l of root.leaves()) recorded.set(l.p, Number(l.note.split('\n')[1]))
  let ticking: Promise<RootCheckpoint | undefined> = Promise.resolve(undefined)
  return () => {
    const run = async () => {
      for (const [k, ledger] of ledgers.entries()) {
        const a = ledger.latestAnchor()
        if (!a || recorded.get(k) === a.size) continue
        await root.record(k, a.note)
        recorded.set(k, a.size)
      }
      return root.sign()
    }
    ticking = ticking.then(run, run)
    return ticking
  }
}

/** Verifies that leaf `index` is in the root tree of `size` with root `rootHash` (an evidence bundle's partition checkpoint). */
export function verifyRootInclusion(
  leaf: RootLeaf,
  index: number,
  size: number,
  proof: Uint8Array[],
  rootHash: Uint8Array,
): void {
  verifyInclusion(leafHash(leafBytes(leaf)), index, size, proof, rootHash)
}
