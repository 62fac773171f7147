/**
 * `coldproof start`: the whole system in one process (what `npm start` runs).
 * Flags win over environment variables, which win over the embedded defaults.
 */
import { Command, InvalidArgumentError } from 'commander'
import { resolve } from 'node:path'
import { startSystem } from '../system.ts'
import { guardStandardStreams } from '../output-guard.ts'

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
    .option('--no-demo', 'do not run the demo fleet (env COLDPROOF_DEMO=0)')
    .option('--scenario <file|name>', 'run this scenario instead of the demo fleet')
    .option('--accel <factor>', 'time acceleration of the demo fleet', positive)
    .action(async (o: { port: number; mqttPort: number; host: string; data: string; broker?: string; brokerUsername?: string; brokerPassword?: string; demo: boolean; scenario?: string; accel?: number }) => {
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
          demo: demo ? 'full' : false,
          scenario: o.scenario,
          accel: o.accel,
          live: true,
          quiet: true,
          // Refusals and quarantines stay visible: JSON lines on stderr.
          logSecurity: true,
        })
      } catch (e) {
        // One line, no stack trace: a damaged or missing ledger names itself and how to restore it.
        const code = (e as { code?: unknown }).code
        process.stderr.write(`coldproof start: ${typeof code === 'string' ? `${code}: ` : ''}${(e as Error).message}\n`)
        process.exit(1)
      }
      const lines = [
        '',
        'ColdProof is running.',
        `  dashboard  ${sys.url}`,
        `  MQTT       ${sys.mqttUrl}${o.broker ? ' (external broker)' : ' (embedded broker)'}`,
        `  data       ${resolve(o.data)}`,
        `  ledger key ${sys.ledger.verifierKey}`,
        '',
        'Demo logins:',
        ...Object.entries(sys.logins).map(([role, l]) => `  ${role.padEnd(10)} ${l.username} / ${l.password}`),
        '',
        sys.fleet ? `Demo fleet: ${sys.fleet.devices.length} devices; the last day replays fast, then readings arrive in real time.` : 'No demo fleet.',
        'Press Ctrl-C to stop.',
      ]
      console.log(lines.join('\n'))
      let stopping = false
      const stop = async (signal: string) => {
        if (stopping) return
        stopping = true
        console.log(`\n${signal}: shutting down…`)
        await sys.close()
        console.log('stopped cleanly; the ledger continues on the next start')
        process.exit(0)
      }
      process.on('SIGINT', () => void stop('SIGINT'))
      process.on('SIGTERM', () => void stop('SIGTERM'))
    })
}
