/**
 * The physical check of a ledger's LevelDB directory, run before anything
 * opens it (openLedger, `coldproof verify-ledger`, `coldproof backup`):
 * CURRENT names a MANIFEST that exists, and every log, MANIFEST and table
 * file passes its own CRC-32C checks (ledger/store/leveldb-format.ts). It only
 * reads. LevelDB's own recovery would instead skip a damaged log record
 * silently, drop the rest of its block and delete the log file.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { checkLogFile, checkTableFile, liveTableFiles } from './leveldb-format.ts'

export interface DbProblem {
  /** File name inside the db directory ('' for the directory itself). */
  file: string
  kind: 'missing' | 'damaged' | 'unreadable'
  /** Byte offset of the damage, when known. */
  offset?: number
  message: string
}

export interface DbCheck {
  /** The directory exists and holds at least one LevelDB file. */
  exists: boolean
  problems: DbProblem[]
  /** Log files whose last record was cut short (a write that never completed): normal after a crash. */
  tornTails: string[]
  files: number
  bytes: number
}

const LOG = /^\d+\.log$/
const TABLE = /^\d+\.(ldb|sst)$/
const MANIFEST = /^MANIFEST-\d+$/

export async function checkDbFiles(dbDir: string): Promise<DbCheck> {
  const out: DbCheck = { exists: false, problems: [], tornTails: [], files: 0, bytes: 0 }
  let names: string[]
  try {
    names = await readdir(dbDir)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    out.problems.push({
      file: '',
      kind: code === 'ENOENT' ? 'missing' : 'unreadable',
      message:
        code === 'ENOENT'
          ? `the database directory ${dbDir} does not exist`
          : `cannot list ${dbDir}: ${(e as Error).message}`,
    })
    return out
  }
  const leveldbFiles = names.filter((n) => LOG.test(n) || TABLE.test(n) || MANIFEST.test(n) || n === 'CURRENT')
  out.exists = leveldbFiles.length > 0
  if (!out.exists) {
    out.problems.push({ file: '', kind: 'missing', message: `the database directory ${dbDir} holds no LevelDB files` })
    return out
  }
  let manifest: string | undefined
  if (!names.includes('CURRENT')) {
    out.problems.push({
      file: 'CURRENT',
      kind: 'missing',
      message: `${join(dbDir, 'CURRENT')} is missing: LevelDB cannot find its MANIFEST and would start an empty database over the old files`,
    })
  } else {
    const text = (await readFile(join(dbDir, 'CURRENT'), 'utf8').catch(() => '')).trim()
    if (!MANIFEST.test(text))
      out.problems.push({
        file: 'CURRENT',
        kind: 'damaged',
        message: `${join(dbDir, 'CURRENT')} does not name a MANIFEST file (holds ${JSON.stringify(text.slice(0, 40))})`,
      })
    else if (!names.includes(text))
      out.problems.push({ file: text, kind: 'missing', message: `CURRENT names ${text}, which is missing` })
    else manifest = text
  }
  // Table files the MANIFEST does not hold are orphans (a compaction cut short by a crash); LevelDB deletes them.
  const held = manifest ? liveTableFiles(await readFile(join(dbDir, manifest)).catch(() => new Uint8Array(0))) : null
  // No edit read at all (a damaged MANIFEST, reported below): check every table file.
  const live = held && held.size > 0 ? held : null
  for (const name of leveldbFiles.sort()) {
    const isLog = LOG.test(name) || name === manifest
    if (!isLog && !TABLE.test(name)) continue
    if (!isLog && live && !live.has(Number(name.split('.')[0]))) continue
    let bytes: Uint8Array
    try {
      bytes = await readFile(join(dbDir, name))
    } catch (e) {
      out.problems.push({ file: name, kind: 'unreadable', message: `cannot read ${name}: ${(e as Error).message}` })
      continue
    }
    out.files++
    out.bytes += bytes.length
    if (isLog) {
      const r = checkLogFile(bytes)
      if (r.damage)
        out.problems.push({
          file: name,
          kind: 'damaged',
          offset: r.damage.offset,
          message: `${name}: ${r.damage.message}`,
        })
      // A MANIFEST is rewritten whole on open; only a data log can end torn after a crash.
      else if (r.tornTailAt !== undefined && name === manifest)
        out.problems.push({
          file: name,
          kind: 'damaged',
          offset: r.tornTailAt,
          message: `${name}: ends in an incomplete record at offset ${r.tornTailAt}`,
        })
      else if (r.tornTailAt !== undefined) out.tornTails.push(name)
    } else {
      const r = checkTableFile(bytes)
      if (r.damage)
        out.problems.push({
          file: name,
          kind: 'damaged',
          offset: r.damage.offset,
          message: `${name}: ${r.damage.message}`,
        })
    }
  }
  return out
}

/** One line naming every problem (for error messages). */
export function describeProblems(p: DbProblem[]): string {
  return p.map((x) => x.message).join('; ')
}
