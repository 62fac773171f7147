/**
 * `coldproof sim`: runs a scenario's simulated loggers against an MQTT broker.
 *
 *   coldproof sim --broker mqtt://127.0.0.1:1883 --scenario demo-fleet --data .data/sim
 *   coldproof sim --scenario reefer-2-8 --data .data/sim --print-provisioning
 *   coldproof sim --broker mqtt://127.0.0.1:1883 --scenario tarmac-delay --data ./sim-data \
 *     --register --url http://127.0.0.1:8080 --token <admin API token>
 *
 * Keys, chain state and buffers live under --data, so running the same
 * command again continues each device's chain instead of starting a new one.
 */
import { InvalidArgumentError, type Command } from 'commander'
import { createFleet, loadScenario, SimError, DEFAULT_AUDIENCE, type Scenario } from '../../device-sim/index.ts'
import { guardStandardStreams } from '../output-guard.ts'
import { registerScenario, RegisterError } from '../sim-register.ts'
import { readFileSync } from 'node:fs'
import { deviceNatsPassword } from '../../broker/nats-auth.ts'
import { fromHex } from '../../ledger/protocol/index.ts'

interface SimOptions {
  broker?: string
  scenario: string
  data: string
  seed?: number
  accel?: number
  audience: string
  start?: number
  printProvisioning?: boolean
  drainTimeout: number
  receiptTimeout: number
  quiet?: boolean
  register?: boolean
  url?: string
  token?: string
  natsSecret?: string
}

const BROKER_PROTOCOLS = new Set(['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'tls:', 'ws:', 'wss:'])

export function parseBrokerUrl(v: string): string {
  let u: URL
  try {
    u = new URL(v)
  } catch {
    throw new InvalidArgumentError(`"${v}" is not a URL; expected e.g. mqtt://127.0.0.1:1883`)
  }
  if (!BROKER_PROTOCOLS.has(u.protocol))
    throw new InvalidArgumentError(`protocol ${u.protocol} is not an MQTT transport (use mqtt:, mqtts:, ws: or wss:)`)
  return v
}

export function parseSeed(v: string): number {
  const n = Number(v)
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n > 0xffffffff)
    throw new InvalidArgumentError(`seed must be an integer 0..4294967295, got "${v}"`)
  return n
}

export function parseAccel(v: string): number {
  if (v === 'max') return Infinity
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`acceleration must be a positive number or "max", got "${v}"`)
  return n
}

export function parseStart(v: string): number {
  const ms = Date.parse(v)
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(ms))
    throw new InvalidArgumentError(`start must be an ISO-8601 time such as 2026-11-20T06:00:00Z, got "${v}"`)
  return ms
}

