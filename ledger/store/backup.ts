/**
 * Backups of a ledger directory (docs/OPERATIONS.md, "Backup and restore").
 *
 * A backup is one portable text file, newline-delimited JSON, written from
 * ONE LevelDB snapshot (an iterator's implicit snapshot), so it is
 * consistent while the ledger ingests:
 *
 *   {"format":"coldproof-backup","version":1,"createdAt":<ms>}
 *   {"file":"ledger.key","b64":"..."}           and ledger.vkey
 *   {"k":"<store key>","v":"<base64 value>"}     every key of the snapshot, in order
 *   {"file":"checkpoints.log","b64":"..."}      its records up to the snapshot's size
 *   {"end":true,"keys":<n>,"size":<entries>,"sha256":"<hex of every byte before this line>"}
 *
 * The checkpoint history is cut at the snapshot's tree size: a restored
 * ledger starts exactly at the snapshot, and checkpoints signed after it
 * (for entries the snapshot lacks) are not carried over. A file without its
 * end line, or whose hash differs, is refused. It holds the ledger's signing
 * key: keep it as secret as ledger.key (written with mode 0600).
 */
import { createHash } from 'node:crypto'
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { encodeAnchorRecord, parseAnchorRecords } from '../tlog/index.ts'
import { ANCHOR_FILE, syncDir } from './anchor-log.ts'
import { KEY_FILE, VERIFIER_KEY_FILE } from './ledger-key.ts'
import { K } from './keys-layout.ts'
import { writeFileAtomic } from '../protocol/atomic-file.ts'

export const BACKUP_ERROR_CODES = {
  ERR_BACKUP_FORMAT: 'the file is not a ColdProof backup, or a line of it is malformed',
  ERR_BACKUP_TRUNCATED: 'the backup ends before its end line (an interrupted copy)',
  ERR_BACKUP_HASH: "the backup's bytes do not hash to the SHA-256 its end line records",
  ERR_RESTORE_TARGET: 'the restore target already holds files (use --force to move them aside)',
} as const
export type BackupErrorCode = keyof typeof BACKUP_ERROR_CODES

export class BackupError extends Error {
  readonly code: BackupErrorCode
  constructor(code: BackupErrorCode, message: string) {
    super(message)
    this.name = 'BackupError'
    this.code = code
  }
}

const enc = new TextEncoder()
const b64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64')

/** checkpoints.log cut to the records that sign at most `size` entries. */
function anchorsUpTo(bytes: Uint8Array, size: number): Uint8Array {
  const kept = parseAnchorRecords(bytes).records.filter((r) => r.size <= size)
  return Buffer.concat(kept.map((r) => encodeAnchorRecord(r.size, r.note)))
}

