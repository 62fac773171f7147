/**
 * The notifier: told of each alarm the dashboard raises, it matches the rules,
 * queues one send per contact on that contact's channel, and records every
 * outcome. It never blocks its caller: onAlarm() only enqueues; each channel
 * has a bounded queue and at most CONCURRENCY sends in flight, so a dead or
 * hanging receiver holds up only its own channel. tick() escalates alarms
 * still unacknowledged (the dashboard calls it on a timer; tests call it with
 * their own clock). What was sent is derived from the records, so escalation
 * carries on after a restart. docs/OPERATIONS.md, "Alarm notifications".
 */
import { randomUUID } from 'node:crypto'
import { readFile, mkdir } from 'node:fs/promises'
import { writeFileAtomic } from '../../ledger/protocol/atomic-file.ts'
import { dirname } from 'node:path'
import {
  EMPTY_CONFIG,
  keepSecrets,
  parseNotifyConfig,
  redact,
  type Channel,
  type Contact,
  type NotifyConfig,
  type Rule,
} from './config.ts'
import { deliverMail, deliverWebhook, realSleep, smtpTransport, type Outcome, type Sleep } from './deliver.ts'
import { mailOf, shipmentLink, webhookPayloadOf, type Notice, type NotifyAlarm } from './message.ts'
import { openRecordStore, type NotificationRecord, type RecordStore } from './records.ts'

export type { NotifyAlarm } from './message.ts'
export type { NotificationRecord } from './records.ts'

import type { NotificationView } from './view.ts'
export type { NotificationView } from './view.ts'

export interface NotifierOptions {
  /** Configuration file (JSON); created by setConfig() when absent. null: in memory only. */
  configFile?: string | null
  /** A configuration to start with instead of reading configFile. */
  config?: unknown
  /** Records file (JSON lines, fsynced); null: in memory only. */
  recordsFile: string | null
  clock?: () => number
  /** Wait between retries; tests pass one that returns at once. */
  sleep?: Sleep
  /** The alarm as it is now (acknowledged or not), for escalation. */
  lookup: (shipmentId: string, alarmId: string) => NotifyAlarm | undefined
  log?: (level: 'info' | 'warn' | 'error', obj: Record<string, unknown>, msg: string) => void
  /** Told of each outcome as it is recorded (metrics). */
  onRecord?: (r: NotificationRecord) => void
}

export interface Notifier {
  onAlarm(alarm: NotifyAlarm): void
  /** Escalates every alarm due at the clock's now. */
  tick(): void
  notificationsFor(shipmentId: string, alarmId: string): NotificationView[]
  /** The configuration with secrets redacted. */
  config(): NotifyConfig
  /** Validates, keeps redacted secrets, saves (atomically) and applies. Throws NotifyConfigError. */
  setConfig(input: unknown): Promise<NotifyConfig>
  /** Resolves when no send is queued or in flight and every record is written. */
  idle(): Promise<void>
  pending(): { queued: number; inFlight: number }
  close(): Promise<void>
}

/** Sends in flight per channel. */
const CONCURRENCY = 2

interface Job {
  notice: Notice
  contact: Contact
  channelName: string
  channel: Channel
  queuedAt: number
}

/** Reads a configuration file; absent = no notifications. Throws NotifyConfigError (with the file named) when invalid. */
export async function loadNotifyConfig(file: string): Promise<NotifyConfig> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_CONFIG
    throw e
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    throw Object.assign(new Error(`notification config ${file}: not JSON (${(e as Error).message})`), {
      code: 'ERR_NOTIFY_CONFIG',
    })
  }
  // keepSecrets against nothing: a "********" pasted from GET has no stored secret to stand for.
  try {
    return keepSecrets(parseNotifyConfig(json), EMPTY_CONFIG)
  } catch (e) {
    throw Object.assign(new Error(`notification config ${file}: ${(e as Error).message}`), {
      code: 'ERR_NOTIFY_CONFIG',
    })
  }
}