function parseSeconds(v: string): number {
  const n = Number(v)
  if (!Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError(`must be a non-negative number of seconds, got "${v}"`)
  return n
}

function parsePositiveSeconds(v: string): number {
  const n = parseSeconds(v)
  if (n <= 0) throw new InvalidArgumentError(`must be a positive number of seconds, got "${v}"`)
  return n
}

export function register(program: Command): void {
  program
    .command('sim')
    .description('run simulated sensor loggers (a scenario) against an MQTT broker')
    .requiredOption(
      '--scenario <file|name>',
      'scenario JSON file, or a built-in name (reefer-2-8, tarmac-delay, reefer-failure, winter-freeze, room-temperature, frozen, ultra-cold, demo-fleet)',
    )
    .requiredOption('--data <dir>', 'folder for device keys, chain state and buffers (reuse it to continue the chains)')
    .option('--broker <url>', 'MQTT broker URL, e.g. mqtt://127.0.0.1:1883', parseBrokerUrl)
    .option('--seed <n>', "seed of the random generator (default: the scenario's)", parseSeed)
    .option('--accel <n>', 'time acceleration (simulated / wall-clock time), or "max"', parseAccel)
    .option(
      '--start <iso>',
      "simulated start of the shipments (default: the scenario's, else so that they end now)",
      parseStart,
    )
    .option('--audience <name>', 'broker name the device login tokens are bound to', DEFAULT_AUDIENCE)
    .option(
      '--drain-timeout <s>',
      'after the last sample, seconds to wait for receipts before exiting',
      parseSeconds,
      10,
    )
    .option(
      '--receipt-timeout <s>',
      'while connected, re-send the newest reading when unreceipted this long (wall-clock seconds)',
      parsePositiveSeconds,
      30,
    )
    .option('--print-provisioning', "print the devices' provisioning records (JSON) and exit")
    .option(
      '--register',
      "first register the loggers and create the scenario's shipments on a running dashboard (needs --url and --token)",
    )
    .option('--url <dashboard>', 'the dashboard for --register, e.g. http://127.0.0.1:8080')
    .option('--token <token>', "an admin's API token for --register (Authorization: Bearer)")
    .option(
      '--nats-secret <file>',
      'cluster mode: log in with the NATS passwords derived from this secret (<data>/cluster/nats-device.secret of coldproof start --cluster) instead of signed tokens',
    )
    .option('--quiet', 'no progress lines')
    .action(async (opts: SimOptions, cmd: Command) => {
      let scenario: Scenario
      try {
        scenario = loadScenario(opts.scenario)
      } catch (e) {
        if (e instanceof SimError) cmd.error(`error ${e.code}: ${e.message}`, { exitCode: 2, code: e.code })
        throw e
      }
      const base = {
        scenario,
        dataDir: opts.data,
        ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
        ...(opts.start !== undefined ? { startMs: opts.start } : {}),
      }
      // A damaged key, state or buffer file is a SimError naming the file: one line, no stack trace.
      const orExit = <T>(f: () => T): T => {
        try {
          return f()
        } catch (e) {
          if (e instanceof SimError) cmd.error(`error ${e.code}: ${e.message}`, { exitCode: 2, code: e.code })
          throw e
        }
      }
      if (opts.printProvisioning) {
        const fleet = orExit(() => createFleet({ ...base, log: () => {} }))
        process.stdout.write(JSON.stringify(fleet.provisioningRecords(), null, 2) + '\n')
        return
      }
      if (!opts.broker)
        cmd.error('error: --broker <url> is required to run a scenario (or use --print-provisioning)', { exitCode: 2 })
      if (opts.register && (!opts.url || !opts.token))
        cmd.error('error: --register needs --url <dashboard> and --token <admin API token>', { exitCode: 2 })
      let natsSecret: Uint8Array | undefined
      if (opts.natsSecret) {
        const hex = readFileSync(opts.natsSecret, 'utf8').trim()
        if (!/^[0-9a-f]{64,}$/.test(hex))
          cmd.error(
            `error ERR_SIM_OPTIONS: ${opts.natsSecret} must hold the cluster secret as lowercase hex (at least 32 bytes)`,
            { exitCode: 2 },
          )
        natsSecret = fromHex(hex)
      }
      // A full disk drops log lines and is retried by the devices' files; it never ends the fleet.
      guardStandardStreams()
      let hinted = false
      const fleet = orExit(() =>
        createFleet({
          ...base,
          ...(opts.accel !== undefined ? { acceleration: opts.accel } : {}),
          mqtt: {
            url: opts.broker as string,
            audience: opts.audience,
            ...(natsSecret ? { password: (id: string) => deviceNatsPassword(natsSecret, id) } : {}),
          },
          receiptTimeoutMs: opts.receiptTimeout * 1000,
          log: (level, msg) => {
            if (level !== 'warn') return
            process.stderr.write(`warn: ${msg}\n`)
            // A broker that does not know the loggers refuses their login: say the one step that fixes it, once.
            if (!opts.register && !hinted && /bad username or password|not authori[sz]ed/i.test(msg)) {
              hinted = true
              process.stderr.write(
                `hint: the broker does not know these loggers. Register them and create their shipments first: add --register --url <dashboard> --token <admin API token> (or register the records of --print-provisioning yourself)\n`,
              )
            }
          },
        }),
      )
      if (opts.register) {
        try {
          for (const line of await registerScenario(
            opts.url!,
            opts.token!,
            scenario,
            fleet.provisioningRecords(),
            fleet.startMs,
          ))
            process.stderr.write(`sim: ${line}\n`)
        } catch (e) {
          if (e instanceof RegisterError) cmd.error(`error: --register: ${e.message}`, { exitCode: 2 })
          throw e
        }
      }
      const say = (s: string) => {
        if (!opts.quiet) process.stderr.write(s + '\n')
      }
      const summary = () => {
        const st = fleet.status()
        const sum = (f: (s: (typeof st)[number]) => number) => st.reduce((n, s) => n + f(s), 0)
        return `${st.length} devices, ${sum((s) => s.seq)} readings, ${sum((s) => s.buffered)} unreceipted, ${sum((s) => s.dropped)} dropped, ${sum((s) => (s.connected ? 1 : 0))} connected, ${sum((s) => (s.finished ? 1 : 0))} finished`
      }
      let stopping = false
      const stop = async (code: number) => {
        if (stopping) return
        stopping = true
        clearInterval(progress)
        await fleet.stop()
        say(`sim: stopped: ${summary()}`)
        process.exitCode = code
      }
      process.once('SIGINT', () => void stop(130))
      process.once('SIGTERM', () => void stop(143))
      say(
        `sim: ${scenario.name}: ${fleet.devices.length} devices, start ${new Date(fleet.startMs).toISOString()}, broker ${opts.broker}`,
      )
      await fleet.start()
      const progress = setInterval(
        () => say(`sim: ${new Date(Math.min(fleet.simNow(), 8.64e15)).toISOString()}  ${summary()}`),
        2000,
      )
      await fleet.finished
      const deadline = Date.now() + opts.drainTimeout * 1000
      while (!stopping && Date.now() < deadline && fleet.status().some((s) => s.buffered > 0))
        await new Promise((r) => setTimeout(r, 200))
      await stop(0)
    })
}