async function readOptional(path: string): Promise<Uint8Array | undefined> {
  try {
    return await readFile(path)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
}

/**
 * The backup's lines, streamed: `snapshot` is every key and value of the
 * store from one snapshot in key order; `dir` is the ledger directory the
 * key files and checkpoints.log are read from.
 */
export async function* backupLines(
  snapshot: AsyncIterable<[string, Uint8Array]>,
  dir: string,
  clock: () => number = Date.now,
): AsyncGenerator<Uint8Array> {
  const hash = createHash('sha256')
  const line = (v: unknown) => {
    const b = enc.encode(JSON.stringify(v) + '\n')
    hash.update(b)
    return b
  }
  yield line({ format: 'coldproof-backup', version: 1, createdAt: clock() })
  for (const f of [KEY_FILE, VERIFIER_KEY_FILE]) {
    const data = await readOptional(join(dir, f))
    if (data) yield line({ file: f, b64: b64(data) })
  }
  let keys = 0
  let size = 0
  let chunk: Uint8Array[] = []
  for await (const [k, v] of snapshot) {
    if (k === K.tree) size = (JSON.parse(new TextDecoder().decode(v)) as { size: number }).size
    chunk.push(line({ k, v: b64(v) }))
    keys++
    if (chunk.length >= 512) {
      yield Buffer.concat(chunk)
      chunk = []
    }
  }
  if (chunk.length) yield Buffer.concat(chunk)
  // Read after the snapshot: every record it could need is in the file by now, and later ones are cut.
  const anchors = await readOptional(join(dir, ANCHOR_FILE))
  if (anchors) yield line({ file: ANCHOR_FILE, b64: b64(anchorsUpTo(anchors, size)) })
  const end = enc.encode(JSON.stringify({ end: true, keys, size, sha256: hash.digest('hex') }) + '\n')
  yield end
}

/** Splits a byte stream into lines. */
async function* linesOf(input: AsyncIterable<Uint8Array | string>): AsyncGenerator<Buffer> {
  let rest = Buffer.alloc(0)
  for await (const part of input) {
    rest = Buffer.concat([rest, typeof part === 'string' ? Buffer.from(part) : Buffer.from(part)])
    let nl: number
    while ((nl = rest.indexOf(0x0a)) >= 0) {
      yield rest.subarray(0, nl + 1)
      rest = rest.subarray(nl + 1)
    }
  }
  if (rest.length) yield rest
}

export interface RestoreResult {
  keys: number
  size: number
  files: string[]
}

/**
 * Restores a backup into `ledgerDir`, which must not exist or be empty. It
 * is built in a sibling temp directory and renamed into place at the end, so
 * an interrupted restore leaves no half ledger behind.
 */
export async function restoreBackup(
  input: AsyncIterable<Uint8Array | string>,
  ledgerDir: string,
): Promise<RestoreResult> {
  const tmp = `${ledgerDir}.restoring-${process.pid}`
  await rm(tmp, { recursive: true, force: true })
  await mkdir(join(tmp, 'db'), { recursive: true })
  const db = new ClassicLevel<string, Uint8Array>(join(tmp, 'db'), { keyEncoding: 'utf8', valueEncoding: 'view' })
  await db.open({ createIfMissing: true, errorIfExists: true })
  const hash = createHash('sha256')
  const files = new Map<string, Buffer>()
  let batch: { type: 'put'; key: string; value: Uint8Array }[] = []
  let keys = 0
  let header = false
  let end: { keys: number; size: number; sha256: string } | undefined
  try {
    let n = 0
    for await (const raw of linesOf(input)) {
      n++
      if (end) throw new BackupError('ERR_BACKUP_FORMAT', `line ${n}: data after the end line`)
      let v: Record<string, unknown>
      try {
        v = JSON.parse(raw.toString('utf8')) as Record<string, unknown>
      } catch {
        throw new BackupError(
          raw[raw.length - 1] === 0x0a ? 'ERR_BACKUP_FORMAT' : 'ERR_BACKUP_TRUNCATED',
          `line ${n} is not JSON${raw[raw.length - 1] === 0x0a ? '' : ' (the file ends in the middle of it)'}`,
        )
      }
      if (!header) {
        if (v.format !== 'coldproof-backup' || v.version !== 1)
          throw new BackupError('ERR_BACKUP_FORMAT', 'the first line is not a coldproof-backup version 1 header')
        header = true
        hash.update(raw)
        continue
      }
      if (v.end === true) {
        if (typeof v.sha256 !== 'string' || typeof v.keys !== 'number' || typeof v.size !== 'number')
          throw new BackupError('ERR_BACKUP_FORMAT', `line ${n}: malformed end line`)
        end = { keys: v.keys, size: v.size, sha256: v.sha256 }
        continue
      }
      hash.update(raw)
      if (typeof v.k === 'string' && typeof v.v === 'string') {
        batch.push({ type: 'put', key: v.k, value: Buffer.from(v.v, 'base64') })
        keys++
        if (batch.length >= 1000) {
          await db.batch(batch)
          batch = []
        }
      } else if (
        typeof v.file === 'string' &&
        [KEY_FILE, VERIFIER_KEY_FILE, ANCHOR_FILE].includes(v.file) &&
        typeof v.b64 === 'string'
      ) {
        files.set(v.file, Buffer.from(v.b64, 'base64'))
      } else {
        throw new BackupError('ERR_BACKUP_FORMAT', `line ${n} is neither a key, a file nor the end`)
      }
    }
    if (!header) throw new BackupError('ERR_BACKUP_FORMAT', 'the file is empty')
    if (!end) throw new BackupError('ERR_BACKUP_TRUNCATED', 'the backup has no end line: it was cut short')
    const digest = hash.digest('hex')
    if (digest !== end.sha256 || keys !== end.keys)
      throw new BackupError(
        'ERR_BACKUP_HASH',
        `the backup hashes to ${digest} with ${keys} keys; its end line records ${end.sha256} with ${end.keys}`,
      )
    // The last write syncs LevelDB's log, which holds every earlier write.
    await db.batch(batch, { sync: true })
    await db.close()
    for (const [name, data] of files) {
      const fh = await open(join(tmp, name), 'w', name === KEY_FILE ? 0o600 : 0o644)
      try {
        await fh.writeFile(data)
        await fh.sync()
      } finally {
        await fh.close()
      }
    }
    await syncDir(tmp)
    await mkdir(dirname(ledgerDir), { recursive: true })
    await rm(ledgerDir, { recursive: true, force: true }) // empty (checked by the caller) or absent
    await rename(tmp, ledgerDir)
    await syncDir(dirname(ledgerDir))
    return { keys, size: end.size, files: [...files.keys()] }
  } catch (e) {
    await db.close().catch(() => undefined)
    await rm(tmp, { recursive: true, force: true })
    throw e
  }
}

/** Writes a backup stream to `out` (mode 0600) through a temp file renamed at the end. */
export function writeBackupFile(lines: AsyncIterable<Uint8Array>, out: string): Promise<number> {
  return writeFileAtomic(out, lines, { mode: 0o600 })
}
