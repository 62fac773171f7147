/**
 * The notification configuration: channels (SMTP, webhook), contacts (an
 * address on a channel, with roles) and rules (which alarm severities reach
 * which roles or contacts, for which shipments, and whom to escalate to).
 * Plain data, validated here with errors that name the JSON path, so a file
 * and the admin API refuse the same mistakes the same way. docs/OPERATIONS.md,
 * "Alarm notifications".
 */

export const SEVERITIES = ['critical', 'major', 'minor'] as const
export type Severity = (typeof SEVERITIES)[number]

export interface SmtpChannel {
  type: 'smtp'
  host: string
  port: number
  /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
  secure: boolean
  auth: { user: string; pass: string } | null
  from: string
  timeoutMs: number
  maxAttempts: number
  backoffMs: number
  maxBackoffMs: number
}

export interface WebhookChannel {
  type: 'webhook'
  url: string
  /** Shared HMAC-SHA256 key; the receiver verifies X-ColdProof-Signature with it. */
  secret: string
  timeoutMs: number
  maxAttempts: number
  backoffMs: number
  maxBackoffMs: number
}

export type Channel = SmtpChannel | WebhookChannel

export interface Contact {
  name: string
  roles: string[]
  channel: string
  /** E-mail address for an SMTP channel; for a webhook, the channel's URL (set when omitted). */
  to: string
}

export interface Rule {
  id: string
  severities: Severity[]
  /** Shipment ids this rule covers; null = every shipment. */
  shipments: string[] | null
  roles: string[]
  contacts: string[]
  /** Escalation: while the alarm stays unacknowledged, contact k is notified after k × afterMs. */
  escalation: { afterMs: number; contacts: string[] } | null
}

export interface NotifyConfig {
  /** The dashboard's public URL, for links in messages (e.g. https://coldproof.example.com). */
  baseUrl: string | null
  /** Sends waiting per channel before new ones are refused (and recorded as failed). */
  queueLimit: number
  channels: Record<string, Channel>
  contacts: Contact[]
  rules: Rule[]
}

export const EMPTY_CONFIG: NotifyConfig = { baseUrl: null, queueLimit: 1000, channels: {}, contacts: [], rules: [] }

/** Shown instead of a secret by GET; a PUT that sends it back keeps the stored secret. */
export const REDACTED = '********'

