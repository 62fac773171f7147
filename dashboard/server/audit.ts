/**
 * The audit trail of administrative changes: users created, disabled, enabled,
 * their password reset or role changed, API tokens created or revoked,
 * notification rules replaced. One JSON line per change in `<data>/audit.jsonl`,
 * appended and fsynced before the change is answered (docs/OPERATIONS.md,
 * "Audit trail").
 *
 * Not in the ledger on purpose: the ledger is the signed evidence of what
 * loggers measured and people decided about shipments, exported whole in
 * bundles; who may sign in is not shipment evidence. No record ever holds a
 * password or a token's secret: only names, roles, labels and token ids.
 */
import { open, readFile, mkdir, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'

export const AUDIT_ACTIONS = [
  'user.created',
  'user.disabled',
  'user.enabled',
  'user.password_reset',
  'user.role_changed',
  'user.deleted',
  'token.created',
  'token.revoked',
  'notifications.rules_changed',
] as const
export type AuditAction = (typeof AUDIT_ACTIONS)[number]

export interface AuditRecord {
  /** 1, 2, 3 … in file order; the page cursor. */
  seq: number
  /** ms UTC (the dashboard's clock). */
  at: number
  /** Who made the change (the signed-in user, or the token's owner). */
  by: string
  action: AuditAction
  /** What it was made to: a username, or a token id. */
  target: string
  /** The client address the request came from (req.ip: behind a trusted proxy, the forwarded one). */
  ip: string
  /** What changed, without secrets: e.g. { from: 'operator', to: 'admin' }, { label, scope, expiresAt }. */
  details?: Record<string, string | number | boolean | null>
}

export interface AuditPage {
  /** Newest first. */
  entries: AuditRecord[]
  /** Pass as `before` for the next (older) page; null on the last page. */
  next: number | null
  total: number
}

export interface AuditLog {
  append(r: Omit<AuditRecord, 'seq'>): Promise<AuditRecord>
  /** Newest first, up to `limit`, only records with seq < `before` when given. */
  page(opts?: { limit?: number; before?: number }): AuditPage
  close(): Promise<void>
}

/** Parses the trail's lines; a line that is not a whole record (a torn last line) is reported and skipped. */
function parse(text: string, onBadLine?: (line: number) => void): AuditRecord[] {
  const out: AuditRecord[] = []
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return
    try {
      const r = JSON.parse(line) as AuditRecord
      if (typeof r.seq === 'number' && typeof r.action === 'string' && typeof r.by === 'string') out.push(r)
      else onBadLine?.(i + 1)
    } catch {
      onBadLine?.(i + 1)
    }
  })
  return out
}

/**
 * Opens (or creates) the file; `file` null keeps the trail in memory only (tests, embedding).
 * `coldproof user add` may append the first admin's record while a server has the file open:
 * before each append the server notices the file grew under it and reads the new lines, so
 * numbering never repeats.
 */
export async function openAuditLog(file: string | null, onBadLine?: (line: number) => void): Promise<AuditLog> {
  let records: AuditRecord[] = []
  let fh: FileHandle | null = null
  /** Bytes of the file as this process last saw or wrote them. */
  let known = 0
  if (file) {
    await mkdir(dirname(file), { recursive: true })
    const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return ''
      throw e
    })
    records = parse(text, onBadLine)
    // 0600: the trail names users and client addresses.
    fh = await open(file, 'a', 0o600)
    // A torn last line has no newline: start the next record on a line of its own.
    if (text.length > 0 && !text.endsWith('\n')) await fh.write('\n')
    known = (await fh.stat()).size
  }
  let seq = records.reduce((m, r) => Math.max(m, r.seq), 0)
  // One write at a time, in order; each fsynced before its caller hears back.
  let chain: Promise<void> = Promise.resolve()
  return {
    append(r) {
      if (!fh) {
        const rec: AuditRecord = { seq: ++seq, ...r }
        records.push(rec)
        return Promise.resolve(rec)
      }
      const h = fh
      const done = chain.then(async () => {
        if ((await h.stat()).size !== known) {
          records = parse(await readFile(file!, 'utf8'))
          seq = records.reduce((m, x) => Math.max(m, x.seq), seq)
        }
        const rec: AuditRecord = { seq: seq + 1, ...r }
        const line = JSON.stringify(rec) + '\n'
        await h.write(line)
        await h.datasync()
        seq = rec.seq
        records.push(rec)
        known = (await h.stat()).size
        return rec
      })
      chain = done.then(
        () => {},
        () => {},
      )
      return done
    },
    page({ limit = 50, before } = {}) {
      const n = Math.max(1, Math.min(500, Math.floor(limit)))
      // Records are in seq order: find the last one below the cursor, walk back.
      let end = records.length
      if (before !== undefined) while (end > 0 && records[end - 1].seq >= before) end--
      const start = Math.max(0, end - n)
      const entries = records.slice(start, end).reverse()
      return { entries, next: start > 0 ? entries[entries.length - 1].seq : null, total: records.length }
    },
    async close() {
      await chain
      await fh?.close()
      fh = null
    },
  }
}
