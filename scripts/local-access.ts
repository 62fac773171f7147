/**
 * How CLI commands on this machine reach a running `coldproof start`: while it
 * runs, `<data>/local-access.json` (mode 0600) holds its dashboard URL and a
 * read-only bearer token (the user `local-cli`, role regulator), made fresh at
 * each start and removed at stop. Whoever can read the data directory can read
 * the ledger anyway, so the file grants nothing more; it only spares a user the
 * token they would otherwise have to create first (README, "Usage").
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { writeFileAtomicSync } from '../ledger/protocol/atomic-file.ts'

export const LOCAL_ACCESS_FILE = 'local-access.json'

export interface LocalAccess {
  format: 'coldproof-local-access'
  url: string
  token: string
  pid: number
  startedAt: number
}

export const newLocalToken = (): string => randomBytes(32).toString('base64url')

export function writeLocalAccess(dataDir: string, url: string, token: string): () => void {
  const file = join(dataDir, LOCAL_ACCESS_FILE)
  const body: LocalAccess = { format: 'coldproof-local-access', url, token, pid: process.pid, startedAt: Date.now() }
  writeFileAtomicSync(file, JSON.stringify(body, null, 2) + '\n', { mode: 0o600 })
  return () => rmSync(file, { force: true })
}

/** The running system's access, or a one-line reason it cannot be used. */
export function readLocalAccess(dataDir: string): LocalAccess | { problem: string } {
  const file = join(dataDir, LOCAL_ACCESS_FILE)
  let raw: string
  try {
    raw = readFileSync(file, 'utf8')
  } catch {
    return { problem: `${file} does not exist (the running system predates it, or runs from another data directory)` }
  }
  let j: Partial<LocalAccess>
  try {
    j = JSON.parse(raw) as Partial<LocalAccess>
  } catch (e) {
    return { problem: `${file} is not JSON: ${(e as Error).message}` }
  }
  if (
    j.format !== 'coldproof-local-access' ||
    typeof j.url !== 'string' ||
    typeof j.token !== 'string' ||
    typeof j.pid !== 'number'
  ) {
    return { problem: `${file} is not a coldproof local-access file (format, url, token, pid)` }
  }
  try {
    process.kill(j.pid, 0)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH')
      return { problem: `${file} names process ${j.pid}, which is not running (a start that was killed left it)` }
  }
  return j as LocalAccess
}