export class NotifyConfigError extends Error {
  readonly code = 'ERR_NOTIFY_CONFIG'
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`)
    this.name = 'NotifyConfigError'
  }
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/

function obj(v: unknown, path: string, allowed: readonly string[]): Obj {
  if (!isObj(v)) throw new NotifyConfigError(path, 'expected an object')
  for (const k of Object.keys(v))
    if (!allowed.includes(k))
      throw new NotifyConfigError(`${path}.${k}`, `unknown field (allowed: ${allowed.join(', ')})`)
  return v
}
function str(v: unknown, path: string, opts: { pattern?: RegExp; what?: string; max?: number } = {}): string {
  if (typeof v !== 'string' || v.length === 0) throw new NotifyConfigError(path, 'expected a non-empty string')
  if (v.length > (opts.max ?? 500)) throw new NotifyConfigError(path, `longer than ${opts.max ?? 500} characters`)
  if (opts.pattern && !opts.pattern.test(v))
    throw new NotifyConfigError(path, `expected ${opts.what}, got ${JSON.stringify(v)}`)
  return v
}
function int(v: unknown, path: string, min: number, max: number, dflt?: number): number {
  if (v === undefined && dflt !== undefined) return dflt
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new NotifyConfigError(path, `expected an integer from ${min} to ${max}`)
  return v
}
function bool(v: unknown, path: string, dflt: boolean): boolean {
  if (v === undefined) return dflt
  if (typeof v !== 'boolean') throw new NotifyConfigError(path, 'expected true or false')
  return v
}
function list<T>(
  v: unknown,
  path: string,
  each: (x: unknown, p: string) => T,
  opts: { optional?: boolean; min?: number } = {},
): T[] {
  if (v === undefined && opts.optional) return []
  if (!Array.isArray(v)) throw new NotifyConfigError(path, 'expected an array')
  if (v.length < (opts.min ?? 0)) throw new NotifyConfigError(path, `expected at least ${opts.min} item(s)`)
  return v.map((x, i) => each(x, `${path}[${i}]`))
}
function httpUrl(v: unknown, path: string): string {
  const s = str(v, path, { max: 2000 })
  let u: URL
  try {
    u = new URL(s)
  } catch {
    throw new NotifyConfigError(path, `expected an http(s) URL, got ${JSON.stringify(s)}`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new NotifyConfigError(path, `expected an http(s) URL, got ${JSON.stringify(s)}`)
  return s
}

const RETRY_KEYS = ['timeoutMs', 'maxAttempts', 'backoffMs', 'maxBackoffMs'] as const
function retry(c: Obj, path: string) {
  return {
    timeoutMs: int(c.timeoutMs, `${path}.timeoutMs`, 100, 300_000, 10_000),
    maxAttempts: int(c.maxAttempts, `${path}.maxAttempts`, 1, 20, 5),
    backoffMs: int(c.backoffMs, `${path}.backoffMs`, 0, 3_600_000, 1000),
    maxBackoffMs: int(c.maxBackoffMs, `${path}.maxBackoffMs`, 0, 86_400_000, 60_000),
  }
}

function channel(v: unknown, path: string): Channel {
  if (!isObj(v)) throw new NotifyConfigError(path, 'expected an object')
  if (v.type === 'smtp') {
    const c = obj(v, path, ['type', 'host', 'port', 'secure', 'auth', 'from', ...RETRY_KEYS])
    let auth: SmtpChannel['auth'] = null
    if (c.auth !== undefined && c.auth !== null) {
      const a = obj(c.auth, `${path}.auth`, ['user', 'pass'])
      auth = { user: str(a.user, `${path}.auth.user`), pass: str(a.pass, `${path}.auth.pass`) }
    }
    return {
      type: 'smtp',
      host: str(c.host, `${path}.host`, { max: 255 }),
      port: int(c.port, `${path}.port`, 1, 65535, 587),
      secure: bool(c.secure, `${path}.secure`, false),
      auth,
      from: str(c.from, `${path}.from`, { max: 320 }),
      ...retry(c, path),
    }
  }
  if (v.type === 'webhook') {
    const c = obj(v, path, ['type', 'url', 'secret', ...RETRY_KEYS])
    const secret = str(c.secret, `${path}.secret`, { max: 500 })
    if (secret !== REDACTED && secret.length < 16)
      throw new NotifyConfigError(
        `${path}.secret`,
        'expected at least 16 characters (a shared HMAC key; e.g. `openssl rand -hex 32`)',
      )
    return { type: 'webhook', url: httpUrl(c.url, `${path}.url`), secret, ...retry(c, path) }
  }
  throw new NotifyConfigError(`${path}.type`, `expected "smtp" or "webhook", got ${JSON.stringify(v.type)}`)
}

/** Validates a configuration document; throws NotifyConfigError naming the JSON path of the first mistake. */
export function parseNotifyConfig(input: unknown): NotifyConfig {
  const c = obj(input, '$', ['baseUrl', 'queueLimit', 'channels', 'contacts', 'rules'])
  const channelsIn =
    c.channels === undefined ? {} : obj(c.channels, '$.channels', Object.keys((c.channels as Obj) ?? {}))
  const channels: Record<string, Channel> = {}
  for (const [name, ch] of Object.entries(channelsIn)) {
    if (!NAME.test(name))
      throw new NotifyConfigError(`$.channels.${name}`, 'a channel name is letters, digits, . _ - (at most 64)')
    channels[name] = channel(ch, `$.channels.${name}`)
  }
  const contacts = list(
    c.contacts,
    '$.contacts',
    (x, p) => {
      const o = obj(x, p, ['name', 'roles', 'channel', 'to'])
      const ch = str(o.channel, `${p}.channel`)
      const def = channels[ch]
      if (!def)
        throw new NotifyConfigError(
          `${p}.channel`,
          `no channel ${JSON.stringify(ch)} in $.channels (have: ${Object.keys(channels).join(', ') || 'none'})`,
        )
      const to =
        def.type === 'smtp'
          ? str(o.to, `${p}.to`, { pattern: EMAIL, what: 'an e-mail address', max: 320 })
          : o.to === undefined
            ? def.url
            : httpUrl(o.to, `${p}.to`)
      return {
        name: str(o.name, `${p}.name`, { pattern: NAME, what: 'a name of letters, digits, . _ -' }),
        roles: list(o.roles, `${p}.roles`, (r, rp) => str(r, rp, { max: 64 }), { optional: true }),
        channel: ch,
        to,
      }
    },
    { optional: true },
  )
  const names = new Set<string>()
  contacts.forEach((k, i) => {
    if (names.has(k.name))
      throw new NotifyConfigError(`$.contacts[${i}].name`, `duplicate contact name ${JSON.stringify(k.name)}`)
    names.add(k.name)
  })
  const contactRef = (x: unknown, p: string) => {
    const n = str(x, p)
    if (!names.has(n)) throw new NotifyConfigError(p, `no contact named ${JSON.stringify(n)} in $.contacts`)
    return n
  }
  const ruleIds = new Set<string>()
  const rules = list(
    c.rules,
    '$.rules',
    (x, p) => {
      const o = obj(x, p, ['id', 'severities', 'shipments', 'roles', 'contacts', 'escalation'])
      const id = str(o.id, `${p}.id`, { pattern: NAME, what: 'an id of letters, digits, . _ -' })
      if (ruleIds.has(id)) throw new NotifyConfigError(`${p}.id`, `duplicate rule id ${JSON.stringify(id)}`)
      ruleIds.add(id)
      const severities = list(
        o.severities,
        `${p}.severities`,
        (s, sp) => {
          if (!SEVERITIES.includes(s as Severity))
            throw new NotifyConfigError(sp, `expected one of ${SEVERITIES.join(', ')}, got ${JSON.stringify(s)}`)
          return s as Severity
        },
        { min: 1 },
      )
      const shipments =
        o.shipments === undefined || o.shipments === null
          ? null
          : list(o.shipments, `${p}.shipments`, (s, sp) => str(s, sp, { max: 100 }), { min: 1 })
      const roles = list(
        o.roles,
        `${p}.roles`,
        (r, rp) => {
          const role = str(r, rp, { max: 64 })
          if (!contacts.some((k) => k.roles.includes(role)))
            throw new NotifyConfigError(rp, `no contact has the role ${JSON.stringify(role)}`)
          return role
        },
        { optional: true },
      )
      const direct = list(o.contacts, `${p}.contacts`, contactRef, { optional: true })
      if (roles.length === 0 && direct.length === 0)
        throw new NotifyConfigError(p, 'a rule needs "roles" or "contacts" (whom to notify)')
      let escalation: Rule['escalation'] = null
      if (o.escalation !== undefined && o.escalation !== null) {
        const e = obj(o.escalation, `${p}.escalation`, ['afterMs', 'contacts'])
        escalation = {
          afterMs: int(e.afterMs, `${p}.escalation.afterMs`, 1000, 30 * 86_400_000),
          contacts: list(e.contacts, `${p}.escalation.contacts`, contactRef, { min: 1 }),
        }
      }
      return { id, severities, shipments, roles, contacts: direct, escalation }
    },
    { optional: true },
  )
  return {
    baseUrl: c.baseUrl === undefined || c.baseUrl === null ? null : httpUrl(c.baseUrl, '$.baseUrl').replace(/\/+$/, ''),
    queueLimit: int(c.queueLimit, '$.queueLimit', 1, 100_000, 1000),
    channels,
    contacts,
    rules,
  }
}

/** The configuration with every secret replaced by REDACTED (what GET shows). */
export function redact(c: NotifyConfig): NotifyConfig {
  const channels: Record<string, Channel> = {}
  for (const [n, ch] of Object.entries(c.channels)) {
    channels[n] =
      ch.type === 'webhook'
        ? { ...ch, secret: REDACTED }
        : { ...ch, auth: ch.auth ? { ...ch.auth, pass: REDACTED } : null }
  }
  return { ...c, channels }
}

/**
 * A new configuration whose REDACTED secrets are taken from `current` (same channel name and type).
 * Throws when a redacted secret has nothing to keep.
 */
export function keepSecrets(next: NotifyConfig, current: NotifyConfig): NotifyConfig {
  const channels: Record<string, Channel> = {}
  for (const [n, ch] of Object.entries(next.channels)) {
    const old = current.channels[n]
    if (ch.type === 'webhook' && ch.secret === REDACTED) {
      if (old?.type !== 'webhook')
        throw new NotifyConfigError(
          `$.channels.${n}.secret`,
          `"${REDACTED}" keeps the stored secret, but no webhook channel ${JSON.stringify(n)} is stored; give the secret`,
        )
      channels[n] = { ...ch, secret: old.secret }
    } else if (ch.type === 'smtp' && ch.auth?.pass === REDACTED) {
      if (old?.type !== 'smtp' || !old.auth)
        throw new NotifyConfigError(
          `$.channels.${n}.auth.pass`,
          `"${REDACTED}" keeps the stored password, but no SMTP channel ${JSON.stringify(n)} with a password is stored; give the password`,
        )
      channels[n] = { ...ch, auth: { ...ch.auth, pass: old.auth.pass } }
    } else channels[n] = ch
  }
  return { ...next, channels }
}
