/**
 * Every setting of `coldproof start`, described once as data. The command's
 * flags and `--help` text, the environment variables, the JSON config file
 * and the validation all come from SETTINGS, and the settings table in
 * docs/OPERATIONS.md is checked against it (scripts/test/start-config.test.ts).
 *
 * Precedence, highest first: flag > environment variable > config file
 * (`--config <file>`) > default. An empty environment variable counts as unset.
 */
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { createSecureContext } from 'node:tls'
import { Option, type Command } from 'commander'
import { parseWitnessTargets } from '../ledger/witness/index.ts'

export type ConfigErrorCode = 'ERR_CONFIG_INVALID' | 'ERR_CONFIG_FILE'

/** A setting with a bad value, or an unreadable config file; the message names the setting and where its value came from. */
export class ConfigError extends Error {
  constructor(
    readonly code: ConfigErrorCode,
    message: string,
    readonly setting?: string,
    readonly source?: string,
  ) {
    super(message)
    this.name = 'ConfigError'
  }
}

/** Where a value came from: `flag --port`, `env COLDPROOF_PORT`, `config file /etc/coldproof.json ("port")`, `default`. */
export type Source = string

interface ParseContext {
  /** Relative paths resolve against this: the working directory, or the config file's directory. */
  baseDir: string
}

/** Parses one raw value (a string from a flag or the environment, any JSON value from the file); throws a plain message. */
type Parser<T> = (raw: unknown, ctx: ParseContext) => T

export interface Setting<K extends string = string, T = unknown> {
  /** Property of StartConfig and key in the config file. */
  key: K
  /** Commander flag, e.g. '--port <port>'; a boolean that defaults to true is given as its negation ('--no-demo'). */
  flag: string
  env?: string
  default?: T
  /** How the default reads in --help and the docs when it is not a plain value. */
  defaultText?: string
  description: string
  /** Only read in cluster mode (--cluster). */
  cluster?: boolean
  /** Accepted more than once on the command line; comma-separated in the environment; an array in the file. */
  repeatable?: boolean
  /** A password or token: flags show in `ps`, so the help points to the environment or the file. */
  secret?: boolean
  parse: Parser<T>
}

const fail = (message: string): never => {
  throw new Error(message)
}

const str = (raw: unknown): string => {
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw)
  if (typeof raw !== 'string') return fail(`expected a string, got ${JSON.stringify(raw)}`)
  if (raw.trim() === '') return fail('must not be empty')
  return raw
}

const text: Parser<string> = (raw) => str(raw)

const path: Parser<string> = (raw, ctx) => resolve(ctx.baseDir, str(raw))

const port: Parser<number> = (raw) => {
  const s = str(raw)
  if (!/^\d+$/.test(s) || Number(s) > 65535) fail(`must be a port number 0..65535, got "${s}"`)
  return Number(s)
}

const positive: Parser<number> = (raw) => {
  const n = Number(str(raw))
  if (!Number.isFinite(n) || n <= 0) fail(`must be a positive number, got "${String(raw)}"`)
  return n
}

const integerIn =
  (allowed: readonly number[], what: string): Parser<number> =>
  (raw) => {
    const s = str(raw)
    if (!/^\d+$/.test(s) || !allowed.includes(Number(s))) fail(`must be ${what}, got "${s}"`)
    return Number(s)
  }

const bool: Parser<boolean> = (raw) => {
  if (typeof raw === 'boolean') return raw
  const s = typeof raw === 'string' ? raw.trim().toLowerCase() : ''
  if (['1', 'true', 'yes', 'on'].includes(s)) return true
  if (['0', 'false', 'no', 'off'].includes(s)) return false
  return fail(`must be true or false (1/0, yes/no), got ${JSON.stringify(raw)}`)
}

