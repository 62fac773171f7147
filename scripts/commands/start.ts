/**
 * `coldproof start`: the whole system in one process (what `npm start` runs).
 * Flags win over environment variables, which win over the embedded defaults.
 */
import type { Command } from 'commander'
import { readFileSync } from 'node:fs'
import { startSystem } from '../system.ts'
import { dropOnErrorStream, guardStandardStreams } from '../output-guard.ts'
import { describeStartError } from '../start-errors.ts'
import { parseWitnessTargets } from '../../ledger/witness/index.ts'
import { runClusterMode } from './start-cluster.ts'
import { addStartOptions, resolveStartConfig, ConfigError, type StartConfig } from '../start-config/index.ts'
import { checkWebAssets } from '../../dashboard/build-web.ts'

/** Demo logins on a demo start; on a production start no password is ever printed. */
function loginLines(
  sys: { logins: Record<string, { username: string; password: string }> | null; userCount: number },
  dataDir: string,
): string[] {
  if (sys.logins)
    return [
      'Demo logins:',
      ...Object.entries(sys.logins).map(([role, l]) => `  ${role.padEnd(10)} ${l.username} / ${l.password}`),
    ]
  if (sys.userCount > 0)
    return [`Users: ${sys.userCount} (no demo logins; manage users on the dashboard's Users page).`]
  return [
    'No users yet. Create the first admin (prints a generated password once):',
    `  coldproof user add <name> --role admin --data ${dataDir}`,
    'The running server picks the new user up at the first sign-in.',
  ]
}

/** Ctrl-C stops within 5 s: the watchdog leaves room for the process to exit. */
const SHUTDOWN_LIMIT_MS = 4500

export function register(program: Command): void {
  const cmd = program
    .command('start')
    .description(
      'run the broker, ingest, ledger, dashboard and a demo fleet in one process. Settings: flag > environment > --config file > default (docs/OPERATIONS.md, "Settings of coldproof start")',
    )
  addStartOptions(cmd).action(async (flags: Record<string, unknown>) => {
    let o: StartConfig
    try {
      o = resolveStartConfig({ flags, fromCli: (key) => cmd.getOptionValueSource(key) === 'cli' }).config
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e
      process.stderr.write(`coldproof start: ${e.code}: ${e.message}\n`)
      process.exit(2)
    }
    if (o.cluster) return runClusterMode(o as StartConfig & { cluster: string })
    // The browser bundle is built by `npm install` / `npm run build`, never here.
    const assets = checkWebAssets()
    if (!assets.ok) {
      process.stderr.write(`coldproof start: ${assets.code}: ${assets.message}\n`)
      process.exit(1)
    }
    // Output on a full disk drops lines; it never ends the ledger.
    guardStandardStreams()
    let sys: Awaited<ReturnType<typeof startSystem>>
    try {
      sys = await startSystem({
        dataDir: o.data,
        host: o.host,
        httpPort: o.port,
        mqttPort: o.mqttPort,
        brokerUrl: o.broker,
        brokerUsername: o.brokerUsername,
        brokerPassword: o.brokerPassword,
        audience: o.audience,
        demo: o.demo ? 'full' : false,
        scenario: o.scenario,
        accel: o.accel,
        live: true,
        quiet: true,
        // Refusals and quarantines stay visible: JSON lines on stderr.
        logSecurity: true,
        allowedOrigins: o.publicOrigin ? [o.publicOrigin] : undefined,
        witnesses: o.witness ? parseWitnessTargets(o.witness) : undefined,
        tilesDir: o.tiles,
        notifyConfig: o.notifyConfig,
        metricsToken: o.metricsToken,
        trustProxy: o.trustProxy,
        https: o.tlsCert && o.tlsKey ? { cert: readFileSync(o.tlsCert), key: readFileSync(o.tlsKey) } : undefined,
        mqttTls:
          o.mqttTlsCert && o.mqttTlsKey
            ? { cert: readFileSync(o.mqttTlsCert), key: readFileSync(o.mqttTlsKey) }
            : undefined,
      })
    } catch (e) {
      // One line, no stack trace: the problem and the fix (a locked ledger, a busy port, a damaged ledger).
      process.stderr.write(
        describeStartError(e, {
          dataDir: o.data,
          host: o.host,
          httpPort: o.port,
          mqttPort: o.mqttPort,
          externalBroker: Boolean(o.broker),
        }) + '\n',
      )
      process.exit(1)
    }
    const lines = [
      '',
      'ColdProof is running.',
      `  dashboard  ${sys.url}`,
      `  MQTT       ${sys.mqttUrl}${o.broker ? ' (external broker)' : ` (embedded broker; device login audience "${sys.broker?.audience}")`}`,
      `  data       ${o.data}`,
      `  ledger key ${sys.ledger.verifierKey}`,
      '',
      ...loginLines(sys, o.data),
      '',
      sys.fleet
        ? `Demo fleet: ${sys.fleet.devices.length} devices; the last day replays fast, then readings arrive in real time.`
        : 'No demo fleet.',
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
        dropOnErrorStream(1).write(
          `shutdown did not finish within ${SHUTDOWN_LIMIT_MS / 1000} s; exiting anyway (the ledger's committed entries are durable)\n`,
        )
        process.exit(1)
      }, SHUTDOWN_LIMIT_MS)
      watchdog.unref()
      await sys.close()
      console.log(
        `stopped cleanly in ${((Date.now() - started) / 1000).toFixed(1)} s; the ledger continues on the next start`,
      )
      process.exit(0)
    }
    process.on('SIGINT', () => void stop('SIGINT'))
    process.on('SIGTERM', () => void stop('SIGTERM'))
  })
}
