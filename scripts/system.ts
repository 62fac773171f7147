/**
 * Wires the whole system in one process: the embedded broker (or an external
 * one), the ledger and its ingest, the dashboard, and optionally a demo fleet.
 * `npm start` and the end-to-end tests use this; nothing here listens until
 * startSystem() is called, and close() stops everything in reverse order.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { rootCertificates } from 'node:tls'
import { openLedger, type Ledger } from '../ledger/store/index.ts'
import {
  createIngest,
  UNHEALTHY_LEDGER_CODES,
  type Ingest,
  type MessageQuarantined,
  type IngestOptions,
} from '../ledger/ingest/index.ts'
import { createThrottledLog } from '../broker/throttled-log.ts'
import { createBroker, hashServicePassword, type Broker } from '../broker/index.ts'
import { createFleet, demoFleet, loadScenario, type Fleet, type Scenario } from '../device-sim/index.ts'
import { profileHash } from '../dashboard/compliance/index.ts'
import { demoProfile } from './demo-profiles.ts'
import { startDemoCloser } from './demo-closer.ts'
import { gs1CheckDigit } from '../dashboard/common/gs1.ts'
import { pino } from 'pino'
import { dropOnErrorStream } from './output-guard.ts'
import { buildDashboard } from '../dashboard/server/app.ts'
import type { BrokerMetricsSnapshot } from '../dashboard/server/metrics.ts'
import { openUserStore } from '../dashboard/server/users.ts'
import { createBundleBuilder } from '../dashboard/evidence/collect.ts'
import { newLocalToken, writeLocalAccess } from './local-access.ts'
import { attachWitnesses } from '../ledger/witness/index.ts'
import { attachTilesExport } from '../ledger/tiles/index.ts'
import type { WitnessTarget } from '../ledger/witness/index.ts'

export type DemoMode = 'full' | 'small' | false

export interface SystemOptions {
  /** Data directory: ledger, device state, users. */
  dataDir: string
  host?: string
  /** Dashboard HTTP port; 0 picks a free one. */
  httpPort?: number
  /** Embedded broker port; 0 picks a free one. Ignored with brokerUrl. */
  mqttPort?: number
  /** Use an external broker instead of the embedded one (device authentication is then that broker's job). */
  brokerUrl?: string
  brokerUsername?: string
  brokerPassword?: string
  /** The embedded broker's name, signed into every device login token (default 'coldproof'; docs/PROTOCOL.md, "Device authentication"). */
  audience?: string
  /** Run the demo fleet: 'full' (every demo shipment), 'small' (three), or false. */
  demo?: DemoMode
  /** Overrides the demo's time acceleration. */
  accel?: number
  /** Scenario file or built-in name instead of the demo fleet. */
  scenario?: string
  quiet?: boolean
  /** Security events (broker refusals, quarantined messages; the dashboard's refused logins, cross-origin writes, dropped streams) as JSON lines (docs/OPERATIONS.md, "Security events in the log"). Default: !quiet. */
  logSecurity?: boolean
  log?: (line: string) => void
  /** Demo fleet catches up to the wall clock, then runs in real time (npm start). Default false: it runs at its acceleration throughout. */
  live?: boolean
  /**
   * Seed the three demo logins (demo-logins.json). Default: only with a demo fleet. A production
   * start (no demo) seeds none; its first admin comes from `coldproof user add` (docs/OPERATIONS.md).
   */
  demoLogins?: boolean
  /** Origins allowed to write besides the one a request is addressed to (the public URL behind a proxy). */
  allowedOrigins?: string[]
  /** Keep C2SP tlog-tiles of the ledger in this directory, served by the dashboard under /tiles/. */
  tilesDir?: string
  /** Witnesses to submit every logged checkpoint to (ledger/witness/attach.ts); their cosignatures travel in bundles. */
  witnesses?: WitnessTarget[]
  /** Alarm notification rules file (default <dataDir>/notifications.json; absent file = no notifications). */
  notifyConfig?: string
  /** Bearer token a Prometheus scraper may send to /metrics. */
  metricsToken?: string
  /** Trust X-Forwarded-* from a reverse proxy. */
  trustProxy?: boolean
  /** PEM certificate and key: the dashboard serves HTTPS. */
  https?: { cert: Buffer | string; key: Buffer | string }
  /** PEM certificate and key: the embedded broker speaks mqtts only. */
  mqttTls?: { cert: Buffer | string; key: Buffer | string }
  /** Ingest tuning (the chaos suite shortens the overflow grace and gap checks). */
  ingest?: Pick<IngestOptions, 'overflowGraceMs' | 'resendDeadlineMs' | 'gapCheckIntervalMs' | 'resendIntervalMs'>
}

