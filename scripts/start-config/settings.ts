/**
 * Every setting of `coldproof start`, described once as data. The command's
 * flags and `--help` text (commander-options.ts), the environment variables,
 * the JSON config file and the validation (resolve.ts) all come from SETTINGS,
 * and the settings table in docs/OPERATIONS.md (settings-table.ts) is checked
 * against it (scripts/test/start-config.test.ts).
 */
import type { Parser } from './parsers.ts'
import { bool, brokerUrl, integerIn, origin, path, pemFile, port, positive, text, token, witnesses } from './parsers.ts'

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
