/**
 * What openLedger checks before it serves anything (docs/OPERATIONS.md,
 * "Recovery"): a directory that held a ledger is never opened as a new
 * empty one, a database file that fails its checksum is never handed to
 * LevelDB's silent recovery, and the database must reach the latest
 * checkpoint of checkpoints.log with the same root. Each failure is a
 * LedgerError that names what is missing and how to restore it.
 */
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { checkDbFiles, describeProblems } from './leveldb-check.ts'
import { ANCHOR_FILE, type Anchor } from './anchor-log.ts'
import { KEY_FILE } from './ledger-key.ts'
import { LedgerError } from './errors.ts'
import { equalBytes, toBase64 } from '../protocol/index.ts'

export const RESTORE_HINT =
  'restore the ledger directory from a backup with `coldproof restore` (docs/OPERATIONS.md, "Recovery")'

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  )

export interface DirState {
  /** The database has LevelDB files (open it without create-if-missing). */
  dbExists: boolean
  keyExists: boolean
  anchorExists: boolean
}

/** Inspects a ledger directory without opening or changing anything; throws on a missing or damaged database. */
export async function checkLedgerDir(dir: string, dbDir: string): Promise<DirState> {
  const [keyExists, anchorExists] = await Promise.all([exists(join(dir, KEY_FILE)), exists(join(dir, ANCHOR_FILE))])
  const files = await checkDbFiles(dbDir)
  if (!files.exists) {
    if (keyExists || anchorExists) {
      const present = [keyExists && KEY_FILE, anchorExists && ANCHOR_FILE].filter(Boolean).join(' and ')
      throw new LedgerError(
        'ERR_LEDGER_DB_MISSING',
        `${dir} holds a ledger (${present}) but no database: ${describeProblems(files.problems)}. The ledger refuses to start an empty one; ${RESTORE_HINT}`,
        { dir, problems: files.problems },
      )
    }
    return { dbExists: false, keyExists, anchorExists }
  }
  if (files.problems.length) {
    const missing = files.problems.some((p) => p.kind === 'missing')
    throw new LedgerError(
      missing ? 'ERR_LEDGER_DB_MISSING' : 'ERR_LEDGER_DB_DAMAGED',
      `the database of ${dir} is ${missing ? 'incomplete' : 'damaged'}: ${describeProblems(files.problems)}; ${RESTORE_HINT}`,
      { dir, problems: files.problems },
    )
  }
  return { dbExists: true, keyExists, anchorExists }
}

/** A LevelDB error on open or read, as the ledger reports it. */
export function dbError(dir: string, e: unknown): unknown {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause
  const code = (e as { code?: string }).code
  if (
    e instanceof LedgerError ||
    code === 'LEVEL_LOCKED' ||
    cause?.code === 'LEVEL_LOCKED' ||
    /lock/i.test(String(cause?.message ?? ''))
  )
    return e
  return new LedgerError(
    'ERR_LEDGER_DB_DAMAGED',
    `LevelDB reports the database of ${dir} as unusable: ${cause?.message ?? (e as Error).message}; ${RESTORE_HINT}`,
    { dir },
  )
}

/** The database against the latest checkpoint of checkpoints.log: at least as many entries, the same root at that size. */
export async function checkAgainstAnchor(
  dir: string,
  size: number,
  rootAt: (size: number) => Promise<Uint8Array>,
  anchor: Anchor | undefined,
  logged?: { size: number },
): Promise<void> {
  // Each checkpoint is appended to the file before it is logged as an entry, so the file reaches the latest logged one.
  if (logged && (!anchor || anchor.size < logged.size)) {
    throw new LedgerError(
      'ERR_LEDGER_ANCHOR_MISSING',
      `${join(dir, ANCHOR_FILE)} ${anchor ? `ends at a checkpoint of size ${anchor.size}` : 'is missing or empty'}, but the database logged a checkpoint of size ${logged.size}, which is written there first: the anchor outside the database was lost or cut; ${RESTORE_HINT}`,
      { dir, anchorSize: anchor?.size ?? null, loggedSize: logged.size },
    )
  }
  if (!anchor) return
  if (size < anchor.size) {
    throw new LedgerError(
      'ERR_LEDGER_BEHIND_ANCHOR',
      `the database of ${dir} holds ${size} entries, but the latest checkpoint in ${ANCHOR_FILE} signs ${anchor.size}: entries ${size}..${anchor.size - 1} were lost from the database; ${RESTORE_HINT}`,
      { dir, size, anchorSize: anchor.size },
    )
  }
  let root: Uint8Array
  try {
    root = await rootAt(anchor.size)
  } catch (e) {
    throw new LedgerError(
      'ERR_LEDGER_DB_DAMAGED',
      `the database of ${dir} cannot compute its root at size ${anchor.size}: ${(e as Error).message}; ${RESTORE_HINT}`,
      { dir },
    )
  }
  if (!equalBytes(root, anchor.rootHash)) {
    throw new LedgerError(
      'ERR_LEDGER_ROOT_MISMATCH',
      `at size ${anchor.size} the database of ${dir} has root ${toBase64(root)}, but the latest checkpoint in ${ANCHOR_FILE} signs ${toBase64(anchor.rootHash)}: the database is not the ledger that signed it; ${RESTORE_HINT}`,
      { dir, size: anchor.size, expected: toBase64(anchor.rootHash), actual: toBase64(root) },
    )
  }
}