export interface Login {
  username: string
  password: string
}

export interface RunningSystem {
  url: string
  mqttUrl: string
  ledger: Ledger
  ingest: Ingest
  broker?: Broker
  fleet?: Fleet
  /** The demo logins, or null on a production start (no demo users exist). */
  logins: Record<'operator' | 'regulator' | 'admin', Login> | null
  /** Users in users.json at start (0: the first admin must be created with `coldproof user add`). */
  userCount: number
  close(): Promise<void>
}

/** What the dashboard's /metrics shows of the embedded broker. */
export function brokerSnapshot(broker: Broker): BrokerMetricsSnapshot {
  const m = broker.metrics()
  return {
    connections: m.connections.current,
    refusals: m.refusals,
    securityEvents: m.securityEvents,
    throttled: m.throttled,
    idleSockets: m.idleSockets,
    passwordChecks: m.logins.passwordChecks,
  }
}

/** Demo GS1 keys: a fixed company prefix, serials from the shipment's position, real check digits. */
export function demoGs1(n: number): { sscc: string; gtin: string; lot: string; expiry: string } {
  const ssccBody = `0${'4012345'}${String(100000000 + n).slice(-9)}`
  const gtinBody = `0${'4012345'}${String(10000 + n).slice(-5)}`
  return {
    sscc: ssccBody + gs1CheckDigit(ssccBody),
    gtin: gtinBody + gs1CheckDigit(gtinBody),
    lot: `LOT${String(2600 + n)}`,
    expiry: '2028-06-30',
  }
}

function pickScenario(opts: SystemOptions): Scenario | undefined {
  if (opts.scenario) return loadScenario(opts.scenario)
  if (!opts.demo) return undefined
  const s = demoFleet()
  const scenario = opts.demo === 'small' ? { ...s, shipments: s.shipments.slice(0, 3) } : s
  return opts.accel ? { ...scenario, acceleration: opts.accel } : scenario
}

async function loadOrCreateLogins(dataDir: string): Promise<Record<'operator' | 'regulator' | 'admin', Login>> {
  const file = join(dataDir, 'demo-logins.json')
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8'))
  const pw = () => randomBytes(9).toString('base64url')
  const logins = {
    operator: { username: 'operator', password: pw() },
    regulator: { username: 'regulator', password: pw() },
    admin: { username: 'admin', password: pw() },
  }
  await writeFile(file, JSON.stringify(logins, null, 2) + '\n', { mode: 0o600 })
  return logins
}

/** The session-cookie signing secret: random once, kept in the data directory. */
async function loadOrCreateSecret(dataDir: string): Promise<string> {
  const file = join(dataDir, 'cookie-secret')
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim()
  const secret = randomBytes(32).toString('base64url')
  await writeFile(file, secret + '\n', { mode: 0o600 })
  return secret
}

/** Registers the scenario's devices and creates its shipments, once (a restart finds them in the ledger). */
async function provision(ledger: Ledger, fleet: Fleet, scenario: Scenario): Promise<void> {
  for (const rec of fleet.provisioningRecords()) {
    if (ledger.device(rec.deviceId)) continue
    await ledger.registerDevice({ ...rec, by: 'demo-provisioning' })
  }
  let n = 0
  for (const s of scenario.shipments) {
    n++
    if (ledger.shipment(s.shipmentId)) continue
    const profile = demoProfile(s.shipmentId, s.storageClass)
    await ledger.createShipment({
      shipmentId: s.shipmentId,
      product: s.product,
      gs1: demoGs1(n),
      route: s.route,
      devices: s.devices.map((d) => d.deviceId),
      profile,
      profileHash: profileHash(profile),
      startAt: fleet.startMs,
      by: 'demo-provisioning',
    })
  }
}

