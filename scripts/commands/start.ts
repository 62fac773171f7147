/**
 * `coldproof start`: the whole system in one process (what `npm start` runs).
 * Flags win over environment variables, which win over the embedded defaults.
 */
import { Command, InvalidArgumentError } from 'commander'
import { resolve } from 'node:path'
import { startSystem } from '../system.ts'
import { dropOnErrorStream, guardStandardStreams } from '../output-guard.ts'
import { describeStartError } from '../start-errors.ts'
import { parseWitnessTargets } from '../../ledger/witness/index.ts'
import { runClusterMode, type ClusterFlags } from './start-cluster.ts'

function port(value: string, name: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError(`${name} must be a port number 0..65535, got "${value}"`)
  return n
}

function positive(value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`must be a positive number, got "${value}"`)
  return n
}

function brokerUrl(value: string): string {
  let u: URL
  try { u = new URL(value) } catch { throw new InvalidArgumentError(`"${value}" is not a URL (expected mqtt://host:port or mqtts://host:port)`) }
  if (!['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'ssl:'].includes(u.protocol)) throw new InvalidArgumentError(`broker URL must use mqtt:, mqtts:, ws: or wss:, got "${u.protocol}"`)
  return value
}

function publicOrigin(value: string): string {
  let u: URL | null = null
  try { u = new URL(value) } catch { /* below */ }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.origin !== value.replace(/\/$/, '')) {
    throw new InvalidArgumentError(`expected an origin such as https://coldproof.example.com (scheme, host, optional port; no path), got "${value}"`)
  }
  return u.origin
}

/** Demo logins on a demo start; on a production start no password is ever printed. */
function loginLines(sys: { logins: Record<string, { username: string; password: string }> | null; userCount: number }, dataDir: string): string[] {
  if (sys.logins) return ['Demo logins:', ...Object.entries(sys.logins).map(([role, l]) => `  ${role.padEnd(10)} ${l.username} / ${l.password}`)]
  if (sys.userCount > 0) return [`Users: ${sys.userCount} (no demo logins; manage users on the dashboard's Users page).`]
  return [
    'No users yet. Create the first admin (prints a generated password once):',
    `  coldproof user add <name> --role admin --data ${dataDir}`,
    'The running server picks the new user up at the first sign-in.',
  ]
}

/** Ctrl-C stops within 5 s: the watchdog leaves room for the process to exit. */
const SHUTDOWN_LIMIT_MS = 4500

export function register(program: Command): void {
  const env = process.env
  program
    .command('start')
    .description('run the broker, ingest, ledger, dashboard and a demo fleet in one process')
    .option('--port <port>', 'dashboard HTTP port (env COLDPROOF_PORT)', (v) => port(v, '--port'), env.COLDPROOF_PORT ? port(env.COLDPROOF_PORT, 'COLDPROOF_PORT') : 8080)
    .option('--mqtt-port <port>', 'embedded broker port (env COLDPROOF_MQTT_PORT)', (v) => port(v, '--mqtt-port'), env.COLDPROOF_MQTT_PORT ? port(env.COLDPROOF_MQTT_PORT, 'COLDPROOF_MQTT_PORT') : 1883)
    .option('--host <host>', 'listen address (env COLDPROOF_HOST)', env.COLDPROOF_HOST ?? '127.0.0.1')
    .option('--data <dir>', 'data directory (env COLDPROOF_DATA)', env.COLDPROOF_DATA ?? '.data')
    .option('--broker <url>', 'use an external MQTT broker instead of the embedded one (env COLDPROOF_BROKER_URL)', brokerUrl, env.COLDPROOF_BROKER_URL)
    .option('--broker-username <name>', 'the ingest\'s username on the external broker (env COLDPROOF_BROKER_USERNAME)', env.COLDPROOF_BROKER_USERNAME)
    .option('--broker-password <password>', 'the ingest\'s password on the external broker (env COLDPROOF_BROKER_PASSWORD)', env.COLDPROOF_BROKER_PASSWORD)
    .option('--audience <name>', 'the embedded broker\'s name, signed into every device login token (env COLDPROOF_MQTT_AUDIENCE)', env.COLDPROOF_MQTT_AUDIENCE ?? 'coldproof')
    .option('--no-demo', 'do not run the demo fleet (env COLDPROOF_DEMO=0)')
    .option('--scenario <file|name>', 'run this scenario instead of the demo fleet')
    .option('--accel <factor>', 'time acceleration of the demo fleet', positive)
    .option('--tiles <dir>', 'keep the ledger exported as C2SP tlog-tiles in this directory and serve it under /tiles/ (env COLDPROOF_TILES)', env.COLDPROOF_TILES)
    .option('--witness <"url vkey"...>', 'submit each logged checkpoint to this tlog-witness (its URL and verifier key, space-separated; repeatable; env COLDPROOF_WITNESSES, comma-separated)', env.COLDPROOF_WITNESSES ? [env.COLDPROOF_WITNESSES] : undefined)
    .option('--public-origin <url>', 'the dashboard\'s public URL behind a proxy, accepted as an origin of writes (env COLDPROOF_PUBLIC_ORIGIN)', publicOrigin, env.COLDPROOF_PUBLIC_ORIGIN ? publicOrigin(env.COLDPROOF_PUBLIC_ORIGIN) : undefined)
    .option('--cluster <urls>', 'cluster mode: ingest from this NATS JetStream cluster (comma-separated nats:// URLs) instead of the embedded broker (env COLDPROOF_CLUSTER; docs/SCALING.md)', env.COLDPROOF_CLUSTER)
    .option('--partitions <n>', 'cluster mode: ingest partitions, 1, 2, 4, 8 or 16 (env COLDPROOF_PARTITIONS)', env.COLDPROOF_PARTITIONS ?? '2')
    .option('--replicas <n>', 'cluster mode: JetStream replicas of the readings streams (env COLDPROOF_REPLICAS)', env.COLDPROOF_REPLICAS ?? '3')
    .option('--cluster-user <name>', 'cluster mode: the ingest\'s NATS user (env COLDPROOF_CLUSTER_USER)', env.COLDPROOF_CLUSTER_USER)
    .option('--cluster-password <password>', 'cluster mode: the ingest\'s NATS password (env COLDPROOF_CLUSTER_PASSWORD)', env.COLDPROOF_CLUSTER_PASSWORD)
    .option('--register <file>', 'cluster mode: register the devices of this provisioning JSON (coldproof sim --print-provisioning)')
    .option('--notify-config <file>', 'alarm notification rules, JSON (env COLDPROOF_NOTIFY_CONFIG; default <data>/notifications.json)', env.COLDPROOF_NOTIFY_CONFIG)
    .action(async (o: { port: number; mqttPort: number; host: string; data: string; broker?: string; brokerUsername?: string; brokerPassword?: string; audience: string; demo: boolean; scenario?: string; accel?: number; publicOrigin?: string; witness?: string[]; tiles?: string; notifyConfig?: string } & ClusterFlags) => {
      if (o.cluster) return runClusterMode(o)
      const demo = o.demo && env.COLDPROOF_DEMO !== '0'
      // Output on a full disk drops lines; it never ends the ledger.
      guardStandardStreams()
      let sys: Awaited<ReturnType<typeof startSystem>>
      try {
        sys = await startSystem({
          dataDir: resolve(o.data),
          host: o.host,
          httpPort: o.port,
          mqttPort: o.mqttPort,
          brokerUrl: o.broker,
          brokerUsername: o.brokerUsername,
          brokerPassword: o.brokerPassword,
          audience: o.audience,
          demo: demo ? 'full' : false,
          scenario: o.scenario,
          accel: o.accel,
          live: true,
          quiet: true,
          // Refusals and quarantines stay visible: JSON lines on stderr.
          logSecurity: true,
          allowedOrigins: o.publicOrigin ? [o.publicOrigin] : undefined,
          witnesses: o.witness ? parseWitnessTargets(o.witness) : undefined,
          tilesDir: o.tiles ? resolve(o.tiles) : undefined,
          notifyConfig: o.notifyConfig ? resolve(o.notifyConfig) : undefined,
        })
      } catch (e) {
        // One line, no stack trace: the problem and the fix (a locked ledger, a busy port, a damaged ledger).
        process.stderr.write(describeStartError(e, { dataDir: resolve(o.data), host: o.host, httpPort: o.port, mqttPort: o.mqttPort, externalBroker: Boolean(o.broker) }) + '\n')
        process.exit(1)
      }
      const lines = [
        '',
        'ColdProof is running.',
        `  dashboard  ${sys.url}`,
        `  MQTT       ${sys.mqttUrl}${o.broker ? ' (external broker)' : ` (embedded broker; device login audience "${sys.broker?.audience}")`}`,
        `  data       ${resolve(o.data)}`,
        `  ledger key ${sys.ledger.verifierKey}`,
        '',
        ...loginLines(sys, resolve(o.data)),
        '',
        sys.fleet ? `Demo fleet: ${sys.fleet.devices.length} devices; the last day replays fast, then readings arrive in real time.` : 'No demo fleet.',
        'Press Ctrl-C to stop.',
      ]
      console.log(lines.join('\n'))
      let stopping = false
      const stop = async (signal: string) => {
        if (stopping) {
          // A second Ctrl-C: the user does not want to wait. Every ledger write is already durable.
          // Written synchronously: process.exit drops what is still buffered for a pipe.
          dropOnErrorStream(1).write(`\n${signal} again: exiting now without waiting for the shutdown to finish\n`)
          process.exit(130)
        }
        stopping = true
        const started = Date.now()
        console.log(`\n${signal}: shutting down… (press Ctrl-C again to exit at once)`)
        // The promise is to stop within 5 s: whatever still hangs then is cut.
        const watchdog = setTimeout(() => {
          dropOnErrorStream(1).write(`shutdown did not finish within ${SHUTDOWN_LIMIT_MS / 1000} s; exiting anyway (the ledger's committed entries are durable)\n`)
          process.exit(1)
        }, SHUTDOWN_LIMIT_MS)
        watchdog.unref()
        await sys.close()
        console.log(`stopped cleanly in ${((Date.now() - started) / 1000).toFixed(1)} s; the ledger continues on the next start`)
        process.exit(0)
      }
      process.on('SIGINT', () => void stop('SIGINT'))
      process.on('SIGTERM', () => void stop('SIGTERM'))
    })
}
