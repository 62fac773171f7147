/**
 * The live monitor's start-up fold runs after the server is ready, in slices
 * (docs/ARCHITECTURE.md, "Catching up"): on a ledger of stored readings the
 * server answers while the fold is held between two slices, /health says
 * "catching_up", entries committed meanwhile are applied once it is done, and
 * the state it reaches equals a from-scratch fold of the same ledger. No
 * timing: the fold is held by the injectable `beforeSlice` hook.
 */
import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLedger, type Ledger } from '../../ledger/store/index.ts'
import { BUILTIN_PROFILES } from '../compliance/index.ts'
import { openUserStore } from '../server/users.ts'
import { buildDashboard } from '../server/app.ts'
import { createFleetMonitor, type CatchUpProgress, type FleetMonitor } from '../server/monitor.ts'
import { PASSWORDS, USERNAMES, T0 } from './support.ts'
import { NodeLogger as Logger } from './node-logger.ts'

const FIVE_MIN = 5 * 60_000

/** Every view of the live state a route serves, for comparing two monitors. */
function liveState(m: FleetMonitor, ledger: Ledger, loggers: Logger[]) {
  return {
    summaries: m.summaries(),
    alarms: m.alarms(),
    openAlarms: m.openAlarmCount(),
    devices: Object.fromEntries(ledger.shipments().map((s) => [s.shipmentId, m.deviceStates(s.shipmentId)])),
    late: loggers.map((l) => Array.from({ length: l.seq }, (_, i) => m.isLate(l.deviceId, i + 1))),
    current: loggers.map((l) => m.shipmentOfDevice(l.deviceId)),
  }
}