export async function startSystem(opts: SystemOptions): Promise<RunningSystem> {
  const { dataDir, host = '127.0.0.1', quiet = false } = opts
  // Operational lines (demo closes; witness, tiles and shutdown failures) are pino JSON on stderr like
  // every other service log: warnings also on a quiet start that logs security events (`coldproof start`).
  // opts.log (tests) receives them as plain lines instead.
  const sysLogger = pino(
    { name: 'coldproof', level: quiet ? (opts.logSecurity ? 'warn' : 'silent') : 'info' },
    dropOnErrorStream(2),
  )
  const log = opts.log ?? ((line: string) => sysLogger.info(line))
  const warn = (fields: Record<string, unknown>, line: string) => {
    if (opts.log) opts.log(line)
    else sysLogger.warn(fields, line)
  }
  const securityLevel = (opts.logSecurity ?? !quiet) ? 'warn' : 'silent'
  const securityLogger = (name: string) => pino({ name, level: securityLevel }, dropOnErrorStream(2))
  await mkdir(dataDir, { recursive: true })
  const stack: (() => Promise<void>)[] = []
  const close = async () => {
    while (stack.length) {
      const f = stack.pop()!
      try {
        await f()
      } catch (e) {
        warn({ event: 'shutdown_failed', err: (e as Error).message }, `shutdown: ${(e as Error).message}`)
      }
    }
  }
  try {
    const ledger = await openLedger({ dir: join(dataDir, 'ledger'), log: securityLogger('ledger') })
    stack.push(() => ledger.close())
    if (opts.witnesses?.length) {
      const w = attachWitnesses(ledger, opts.witnesses, (r, size) => {
        if (!r.ok)
          warn(
            { event: 'witness_failed', url: r.url, size, err: r.message },
            `witness ${r.url}: checkpoint ${size} not cosigned: ${r.message}`,
          )
      })
      stack.push(async () => w.detach())
    }
    if (opts.tilesDir) {
      const tiles = attachTilesExport(ledger, opts.tilesDir, (r) => {
        if (!r.ok)
          warn(
            { event: 'tiles_export_failed', dir: opts.tilesDir, err: r.error.message },
            `tiles: export to ${opts.tilesDir} failed: ${r.error.message}`,
          )
      })
      stack.push(async () => {
        tiles.detach()
        await tiles.idle()
      })
    }

    // The in-process clients (ingest, demo fleet) trust the embedded broker's own certificate; the
    // host name is not checked because they reach it at the listen address, not at its public name.
    const localTls =
      opts.mqttTls && !opts.brokerUrl
        ? { ca: [opts.mqttTls.cert.toString(), ...rootCertificates], checkServerIdentity: () => undefined }
        : undefined
    // The ingest's broker password lives only in this process's memory.
    const ingestUser = 'coldproof-ingest'
    const ingestPassword = opts.brokerPassword ?? randomBytes(24).toString('base64url')
    let broker: Broker | undefined
    let mqttUrl: string
    if (opts.brokerUrl) {
      mqttUrl = opts.brokerUrl
    } else {
      broker = createBroker({
        registry: { lookupDevice: async (id) => ledger.lookupDevice(id) },
        serviceAccounts: { [ingestUser]: { passwordHash: await hashServicePassword(ingestPassword), role: 'ingest' } },
        host,
        port: opts.mqttPort ?? 1883,
        ...(opts.mqttTls ? { tls: opts.mqttTls } : {}),
        ...(opts.audience !== undefined ? { audience: opts.audience } : {}),
        // Refusals and limit breaches are warnings; connects and disconnects are routine.
        logger: securityLogger('broker'),
      })
      const b = broker
      mqttUrl = (await b.listen()).url
      stack.push(() => b.close())
      // A revocation takes effect at once: the registry refuses the next CONNECT,
      // and the live connection is closed here.
      const unsubscribe = ledger.subscribe((e) => {
        if (e.entry.type === 'device.revoke') b.disconnectDevice((e.entry.body as { deviceId: string }).deviceId)
      })
      stack.push(async () => unsubscribe())
    }

    const ingestLog = securityLogger('ingest')
    const ingest = createIngest({
      ...opts.ingest,
      ...(localTls ? { mqttOptions: localTls } : {}),
      ledger,
      url: mqttUrl,
      username: opts.brokerUrl ? opts.brokerUsername : ingestUser,
      password: ingestPassword,
      log: ingestLog,
    })
    // Every emitter's errors reach the log: a commit that failed (the broker redelivers it) and the MQTT client's.
    ingest.on('error', (e: Error) => {
      const code = (e as { code?: string }).code
      // An unhealthy ledger fails every commit; it logs one line per episode itself.
      if (!UNHEALTHY_LEDGER_CODES.has(code ?? ''))
        ingestLog.error({ event: 'commit_failed', err: e.message, code }, `ingest: ${e.message}`)
    })
    ingest.on('mqtt-error', (e: Error) =>
      ingestLog.warn({ event: 'mqtt_error', err: e.message }, `ingest MQTT client: ${e.message}`),
    )
    // Each quarantined message is a security event: one JSON line, thinned under a flood.
    const quarantineLog = createThrottledLog(securityLogger('ingest'), 'quarantined')
    ingest.on('quarantined', (q: MessageQuarantined) =>
      quarantineLog.warn(q.reason, { event: 'quarantined', ...q }, `quarantined: ${q.reason}: ${q.detail}`),
    )
    stack.push(async () => quarantineLog.stop())
    await ingest.start()
    stack.push(() => ingest.close())

    const logins = (opts.demoLogins ?? Boolean(opts.demo)) ? await loadOrCreateLogins(dataDir) : null
    const users = await openUserStore({
      file: join(dataDir, 'users.json'),
      seed: logins ? (['operator', 'regulator', 'admin'] as const).map((role) => ({ ...logins[role], role })) : [],
    })
    const localToken = newLocalToken()
    const app = await buildDashboard({
      localToken,
      ledger,
      users,
      cookieSecret: await loadOrCreateSecret(dataDir),
      brokerMetrics: broker ? () => brokerSnapshot(broker!) : undefined,
      ingestMetrics: () => {
        const st = ingest.stats()
        return { received: st.received, pending: st.pending, duplicates: st.duplicates }
      },
      logger: quiet && !opts.logSecurity ? false : { level: 'warn', stream: dropOnErrorStream() },
      allowedOrigins: opts.allowedOrigins,
      bundle: createBundleBuilder(ledger),
      tilesDir: opts.tilesDir,
      notifications: {
        configFile: opts.notifyConfig ?? join(dataDir, 'notifications.json'),
        recordsFile: join(dataDir, 'notifications.jsonl'),
      },
      auditFile: join(dataDir, 'audit.jsonl'),
      metricsToken: opts.metricsToken,
      trustProxy: opts.trustProxy,
      https: opts.https,
    })
    const url = await app.listen({ host, port: opts.httpPort ?? 8080 })
    stack.push(() => app.close())
    const removeAccess = writeLocalAccess(dataDir, url, localToken)
    stack.push(async () => removeAccess())

    let fleet: Fleet | undefined
    const scenario = pickScenario(opts)
    if (scenario) {
      const f = createFleet({
        scenario,
        dataDir: join(dataDir, 'devices'),
        mqtt: {
          url: mqttUrl,
          ...(broker ? { audience: broker.audience } : {}),
          ...(localTls ? { mqttOptions: localTls } : {}),
        },
        log: quiet ? () => {} : undefined,
        // The live demo: a day of history replays at the scenario's acceleration
        // (excursions appear within a minute or two), then the shipments go on
        // in real time instead of running ahead of the wall clock.
        ...(opts.live ? { startLeadMs: 24 * 3600_000, wallClockCeiling: true } : {}),
      })
      await provision(ledger, f, scenario)
      await f.start()
      fleet = f
      stack.push(() => f.stop())
      const closer = startDemoCloser(ledger, f, { log })
      stack.push(async () => closer.stop())
    }
    return { url, mqttUrl, ledger, ingest, broker, fleet, logins, userCount: users.list().length, close }
  } catch (e) {
    await close()
    throw e
  }
}
