/**
 * The record of every notification sent or failed: a JSON-lines file under the
 * data directory, each line appended and fsynced before it counts. Not a ledger
 * entry on purpose: the ledger is the signed evidence of what loggers measured and
 * people decided, exported whole in bundles; a delivery outcome is a fact about
 * someone else's mail server or webhook, holds personal addresses, and retries
 * would grow the signed log. docs/OPERATIONS.md, "Alarm notifications".
 */
import { open, readFile, mkdir, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'

export interface NotificationRecord {
  shipmentId: string
  alarmId: string
  ruleId: string
  /** 0 = the first notice; k = the k-th escalation. */
  level: number
  channel: string
  to: string
  /** When the send was queued, ms UTC (escalation counts from the first). */
  queuedAt: number
  /** When it was sent or given up, ms UTC. */
  at: number
  status: 'sent' | 'failed'
  attempts: number
  error?: string
}

export interface RecordStore {
  all(): readonly NotificationRecord[]
  forAlarm(shipmentId: string, alarmId: string): NotificationRecord[]
  append(r: NotificationRecord): Promise<void>
  close(): Promise<void>
}

const key = (s: string, a: string) => `${s}\u0000${a}`

/** Opens (or creates) the file; `file` null keeps records in memory only. A torn last line (a crash mid-write) is skipped. */
export async function openRecordStore(file: string | null, onBadLine?: (line: number) => void): Promise<RecordStore> {
  const byAlarm = new Map<string, NotificationRecord[]>()
  const all: NotificationRecord[] = []
  const add = (r: NotificationRecord) => {
    all.push(r)
    const k = key(r.shipmentId, r.alarmId)
    const l = byAlarm.get(k)
    if (l) l.push(r)
    else byAlarm.set(k, [r])
  }
  let fh: FileHandle | null = null
  if (file) {
    await mkdir(dirname(file), { recursive: true })
    const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return ''
      throw e
    })
    text.split('\n').forEach((line, i) => {
      if (!line.trim()) return
      try {
        const r = JSON.parse(line) as NotificationRecord
        if (typeof r.shipmentId === 'string' && typeof r.alarmId === 'string') add(r)
        else onBadLine?.(i + 1)
      } catch {
        onBadLine?.(i + 1)
      }
    })
    // A torn last line has no newline: start the next record on a line of its own.
    fh = await open(file, 'a')
    if (text.length > 0 && !text.endsWith('\n')) await fh.write('\n')
  }
  // One write at a time, in order; each fsynced before the next.
  let chain: Promise<void> = Promise.resolve()
  return {
    all: () => all,
    forAlarm: (s, a) => byAlarm.get(key(s, a)) ?? [],
    append(r) {
      add(r)
      if (!fh) return Promise.resolve()
      const h = fh
      const done = chain.then(async () => {
        await h.write(JSON.stringify(r) + '\n')
        await h.datasync()
      })
      // A failed write is reported to its caller; later records still get their turn.
      chain = done.catch(() => {})
      return done
    },
    async close() {
      await chain.catch(() => {})
      await fh?.close()
      fh = null
    },
  }
}
