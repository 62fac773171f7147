/**
 * A LedgerReader (ledger/fsck.ts) over a ledger directory's LevelDB, for
 * `coldproof verify-ledger`. It reads raw keys of the store's layout
 * (ledger/keys-layout.ts) and nothing else: it does not open the ledger
 * (LogStore.open refuses a directory whose tree state disagrees with its
 * entries, which is exactly what the checker must diagnose), writes nothing,
 * and derives the size from the entries present, not from the stored state.
 */
import { ClassicLevel } from 'classic-level'
import { join } from 'node:path'
import { stat } from 'node:fs/promises'
import type { LedgerReader } from './fsck.ts'
import { K } from './keys-layout.ts'

/** The LevelDB folder inside a ledger directory (ledger/ledger.ts opens `join(dir, 'db')`). */
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
  close(): Promise<void>
}

const textDecoder = new TextDecoder()

/** Opens the LevelDB of ledger directory `dir` for reading. Close it when done. */
export async function openLedgerDirReader(dir: string): Promise<LedgerDirReader> {
  const path = join(dir, LEDGER_DB_DIR)
  try { await stat(path) } catch {
    throw new LedgerDirError('ERR_LEDGER_DIR_MISSING', `${dir} is not a ledger directory (no ${LEDGER_DB_DIR}/ folder)`)
  }
  const db = new ClassicLevel<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' })
  try {
    await db.open({ createIfMissing: false })
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause
    if (/lock/i.test(String(cause?.message ?? '')) || cause?.code === 'LEVEL_LOCKED') {
      throw new LedgerDirError('ERR_LEDGER_DIR_LOCKED', `${path} is in use by a running ledger (LevelDB lock); stop it, or verify a copy of the directory`)
    }
    throw new LedgerDirError('ERR_LEDGER_DIR_UNREADABLE', `cannot open ${path}: ${cause?.message ?? (e as Error).message}`)
  }
  // Size = one past the highest entry key present (a missing entry below it is reported by the checker).
  let size = 0
  for await (const k of db.keys({ gte: K.entry(0), lte: K.entry(Number.MAX_SAFE_INTEGER), reverse: true, limit: 1 })) size = Number(k.slice(k.lastIndexOf('!') + 1)) + 1
  return {
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
    async storedLeafHash(i) {
      return (await db.get(K.node(0, i))) ?? undefined
    },
    close: () => db.close(),
  }
}
