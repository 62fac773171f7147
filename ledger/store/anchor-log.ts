/**
 * `<ledgerDir>/checkpoints.log`: every signed checkpoint, appended and
 * fsynced (records: ledger/tlog/anchor-format.ts). It is the ledger's anchor
 * outside LevelDB: a device receipt is published only once a checkpoint
 * covering the reading is durable here, and openLedger / verify-ledger refuse
 * a database that holds fewer entries than this file's latest checkpoint, or
 * another root at that size.
 */
import { open, readFile, stat, type FileHandle } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { encodeAnchorRecord, parseAnchorRecords, type ParsedAnchors } from '../tlog/index.ts'
import { verifyCheckpoint } from '../tlog/index.ts'
import { LedgerError } from './errors.ts'

export const ANCHOR_FILE = 'checkpoints.log'
/** At open only the file's end is read: its latest records are what matters. */
const TAIL_BYTES = 1 << 20

export interface Anchor {
  size: number
  rootHash: Uint8Array
  note: string
}

export interface AnchorRead {
  exists: boolean
  /** The latest record, verified under the ledger key. */
  latest?: Anchor
  /** Records read (all of them with `whole`, else those in the file's last MiB). */
  records: number
  /** Absolute offset of a torn last record. */
  tornTailAt?: number
  fileSize: number
}

/**
 * Reads the anchor file of ledger directory `dir` and verifies its latest
 * record under `vkey`. A damaged record (valid ones after it) or a latest
 * record that does not verify is ERR_LEDGER_ANCHOR_DAMAGED.
 */
export async function readAnchors(
  dir: string,
  vkey: string,
  { origin, whole = false }: { origin?: string; whole?: boolean } = {},
): Promise<AnchorRead> {
  const path = join(dir, ANCHOR_FILE)
  let fileSize: number
  try {
    fileSize = (await stat(path)).size
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { exists: false, records: 0, fileSize: 0 }
    throw new LedgerError('ERR_LEDGER_ANCHOR_DAMAGED', `cannot read ${path}: ${(e as Error).message}`, { path })
  }
  let start = 0
  let bytes: Uint8Array
  if (whole || fileSize <= TAIL_BYTES) {
    bytes = await readFile(path)
  } else {
    start = fileSize - TAIL_BYTES
    const fh = await open(path, 'r')
    try {
      bytes = new Uint8Array(TAIL_BYTES)
      await fh.read(bytes, 0, TAIL_BYTES, start)
    } finally {
      await fh.close()
    }
  }
  const parsed: ParsedAnchors = parseAnchorRecords(bytes, { fromStart: start === 0 })
  if (parsed.damagedAt !== undefined) {
    throw new LedgerError(
      'ERR_LEDGER_ANCHOR_DAMAGED',
      `${path}: the record at byte ${start + parsed.damagedAt} is damaged (valid records follow it)`,
      { path, offset: start + parsed.damagedAt },
    )
  }
  const out: AnchorRead = {
    exists: true,
    records: parsed.records.length,
    fileSize,
    ...(parsed.tornTailAt !== undefined ? { tornTailAt: start + parsed.tornTailAt } : {}),
  }
  const last = parsed.records.at(-1)
  if (!last) return out
  let previous = -1
  for (const r of parsed.records) {
    if (r.size < previous)
      throw new LedgerError(
        'ERR_LEDGER_ANCHOR_DAMAGED',
        `${path}: the record at byte ${start + r.offset} signs size ${r.size}, smaller than the record before it (${previous})`,
        { path, offset: start + r.offset },
      )
    previous = r.size
  }
  try {
    const c = await verifyCheckpoint(last.note, vkey, origin !== undefined ? { origin } : {})
    if (c.size !== last.size) throw new Error(`its header says size ${last.size}, the signed note ${c.size}`)
    out.latest = { size: c.size, rootHash: c.rootHash, note: last.note }
  } catch (e) {
    throw new LedgerError(
      'ERR_LEDGER_ANCHOR_DAMAGED',
      `${path}: the latest checkpoint (byte ${start + last.offset}) does not verify under ${vkey}: ${(e as Error).message}`,
      { path, offset: start + last.offset },
    )
  }
  return out
}

/** fsync of a directory, so a file created in it survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** The appending side; one per open ledger. */
export class AnchorWriter {
  #fh: FileHandle
  /** Length of the file's valid records: a failed append is cut back to it. */
  #length: number
  private constructor(fh: FileHandle, length: number) {
    this.#fh = fh
    this.#length = length
  }

  /** Opens for appending, cutting off a torn last record first; creates the file (and fsyncs the directory) if needed. */
  static async open(dir: string, read: AnchorRead): Promise<AnchorWriter> {
    const path = join(dir, ANCHOR_FILE)
    const fh = await open(path, 'a', 0o644)
    try {
      if (read.tornTailAt !== undefined) {
        await fh.truncate(read.tornTailAt)
        await fh.sync()
      }
      if (!read.exists) {
        await fh.sync()
        await syncDir(dirname(path))
      }
    } catch (e) {
      await fh.close()
      throw e
    }
    return new AnchorWriter(fh, read.tornTailAt ?? read.fileSize)
  }

  /** Appends one signed checkpoint and fsyncs; resolves once durable. Callers serialise appends. */
  async append(size: number, note: string): Promise<void> {
    const rec = encodeAnchorRecord(size, note)
    try {
      let written = 0
      while (written < rec.length) written += (await this.#fh.write(rec, written, rec.length - written)).bytesWritten
      await this.#fh.datasync()
    } catch (e) {
      // A full disk or an I/O error: cut the partial record off so the next append starts clean.
      await this.#fh.truncate(this.#length).catch(() => undefined)
      throw e
    }
    this.#length += rec.length
  }

  close(): Promise<void> {
    return this.#fh.close()
  }
}
