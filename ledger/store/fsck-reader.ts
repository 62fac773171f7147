/**
 * A LedgerReader (ledger/store/fsck.ts) over a ledger directory, for
 * `coldproof verify-ledger`. It never modifies the directory it checks:
 * LevelDB's own open is not read-only (it replays the .log into a new table
 * and deletes the log, dropping what fails its checksum), so the reader first
 * checks every database file's checksums in place (ledger/store/leveldb-check.ts),
 * then copies the database to a private temp directory and opens the copy.
 * It reads raw keys of the store's layout (ledger/store/keys-layout.ts), not the
 * ledger (LogStore.open refuses a directory whose tree state disagrees with
 * its entries, which is exactly what the checker must diagnose), and derives
 * the size from the entries present, not from the stored state.
 */
import { ClassicLevel } from 'classic-level'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { access, cp, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import type { LedgerReader, StorageProblem } from './fsck.ts'
import { K } from './keys-layout.ts'
import { checkDbFiles, describeProblems } from './leveldb-check.ts'
import { ANCHOR_FILE, readAnchors } from './anchor-log.ts'
import { KEY_FILE, VERIFIER_KEY_FILE } from './ledger-key.ts'

/** The LevelDB folder inside a ledger directory (ledger/store/ledger.ts opens `join(dir, 'db')`). */
export const LEDGER_DB_DIR = 'db'

export class LedgerDirError extends Error {
  readonly code: 'ERR_LEDGER_DIR_MISSING' | 'ERR_LEDGER_DIR_LOCKED' | 'ERR_LEDGER_DIR_UNREADABLE'
  constructor(code: LedgerDirError['code'], message: string) {
    super(message)
    this.name = 'LedgerDirError'
    this.code = code
  }
}

export interface LedgerDirReader extends LedgerReader {
  /** The LevelDB copy being read (undefined when the database could not be opened). */
  readonly db: ClassicLevel<string, Uint8Array> | undefined
  close(): Promise<void>
}

const textDecoder = new TextDecoder()
const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  )

/**
 * True when a process holds LevelDB's lock on `lockFile` (Linux /proc/locks;
 * false where that file does not exist).
 */
async function lockHeld(lockFile: string): Promise<boolean> {
  let st, locks: string
  try {
    ;[st, locks] = await Promise.all([stat(lockFile), readFile('/proc/locks', 'utf8')])
  } catch {
    return false
  }
  const major = Number((BigInt(st.dev) >> 8n) & 0xfffn),
    minor = Number((BigInt(st.dev) & 0xffn) | ((BigInt(st.dev) >> 12n) & 0xfff00n))
  const id = `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:${st.ino}`
  return locks.split('\n').some((l) => l.split(/\s+/).includes(id))
}

/** Names, sizes and times of a directory's files: equal before and after a copy means the copy is consistent. */
async function listing(dir: string): Promise<string> {
  const names = (await readdir(dir)).filter((n) => n !== 'LOCK').sort()
  const rows = await Promise.all(
    names.map(async (n) => {
      const s = await stat(join(dir, n))
      return `${n}:${s.size}:${s.mtimeMs}`
    }),
  )
  return rows.join('\n')
}

/** Opens a copy of the LevelDB of ledger directory `dir` for reading. Close it when done (removes the copy). */
export async function openLedgerDirReader(dir: string): Promise<LedgerDirReader> {
  const path = join(dir, LEDGER_DB_DIR)
  const files = await checkDbFiles(path)
  const ledgerMarks = (
    await Promise.all([KEY_FILE, VERIFIER_KEY_FILE, ANCHOR_FILE].map((f) => exists(join(dir, f))))
  ).some(Boolean)
  if (!files.exists && !ledgerMarks)
    throw new LedgerDirError(
      'ERR_LEDGER_DIR_MISSING',
      `${dir} is not a ledger directory (no ${LEDGER_DB_DIR}/ folder, no ${KEY_FILE} or ${ANCHOR_FILE})`,
    )
  if (files.exists && (await lockHeld(join(path, 'LOCK')))) {
    throw new LedgerDirError(
      'ERR_LEDGER_DIR_LOCKED',
      `${path} is in use by a running ledger (LevelDB lock); stop it, or check a backup of it (coldproof backup)`,
    )
  }
  const anchorNote = async () => {
    const vkey = (await readFile(join(dir, VERIFIER_KEY_FILE), 'utf8')).trim()
    return (await readAnchors(dir, vkey, { whole: true })).latest?.note
  }
  const broken = (problem: StorageProblem): LedgerDirReader => ({
    db: undefined,
    storageProblem: async () => problem,
    size: async () => 0,
    entryBytes: async (i) => {
      throw new Error(`entry ${i}: the database cannot be read`)
    },
    latestCheckpoint: async () => undefined,
    anchorCheckpoint: anchorNote,
    close: async () => {},
  })
  if (!files.exists)
    return broken({
      code: 'ERR_FSCK_DB_MISSING',
      message: `${dir} holds a ledger but no database: ${describeProblems(files.problems)}`,
    })
  if (files.problems.length) {
    const missing = files.problems.some((p) => p.kind === 'missing')
    return broken({
      code: missing ? 'ERR_FSCK_DB_MISSING' : 'ERR_FSCK_DB_DAMAGED',
      message: describeProblems(files.problems),
      files: files.problems.map((p) => p.file),
    })
  }

  const copy = await mkdtemp(join(tmpdir(), 'coldproof-verify-'))
  const before = await listing(path)
  await cp(path, copy, { recursive: true, filter: (src) => !src.endsWith('/LOCK') })
  if ((await listing(path)) !== before) {
    await rm(copy, { recursive: true, force: true })
    throw new LedgerDirError(
      'ERR_LEDGER_DIR_LOCKED',
      `${path} changed while it was being copied (in use by a running ledger?); stop it, or check a backup of it (coldproof backup)`,
    )
  }
  const db = new ClassicLevel<string, Uint8Array>(copy, { keyEncoding: 'utf8', valueEncoding: 'view' })
  try {
    await db.open({ createIfMissing: false })
  } catch (e) {
    await rm(copy, { recursive: true, force: true })
    const cause = (e as { cause?: { message?: string } }).cause
    return broken({
      code: 'ERR_FSCK_DB_DAMAGED',
      message: `LevelDB cannot open the database: ${cause?.message ?? (e as Error).message}`,
    })
  }
  // Size = one past the highest entry key present (a missing entry below it is reported by the checker).
  let size = 0
  for await (const k of db.keys({ gte: K.entry(0), lte: K.entry(Number.MAX_SAFE_INTEGER), reverse: true, limit: 1 }))
    size = Number(k.slice(k.lastIndexOf('!') + 1)) + 1
  return {
    db,
    size: async () => size,
    async entryBytes(i) {
      const b = await db.get(K.entry(i))
      if (!b) throw new Error(`entry ${i} is missing from ${path}`)
      return b
    },
    async latestCheckpoint() {
      const v = await db.get(K.checkpoint)
      if (!v) return undefined
      const note = (JSON.parse(textDecoder.decode(v)) as { note?: unknown }).note
      if (typeof note !== 'string') throw new Error(`${K.checkpoint} in ${path} holds no note`)
      return note
    },
    anchorCheckpoint: anchorNote,
    storeSnapshot: () => db.iterator(),
    async storedLeafHash(i) {
      return (await db.get(K.node(0, i))) ?? undefined
    },
    async close() {
      await db.close()
      await rm(copy, { recursive: true, force: true })
    },
  }
}