export async function createNotifier(opts: NotifierOptions): Promise<Notifier> {
  const clock = opts.clock ?? Date.now
  const sleep = opts.sleep ?? realSleep
  const log = opts.log ?? (() => {})
  let cfg: NotifyConfig =
    opts.config !== undefined
      ? keepSecrets(parseNotifyConfig(opts.config), EMPTY_CONFIG)
      : opts.configFile
        ? await loadNotifyConfig(opts.configFile)
        : EMPTY_CONFIG
  const records: RecordStore = await openRecordStore(opts.recordsFile, (line) =>
    log('warn', { file: opts.recordsFile, line }, 'notification record unreadable; skipped'),
  )
  const stop = new AbortController()

  /** `${shipment}\0${alarm}\0${rule}\0${level}` → when first queued. */
  const dispatched = new Map<string, number>()
  const dkey = (s: string, a: string, r: string, l: number) => `${s}\u0000${a}\u0000${r}\u0000${l}`
  /**
   * Alarms given a first notice (`${shipment}\0${alarm}`) → when, the candidates for escalation.
   * Every matching rule with an escalation list counts from it, also a rule whose contacts
   * were all told under another rule (no record of its own) and one added since.
   */
  const tracked = new Map<string, { shipmentId: string; alarmId: string; firstAt: number }>()
  /** `${shipment}\0${alarm}\0${channel}\0${to}` given a first notice: one per contact per alarm, however many rules name them. */
  const told = new Set<string>()
  const markDispatched = (s: string, a: string, r: string, l: number, at: number, channel: string, to: string) => {
    const k = dkey(s, a, r, l)
    const prev = dispatched.get(k)
    if (prev === undefined || at < prev) dispatched.set(k, at)
    if (l === 0) told.add(`${s}\u0000${a}\u0000${channel}\u0000${to}`)
    const tk = `${s}\u0000${a}`
    const t = tracked.get(tk)
    if (l === 0 && (!t || at < t.firstAt)) tracked.set(tk, { shipmentId: s, alarmId: a, firstAt: at })
  }
  for (const r of records.all()) markDispatched(r.shipmentId, r.alarmId, r.ruleId, r.level, r.queuedAt, r.channel, r.to)

  let transports = new Map<string, ReturnType<typeof smtpTransport>>()
  const transportFor = (name: string, c: Channel & { type: 'smtp' }) => {
    let t = transports.get(name)
    if (!t) transports.set(name, (t = smtpTransport(c)))
    return t
  }

  const queues = new Map<string, { jobs: Job[]; running: number }>()
  let writing = 0
  let waiters: Array<() => void> = []
  const settle = () => {
    let busy = writing
    for (const q of queues.values()) busy += q.jobs.length + q.running
    if (busy > 0) return
    const w = waiters
    waiters = []
    for (const f of w) f()
  }

  const record = (job: Job, out: Outcome) => {
    const r: NotificationRecord = {
      shipmentId: job.notice.alarm.shipmentId,
      alarmId: job.notice.alarm.alarmId,
      ruleId: job.notice.ruleId,
      level: job.notice.level,
      channel: job.channelName,
      to: shownAddress(job),
      queuedAt: job.queuedAt,
      at: clock(),
      status: out.ok ? 'sent' : 'failed',
      attempts: out.attempts,
      ...(out.ok ? {} : { error: out.error ?? 'unknown error' }),
    }
    log(out.ok ? 'info' : 'warn', { notification: r }, out.ok ? 'alarm notification sent' : 'alarm notification FAILED')
    opts.onRecord?.(r)
    writing++
    records
      .append(r)
      .catch((err) => log('error', { err, notification: r }, 'notification record could not be written'))
      .finally(() => {
        writing--
        settle()
      })
  }

  const send = async (job: Job): Promise<Outcome> => {
    const c = job.channel
    if (c.type === 'webhook') {
      const id = randomUUID()
      return deliverWebhook(c, job.contact.to, webhookPayloadOf(job.notice, id, clock()), id, {
        clock,
        sleep,
        stop: stop.signal,
      })
    }
    const m = mailOf(job.notice)
    return deliverMail(c, transportFor(job.channelName, c), { to: job.contact.to, ...m }, { sleep, stop: stop.signal })
  }

  const pump = (name: string) => {
    const q = queues.get(name)!
    while (q.running < CONCURRENCY && q.jobs.length > 0) {
      const job = q.jobs.shift()!
      q.running++
      send(job)
        .catch((e: Error): Outcome => ({ ok: false, attempts: 1, error: e.message }))
        .then((out) => record(job, out))
        .finally(() => {
          q.running--
          pump(name)
          settle()
        })
    }
  }

  const enqueue = (notice: Notice, contact: Contact) => {
    const channel = cfg.channels[contact.channel]!
    const now = clock()
    const { shipmentId, alarmId } = notice.alarm
    const job: Job = { notice, contact, channelName: contact.channel, channel, queuedAt: now }
    markDispatched(shipmentId, alarmId, notice.ruleId, notice.level, now, contact.channel, shownAddress(job))
    let q = queues.get(contact.channel)
    if (!q) queues.set(contact.channel, (q = { jobs: [], running: 0 }))
    if (stop.signal.aborted) return record(job, { ok: false, attempts: 0, error: 'notifier stopped' })
    if (q.jobs.length >= cfg.queueLimit) {
      return record(job, {
        ok: false,
        attempts: 0,
        error: `channel "${contact.channel}" queue full (${cfg.queueLimit} waiting): not sent`,
      })
    }
    q.jobs.push(job)
    pump(contact.channel)
  }

  const matches = (r: Rule, a: NotifyAlarm) =>
    a.severity !== null &&
    (r.severities as string[]).includes(a.severity) &&
    (r.shipments === null || r.shipments.includes(a.shipmentId))
  const contactsOf = (r: Rule): Contact[] => {
    const names = new Set(r.contacts)
    return cfg.contacts.filter((k) => names.has(k.name) || k.roles.some((role) => r.roles.includes(role)))
  }
  const contactNamed = (n: string) => cfg.contacts.find((k) => k.name === n)

  const applyConfig = (next: NotifyConfig) => {
    const old = transports
    transports = new Map()
    for (const t of old.values()) t.close()
    cfg = next
  }

  return {
    onAlarm(a) {
      if (a.state !== 'open') return
      for (const r of cfg.rules) {
        if (!matches(r, a) || dispatched.has(dkey(a.shipmentId, a.alarmId, r.id, 0))) continue
        const notice: Notice = {
          alarm: a,
          level: 0,
          unackedForMs: 0,
          ruleId: r.id,
          link: shipmentLink(cfg.baseUrl, a.shipmentId),
        }
        // A contact already told under another rule is skipped; such a rule escalates from that first notice (tick).
        for (const k of contactsOf(r)) {
          if (
            !told.has(
              `${a.shipmentId}\u0000${a.alarmId}\u0000${k.channel}\u0000${addressOf(cfg.channels[k.channel]!, k.to)}`,
            )
          )
            enqueue(notice, k)
        }
      }
    },
    tick() {
      const now = clock()
      for (const [tk, t] of tracked) {
        const a = opts.lookup(t.shipmentId, t.alarmId)
        if (a?.state !== 'open') {
          if (a) tracked.delete(tk)
          continue
        }
        for (const rule of cfg.rules) {
          if (!rule.escalation || !matches(rule, a)) continue
          const t0 = dispatched.get(dkey(t.shipmentId, t.alarmId, rule.id, 0)) ?? t.firstAt
          const due = Math.min(rule.escalation.contacts.length, Math.floor((now - t0) / rule.escalation.afterMs))
          for (let level = 1; level <= due; level++) {
            if (dispatched.has(dkey(t.shipmentId, t.alarmId, rule.id, level))) continue
            const k = contactNamed(rule.escalation.contacts[level - 1]!)
            if (!k) continue
            enqueue(
              {
                alarm: a,
                level,
                unackedForMs: now - t0,
                ruleId: rule.id,
                link: shipmentLink(cfg.baseUrl, a.shipmentId),
              },
              k,
            )
          }
        }
      }
    },
    notificationsFor(s, a) {
      return records.forAlarm(s, a).map((r) => ({
        channel: r.channel,
        to: r.to,
        at: r.at,
        status: r.status,
        attempts: r.attempts,
        level: r.level,
        ...(r.error ? { error: r.error } : {}),
      }))
    },
    config: () => redact(cfg),
    async setConfig(input) {
      const next = keepSecrets(parseNotifyConfig(input), cfg)
      if (opts.configFile) {
        await mkdir(dirname(opts.configFile), { recursive: true })
        await writeFileAtomic(opts.configFile, JSON.stringify(next, null, 2) + '\n', { mode: 0o600 })
      }
      applyConfig(next)
      return redact(next)
    },
    idle() {
      return new Promise<void>((resolve) => {
        waiters.push(resolve)
        settle()
      })
    },
    pending() {
      let queued = 0
      let inFlight = 0
      for (const q of queues.values()) {
        queued += q.jobs.length
        inFlight += q.running
      }
      return { queued, inFlight }
    },
    async close() {
      stop.abort()
      // What never got its turn is recorded as not sent, so the record stays complete.
      for (const q of queues.values())
        for (const job of q.jobs.splice(0))
          record(job, { ok: false, attempts: 0, error: 'notifier stopped before sending' })
      await new Promise<void>((resolve) => {
        waiters.push(resolve)
        settle()
      })
      for (const t of transports.values()) t.close()
      await records.close()
    },
  }
}

const shownAddress = (job: Job) => addressOf(job.channel, job.contact.to)

/** A webhook URL is recorded and shown without its query (receivers often put a token there). */
function addressOf(channel: Channel, to: string): string {
  if (channel.type !== 'webhook') return to
  const u = new URL(to)
  return u.search ? `${u.origin}${u.pathname}?…` : `${u.origin}${u.pathname}`
}