t.test(
  'the server answers while the start-up fold is held; after catch-up the state equals a from-scratch fold',
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'coldproof-catch-up-'))
    // Entry times never go backwards along the log: the clock follows the samples, then stops after them.
    let now = T0
    const clock = () => now
    const ledger = await openLedger({
      dir: join(dir, 'ledger'),
      checkpointIntervalMs: 0,
      checkpointEvery: 1_000_000,
      clock,
    })
    t.teardown(async () => {
      await ledger.close()
      await rm(dir, { recursive: true, force: true })
    })
    const loggers = [1, 2, 3, 4, 5].map((n) => new Logger(`catch-up-${n}`, n))
    for (const l of loggers) await ledger.registerDevice({ deviceId: l.deviceId, publicKey: l.publicKey, by: 'test' })
    const profile = BUILTIN_PROFILES['refrigerated-2-8']
    const ship = (shipmentId: string, devices: Logger[]) =>
      ledger.createShipment({
        shipmentId,
        product: 'Vaccine',
        route: { from: 'A', to: 'B' },
        devices: devices.map((d) => d.deviceId),
        profile,
        startAt: T0 + 10 * FIVE_MIN,
        by: 'test',
      })
    await ship('open-1', loggers.slice(0, 2))
    await ship('closing-1', loggers.slice(2, 4))
    // 250 samples per logger, interleaved as they would arrive; excursions to 9.5 °C raise alarms,
    // some readings arrive hours late, logger 5 is in no shipment.
    const sample = async (k: number) => {
      const writes = loggers.map((l, j) => {
        const time = T0 + k * FIVE_MIN
        const temp = (k + 20 * j) % 90 < 12 ? 950 : 500 + ((k * 7 + j) % 50)
        return ledger.appendReading(l.next(time, temp), time + (k % 97 === 13 ? 3 * 3600_000 : 2000))
      })
      await Promise.all(writes)
    }
    for (let k = 0; k < 250; k++) await sample(k)
    now = T0 + 300 * FIVE_MIN
    await ledger.closeShipment({ shipmentId: 'closing-1', closedAt: T0 + 200 * FIVE_MIN, by: 'test' })
    const probe = createFleetMonitor({ ledger, clock })
    await probe.start()
    await probe.caughtUp()
    const alarm = probe.alarms({ shipmentId: 'open-1' })[0]
    t.ok(alarm, 'the stored readings raise alarms')
    probe.stop()
    await ledger.acknowledgeAlarm({
      shipmentId: 'open-1',
      alarmId: alarm.alarmId,
      reason: 'investigated',
      comment: '',
      by: 'test',
    })
    const stored = ledger.stats().entriesByType.reading ?? 0
    t.equal(stored, 1250)

    // The fold is held before its third slice until `release` is called.
    let release!: () => void
    const released = new Promise<void>((resolve) => {
      release = resolve
    })
    let held!: (p: CatchUpProgress) => void
    const holding = new Promise<CatchUpProgress>((resolve) => {
      held = resolve
    })
    let slices = 0
    const users = await openUserStore({
      file: join(dir, 'users.json'),
      seed: [{ username: USERNAMES.operator, password: PASSWORDS.operator, role: 'operator' }],
    })
    const app = await buildDashboard({
      ledger,
      users,
      cookieSecret: 'test-cookie-secret-0123456789abcdef',
      logger: false,
      clock,
      integrityCheckOnStart: false,
      catchUp: {
        waitUpTo: 100,
        sliceSize: 200,
        beforeSlice: async (p) => {
          if (++slices === 3) {
            held(p)
            await released
          }
        },
      },
    })
    t.teardown(() => app.close())
    const base = await app.listen({ host: '127.0.0.1', port: 0 })
    const atHold = await holding
    t.same(atHold, { state: 'catching_up', readingsFolded: 400, readingsTotal: 1250 }, 'held after two slices of 200')

    const health = await fetch(`${base}/health`)
    t.equal(health.status, 200, '/health answers while the fold is held')
    t.same(
      (await health.json()).live,
      { state: 'catching_up', readingsFolded: 400, readingsTotal: 1250 },
      '/health says catching up, with the progress',
    )
    const login = await fetch(`${base}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base },
      body: JSON.stringify({ username: USERNAMES.operator, password: PASSWORDS.operator }),
    })
    t.equal(login.status, 200, 'sign-in works while catching up')
    const cookie = /coldproof_session=[^;]+/.exec(login.headers.get('set-cookie') ?? '')![0]
    const list = await fetch(`${base}/api/shipments`, { headers: { cookie } })
    t.equal(list.status, 200, 'the shipment list answers while catching up')
    t.same(
      ((await list.json()) as { shipments: { shipmentId: string }[] }).shipments.map((s) => s.shipmentId).sort(),
      ['closing-1', 'open-1'],
      'with every shipment',
    )

    // Committed while the fold is held: queued, applied in order once it is done.
    for (let k = 250; k < 260; k++) await sample(k)

    release()
    await app.dashboard.monitor.caughtUp()
    t.same(
      app.dashboard.monitor.progress(),
      { state: 'live', readingsFolded: 1250, readingsTotal: 1250 },
      'live once every stored reading is folded',
    )
    t.same(
      (await (await fetch(`${base}/health`)).json()).live,
      { state: 'live', readingsFolded: 1250, readingsTotal: 1250 },
      '/health says live',
    )

    const scratch = createFleetMonitor({ ledger, clock })
    await scratch.start()
    await scratch.caughtUp()
    t.teardown(() => scratch.stop())
    const expected = liveState(scratch, ledger, loggers)
    t.ok(expected.alarms.length > 2 && expected.openAlarms > 0, 'the reference state has alarms')
    t.ok(
      expected.alarms.some((a) => a.state === 'acknowledged'),
      'and an acknowledged one',
    )
    t.ok(expected.late.flat().some(Boolean), 'and late readings')
    t.same(
      liveState(app.dashboard.monitor, ledger, loggers),
      expected,
      'the caught-up state equals a from-scratch fold of the same ledger',
    )

    // Live from here on: the next reading moves the state as it does for the reference.
    await sample(260)
    await scratch.caughtUp()
    t.same(
      liveState(app.dashboard.monitor, ledger, loggers),
      liveState(scratch, ledger, loggers),
      'both follow the next reading alike',
    )
  },
)

t.test('a small ledger is folded before the app is ready', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'coldproof-catch-up-'))
  const ledger = await openLedger({ dir: join(dir, 'ledger'), checkpointIntervalMs: 0, checkpointEvery: 1_000_000 })
  t.teardown(async () => {
    await ledger.close()
    await rm(dir, { recursive: true, force: true })
  })
  const l = new Logger('catch-up-small', 9)
  await ledger.registerDevice({ deviceId: l.deviceId, publicKey: l.publicKey, by: 'test' })
  const profile = BUILTIN_PROFILES['refrigerated-2-8']
  await ledger.createShipment({
    shipmentId: 'small-1',
    product: 'Vaccine',
    route: { from: 'A', to: 'B' },
    devices: [l.deviceId],
    profile,
    startAt: T0,
    by: 'test',
  })
  for (let k = 0; k < 30; k++) await ledger.appendReading(l.next(T0 + k * FIVE_MIN, 500), T0 + k * FIVE_MIN + 1000)
  const users = await openUserStore({ file: join(dir, 'users.json'), seed: [] })
  const app = await buildDashboard({
    ledger,
    users,
    cookieSecret: 'test-cookie-secret-0123456789abcdef',
    logger: false,
    integrityCheckOnStart: false,
    catchUp: { sliceSize: 7 },
  })
  t.teardown(() => app.close())
  await app.ready()
  t.same(
    app.dashboard.monitor.progress(),
    { state: 'live', readingsFolded: 30, readingsTotal: 30 },
    'ready means caught up under the default threshold',
  )
  t.equal(app.dashboard.monitor.summary('small-1')?.lastReadingAt, T0 + 29 * FIVE_MIN)
})

t.test('a fold that cannot read the ledger is reported: /health says failed, the server answers', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'coldproof-catch-up-'))
  const ledger = await openLedger({ dir: join(dir, 'ledger'), checkpointIntervalMs: 0, checkpointEvery: 1_000_000 })
  t.teardown(async () => {
    await ledger.close()
    await rm(dir, { recursive: true, force: true })
  })
  const l = new Logger('catch-up-failed', 11)
  await ledger.registerDevice({ deviceId: l.deviceId, publicKey: l.publicKey, by: 'test' })
  for (let k = 0; k < 5; k++) await ledger.appendReading(l.next(T0 + k * FIVE_MIN, 500), T0 + k * FIVE_MIN + 1000)
  const users = await openUserStore({ file: join(dir, 'users.json'), seed: [] })
  const app = await buildDashboard({
    ledger,
    users,
    cookieSecret: 'test-cookie-secret-0123456789abcdef',
    logger: false,
    integrityCheckOnStart: false,
    // The ledger goes away under the fold (as on a disk error): its next read fails.
    catchUp: { waitUpTo: 0, beforeSlice: () => ledger.close() },
  })
  t.teardown(() => app.close())
  await app.ready()
  await t.rejects(
    app.dashboard.monitor.caughtUp(),
    { code: 'LEVEL_DATABASE_NOT_OPEN' },
    'the fold stops with the read error',
  )
  const health = await app.inject('/health')
  t.equal(health.statusCode, 200, 'the server still answers')
  t.same(
    health.json().live,
    { state: 'failed', readingsFolded: 0, readingsTotal: 5 },
    '/health says the live state failed',
  )
})