const brokerUrl: Parser<string> = (raw) => {
  const s = str(raw)
  let u: URL
  try {
    u = new URL(s)
  } catch {
    return fail(`"${s}" is not a URL (expected mqtt://host:port or mqtts://host:port)`)
  }
  if (!['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'ssl:'].includes(u.protocol))
    fail(`must use mqtt:, mqtts:, ws: or wss:, got "${u.protocol}"`)
  return s
}

const origin: Parser<string> = (raw) => {
  const s = str(raw)
  let u: URL | null = null
  try {
    u = new URL(s)
  } catch {
    /* below */
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.origin !== s.replace(/\/$/, '')) {
    fail(`expected an origin such as https://coldproof.example.com (scheme, host, optional port; no path), got "${s}"`)
  }
  return u!.origin
}

/** A bearer secret: long enough that guessing it over HTTP is hopeless. */
const token: Parser<string> = (raw) => {
  const s = str(raw)
  if (s.length < 16) fail(`must be at least 16 characters (got ${s.length}); e.g. openssl rand -base64 24`)
  if (/\s/.test(s)) fail('must not contain white space')
  return s
}

/** A readable PEM file (certificate or key); the pair is checked together in crossCheck(). */
const pemFile =
  (kind: 'CERTIFICATE' | 'PRIVATE KEY'): Parser<string> =>
  (raw, ctx) => {
    const p = path(raw, ctx)
    let body: string
    try {
      body = readFileSync(p, 'utf8')
    } catch (e) {
      return fail(`cannot read ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
    }
    if (!new RegExp(`-----BEGIN [A-Z ]*${kind}-----`).test(body))
      fail(`${p} holds no PEM ${kind.toLowerCase()} (-----BEGIN ${kind}-----)`)
    return p
  }

const witnesses: Parser<string[]> = (raw) => {
  const list = Array.isArray(raw) ? raw.map(str) : [str(raw)]
  parseWitnessTargets(list)
  return list
}

const s = <T>(x: Setting<keyof StartConfig, T>): Setting<keyof StartConfig, T> => x

/** The settings, in --help order. The config file's keys are the `key`s. */
export const SETTINGS = [
  s({
    key: 'config',
    flag: '--config <file>',
    env: 'COLDPROOF_CONFIG',
    parse: path,
    description:
      'read settings from this JSON file ({ "port": 8080, "metricsToken": "…" }; keys as in this table); flags and environment variables win over it',
  }),
  s({
    key: 'port',
    flag: '--port <port>',
    env: 'COLDPROOF_PORT',
    default: 8080,
    parse: port,
    description: 'dashboard HTTP(S) port; 0 picks a free one',
  }),
  s({
    key: 'mqttPort',
    flag: '--mqtt-port <port>',
    env: 'COLDPROOF_MQTT_PORT',
    default: 1883,
    parse: port,
    description: 'embedded broker port; 0 picks a free one',
  }),
  s({
    key: 'host',
    flag: '--host <host>',
    env: 'COLDPROOF_HOST',
    default: '127.0.0.1',
    parse: text,
    description: 'listen address of the dashboard and the embedded broker',
  }),
  s({
    key: 'data',
    flag: '--data <dir>',
    env: 'COLDPROOF_DATA',
    default: '.data',
    parse: path,
    description: 'data directory: ledger, users, device state',
  }),
  s({
    key: 'demo',
    flag: '--no-demo',
    env: 'COLDPROOF_DEMO',
    default: true,
    parse: bool,
    description: 'run the demo fleet and seed the demo logins (--no-demo or COLDPROOF_DEMO=0: a production start)',
  }),
  s({
    key: 'scenario',
    flag: '--scenario <file|name>',
    env: 'COLDPROOF_SCENARIO',
    parse: text,
    description: 'run this scenario (file or built-in name) instead of the demo fleet',
  }),
  s({
    key: 'accel',
    flag: '--accel <factor>',
    env: 'COLDPROOF_ACCEL',
    parse: positive,
    description: 'time acceleration of the demo fleet',
  }),
  s({
    key: 'audience',
    flag: '--audience <name>',
    env: 'COLDPROOF_MQTT_AUDIENCE',
    default: 'coldproof',
    parse: text,
    description: "the embedded broker's name, signed into every device login token",
  }),
  s({
    key: 'mqttTlsCert',
    flag: '--mqtt-tls-cert <file>',
    env: 'COLDPROOF_MQTT_TLS_CERT',
    parse: pemFile('CERTIFICATE'),
    description: 'PEM certificate chain: the embedded broker speaks mqtts only (with --mqtt-tls-key)',
  }),
  s({
    key: 'mqttTlsKey',
    flag: '--mqtt-tls-key <file>',
    env: 'COLDPROOF_MQTT_TLS_KEY',
    parse: pemFile('PRIVATE KEY'),
    description: 'PEM private key of --mqtt-tls-cert',
  }),
  s({
    key: 'broker',
    flag: '--broker <url>',
    env: 'COLDPROOF_BROKER_URL',
    parse: brokerUrl,
    description: 'use an external MQTT broker (mqtt:// or mqtts://) instead of the embedded one',
  }),
  s({
    key: 'brokerUsername',
    flag: '--broker-username <name>',
    env: 'COLDPROOF_BROKER_USERNAME',
    parse: text,
    description: "the ingest's username on the external broker",
  }),
  s({
    key: 'brokerPassword',
    flag: '--broker-password <password>',
    env: 'COLDPROOF_BROKER_PASSWORD',
    parse: text,
    secret: true,
    description: "the ingest's password on the external broker",
  }),
  s({
    key: 'tlsCert',
    flag: '--tls-cert <file>',
    env: 'COLDPROOF_TLS_CERT',
    parse: pemFile('CERTIFICATE'),
    description: 'PEM certificate chain: the dashboard serves HTTPS (with --tls-key)',
  }),
  s({
    key: 'tlsKey',
    flag: '--tls-key <file>',
    env: 'COLDPROOF_TLS_KEY',
    parse: pemFile('PRIVATE KEY'),
    description: 'PEM private key of --tls-cert',
  }),
  s({
    key: 'publicOrigin',
    flag: '--public-origin <url>',
    env: 'COLDPROOF_PUBLIC_ORIGIN',
    parse: origin,
    description: "the dashboard's public URL behind a proxy, accepted as an origin of writes",
  }),
  s({
    key: 'trustProxy',
    flag: '--trust-proxy',
    env: 'COLDPROOF_TRUST_PROXY',
    default: false,
    parse: bool,
    description:
      'trust X-Forwarded-For/-Proto/-Host from a reverse proxy (client addresses, Secure cookies); only behind one',
  }),
  s({
    key: 'metricsToken',
    flag: '--metrics-token <token>',
    env: 'COLDPROOF_METRICS_TOKEN',
    parse: token,
    secret: true,
    description: 'bearer token a Prometheus scraper may send to /metrics (at least 16 characters)',
  }),
  s({
    key: 'tiles',
    flag: '--tiles <dir>',
    env: 'COLDPROOF_TILES',
    parse: path,
    description: 'keep the ledger exported as C2SP tlog-tiles in this directory, served under /tiles/',
  }),
  s({
    key: 'witness',
    flag: '--witness <"url vkey"...>',
    env: 'COLDPROOF_WITNESSES',
    repeatable: true,
    parse: witnesses,
    description: 'submit each logged checkpoint to this tlog-witness ("<url> <verifier key>"; repeatable)',
  }),
  s({
    key: 'notifyConfig',
    flag: '--notify-config <file>',
    env: 'COLDPROOF_NOTIFY_CONFIG',
    defaultText: '<data>/notifications.json',
    parse: path,
    description: 'alarm notification rules, JSON',
  }),
  s({
    key: 'cluster',
    flag: '--cluster <urls>',
    env: 'COLDPROOF_CLUSTER',
    cluster: true,
    parse: text,
    description:
      'cluster mode: ingest from this NATS JetStream cluster (comma-separated nats:// URLs) instead of the embedded broker (docs/SCALING.md)',
  }),
  s({
    key: 'partitions',
    flag: '--partitions <n>',
    env: 'COLDPROOF_PARTITIONS',
    cluster: true,
    default: 2,
    parse: integerIn([1, 2, 4, 8, 16], '1, 2, 4, 8 or 16'),
    description: 'cluster mode: ingest partitions',
  }),
  s({
    key: 'replicas',
    flag: '--replicas <n>',
    env: 'COLDPROOF_REPLICAS',
    cluster: true,
    default: 3,
    parse: integerIn([1, 2, 3, 4, 5], "1..5 (JetStream's limit)"),
    description: 'cluster mode: JetStream replicas of the readings streams',
  }),
  s({
    key: 'clusterUser',
    flag: '--cluster-user <name>',
    env: 'COLDPROOF_CLUSTER_USER',
    cluster: true,
    parse: text,
    description: "cluster mode: the ingest's NATS user",
  }),
  s({
    key: 'clusterPassword',
    flag: '--cluster-password <password>',
    env: 'COLDPROOF_CLUSTER_PASSWORD',
    cluster: true,
    secret: true,
    parse: text,
    description: "cluster mode: the ingest's NATS password",
  }),
  s({
    key: 'register',
    flag: '--register <file>',
    env: 'COLDPROOF_REGISTER',
    cluster: true,
    parse: path,
    description: 'cluster mode: register the devices of this provisioning JSON (coldproof sim --print-provisioning)',
  }),
] as const satisfies readonly Setting<keyof StartConfig>[]

/** The resolved settings (SETTINGS describes each; the test checks the two list the same keys). */
export interface StartConfig {
  config?: string
  port: number
  mqttPort: number
  host: string
  data: string
  demo: boolean
  scenario?: string
  accel?: number
  audience: string
  mqttTlsCert?: string
  mqttTlsKey?: string
  broker?: string
  brokerUsername?: string
  brokerPassword?: string
  tlsCert?: string
  tlsKey?: string
  publicOrigin?: string
  trustProxy: boolean
  metricsToken?: string
  tiles?: string
  witness?: string[]
  notifyConfig?: string
  cluster?: string
  partitions: number
  replicas: number
  clusterUser?: string
  clusterPassword?: string
  register?: string
}

/** Commander's property name for a flag ('--mqtt-port <port>' -> mqttPort, '--no-demo' -> demo). */
function attributeOf(flag: string): string {
  const long = flag.split(/[ ,]/)[0].replace(/^--(no-)?/, '')
  return long.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())
}

/** The long flag alone, as error messages name it: '--metrics-token'. */
export function flagName(setting: Pick<Setting, 'flag'>): string {
  return setting.flag.split(' ')[0]
}

/** The default as --help and the docs show it. */
export function defaultText(setting: Pick<Setting, 'default' | 'defaultText'>): string | undefined {
  if (setting.defaultText !== undefined) return setting.defaultText
  return setting.default === undefined ? undefined : String(setting.default)
}

/** Help text of one setting: description, then its environment variable and default. */
export function helpText(setting: Setting): string {
  const extra = [
    setting.env ? `env ${setting.env}` : '',
    defaultText(setting) !== undefined ? `default ${defaultText(setting)}` : '',
  ]
  if (setting.secret) extra.push('prefer the env or the config file: flags show in ps')
  const tail = extra.filter(Boolean).join('; ')
  return tail ? `${setting.description} (${tail})` : setting.description
}

/** Adds every setting to the command as an option without a commander default, so an unset flag leaves room for env, file and default. */
export function addStartOptions(cmd: Command): Command {
  for (const setting of SETTINGS as readonly Setting[]) {
    if (attributeOf(setting.flag) !== setting.key)
      throw new Error(`start-config: flag ${setting.flag} does not map to key ${setting.key}`)
    const o = new Option(setting.flag, helpText(setting))
    cmd.addOption(o)
  }
  return cmd
}

function envValue(env: NodeJS.ProcessEnv, setting: Setting): string | undefined {
  const v = setting.env ? env[setting.env] : undefined
  return v === undefined || v === '' ? undefined : v
}

function parseWith(setting: Setting, raw: unknown, source: Source, ctx: ParseContext): unknown {
  try {
    return setting.parse(raw, ctx)
  } catch (e) {
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `${flagName(setting)} (from ${source}): ${(e as Error).message}`,
      setting.key,
      source,
    )
  }
}

/** The config file: a JSON object whose keys are settings' keys. */
function readConfigFile(file: string, source: Source): Record<string, unknown> {
  let body: string
  try {
    body = readFileSync(file, 'utf8')
  } catch (e) {
    throw new ConfigError(
      'ERR_CONFIG_FILE',
      `--config (from ${source}): cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      'config',
      source,
    )
  }
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch (e) {
    throw new ConfigError(
      'ERR_CONFIG_FILE',
      `--config (from ${source}): ${file} is not JSON: ${(e as Error).message}`,
      'config',
      source,
    )
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ConfigError(
      'ERR_CONFIG_FILE',
      `--config (from ${source}): ${file} must hold a JSON object of settings, e.g. { "port": 8080 }`,
      'config',
      source,
    )
  }
  const known = new Set<string>(SETTINGS.map((x) => x.key).filter((k) => k !== 'config'))
  for (const k of Object.keys(json)) {
    if (!known.has(k))
      throw new ConfigError(
        'ERR_CONFIG_FILE',
        `--config (from ${source}): ${file} has an unknown setting "${k}"; known settings: ${[...known].join(', ')}`,
        k,
        `config file ${file}`,
      )
  }
  return json as Record<string, unknown>
}

export interface ResolveInput {
  /** Commander's parsed options and, per key, whether the value came from the command line. */
  flags: Record<string, unknown>
  fromCli: (key: string) => boolean
  env?: NodeJS.ProcessEnv
  cwd?: string
}

export interface ResolvedConfig {
  config: StartConfig
  /** Where each set value came from (for messages and tests). */
  sources: Partial<Record<keyof StartConfig, Source>>
}

/** Resolves every setting: flag > env > config file > default; validates each value and the pairs that go together. */
export function resolveStartConfig({
  flags,
  fromCli,
  env = process.env,
  cwd = process.cwd(),
}: ResolveInput): ResolvedConfig {
  const here: ParseContext = { baseDir: cwd }
  const out: Record<string, unknown> = {}
  const sources: Record<string, Source> = {}
  const all = SETTINGS as readonly Setting[]
  const rawOf = (
    setting: Setting,
    file: Record<string, unknown>,
    fileName: string | undefined,
  ): { raw: unknown; source: Source; ctx: ParseContext } | undefined => {
    if (fromCli(setting.key) && flags[setting.key] !== undefined)
      return { raw: flags[setting.key], source: `flag ${flagName(setting)}`, ctx: here }
    const e = envValue(env, setting)
    if (e !== undefined) return { raw: setting.repeatable ? e.split(',') : e, source: `env ${setting.env}`, ctx: here }
    if (fileName && file[setting.key] !== undefined)
      return {
        raw: file[setting.key],
        source: `config file ${fileName} ("${setting.key}")`,
        ctx: { baseDir: dirname(fileName) },
      }
    return undefined
  }
  const configSetting = all.find((x) => x.key === 'config')!
  const cfg = rawOf(configSetting, {}, undefined)
  let file: Record<string, unknown> = {}
  let fileName: string | undefined
  if (cfg) {
    fileName = parseWith(configSetting, cfg.raw, cfg.source, cfg.ctx) as string
    file = readConfigFile(fileName, cfg.source)
    out.config = fileName
    sources.config = cfg.source
  }
  for (const setting of all) {
    if (setting.key === 'config') continue
    const r = rawOf(setting, file, fileName)
    if (r) {
      out[setting.key] = parseWith(setting, r.raw, r.source, r.ctx)
      sources[setting.key] = r.source
    } else if (setting.default !== undefined) {
      out[setting.key] = setting.key === 'data' ? resolve(cwd, String(setting.default)) : setting.default
      sources[setting.key] = 'default'
    }
  }
  const config = out as unknown as StartConfig
  crossCheck(config, sources)
  return { config, sources }
}

function invalid(key: keyof StartConfig, sources: Partial<Record<string, Source>>, problem: string): never {
  const setting = (SETTINGS as readonly Setting[]).find((x) => x.key === key)!
  const source = sources[key] ?? 'default'
  throw new ConfigError('ERR_CONFIG_INVALID', `${flagName(setting)} (from ${source}): ${problem}`, key, source)
}

/** Settings that only make sense together. */
function crossCheck(c: StartConfig, sources: Partial<Record<string, Source>>): void {
  for (const [cert, key] of [
    ['tlsCert', 'tlsKey'],
    ['mqttTlsCert', 'mqttTlsKey'],
  ] as const) {
    if (c[cert] && !c[key]) invalid(cert, sources, `needs ${key === 'tlsKey' ? '--tls-key' : '--mqtt-tls-key'} as well`)
    if (c[key] && !c[cert])
      invalid(key, sources, `needs ${cert === 'tlsCert' ? '--tls-cert' : '--mqtt-tls-cert'} as well`)
    if (c[cert] && c[key]) {
      try {
        createSecureContext({ cert: readFileSync(c[cert]!), key: readFileSync(c[key]!) })
      } catch (e) {
        invalid(key, sources, `does not go with the certificate ${c[cert]}: ${(e as Error).message}`)
      }
    }
  }
  if (c.broker && c.mqttTlsCert)
    invalid(
      'mqttTlsCert',
      sources,
      "applies to the embedded broker only; with --broker, TLS is the external broker's (use an mqtts:// URL)",
    )
  if (c.broker === undefined && (c.brokerUsername !== undefined || c.brokerPassword !== undefined)) {
    invalid(
      c.brokerUsername !== undefined ? 'brokerUsername' : 'brokerPassword',
      sources,
      'applies to an external broker only; give --broker <url> as well',
    )
  }
}

/** The settings table of docs/OPERATIONS.md, generated from SETTINGS. */
export function settingsTable(): string {
  const cell = (x: string) => x.replace(/\|/g, '\\|')
  const rows = (SETTINGS as readonly Setting[]).map((x) => {
    const d = defaultText(x)
    return `| \`${cell(x.flag)}\` | ${x.env ? `\`${x.env}\`` : ''} | \`${x.key}\` | ${d !== undefined ? `\`${cell(d)}\`` : ''} | ${cell(x.description)}${x.secret ? ' (secret)' : ''} |`
  })
  return [
    '| flag | environment | config file key | default | meaning |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n')
}
