/**
 * The live monitor builds an event's view only when a listener wants that kind
 * of event (FleetMonitor.subscribe's `wants`): a filtered listener gets only
 * the kinds it asked for, the events are the same as an unfiltered listener's,
 * a reading event is the API's reading view, and the fold does not depend on
 * who listens (the state equals a from-scratch fold of the same ledger).
 */
import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLedger } from '../../ledger/store/index.ts'
import { BUILTIN_PROFILES } from '../compliance/index.ts'
import { createFleetMonitor, type MonitorEvent } from '../server/monitor.ts'
import { readingView } from '../server/views.ts'
import { T0 } from './support.ts'
import { NodeLogger as Logger } from './node-logger.ts'

const FIVE_MIN = 5 * 60_000

t.test('listeners get only the events they want; events and fold are unchanged', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'coldproof-monitor-subscribe-'))
  let now = T0
  const clock = () => now
  const ledger = await openLedger({
    dir: join(dir, 'ledger'),
    checkpointIntervalMs: 0,
    checkpointEvery: 1_000_000,
    clock,
  })
  const monitor = createFleetMonitor({ ledger, clock })
  t.teardown(async () => {
    monitor.stop()
    await ledger.close()
    await rm(dir, { recursive: true, force: true })
  })
  const loggers = [1, 2, 3].map((n) => new Logger(`subscribe-${n}`, n))
  for (const l of loggers) await ledger.registerDevice({ deviceId: l.deviceId, publicKey: l.publicKey, by: 'test' })
  await monitor.start()
  await monitor.caughtUp()

  const all: MonitorEvent[] = []
  const alarmsOnly: MonitorEvent[] = []
  const switched: MonitorEvent[] = []
  let switchOn = false
  monitor.subscribe((e) => all.push(e))
  monitor.subscribe(
    (e) => alarmsOnly.push(e),
    (event) => event === 'alarm',
  )
  monitor.subscribe(
    (e) => switched.push(e),
    () => switchOn,
  )

  await ledger.createShipment({
    shipmentId: 'sub-1',
    product: 'Vaccine',
    route: { from: 'A', to: 'B' },
    devices: loggers.slice(0, 2).map((l) => l.deviceId),
    profile: BUILTIN_PROFILES['refrigerated-2-8'],
    startAt: T0,
    by: 'test',
  })
  await monitor.settled('sub-1')
  // Excursions to 9.5 °C raise alarms, one reading carries the LOW_BATTERY flag, one arrives hours late,
  // logger 3 is in no shipment; halfway the third listener starts wanting everything.
  for (let k = 0; k < 60; k++) {
    if (k === 30) switchOn = true
    for (const [j, l] of loggers.entries()) {
      const time = T0 + (k + 1) * FIVE_MIN
      now = time + (k === 41 ? 3 * 3600_000 : 2000)
      const temp = (k + 10 * j) % 25 < 6 ? 950 : 500 + ((k * 7 + j) % 50)
      await ledger.appendReading(l.next(time, temp, k === 17 ? 0x0008 : 0), now)
    }
  }

  const kinds = (es: MonitorEvent[]) => new Set(es.map((e) => e.event))
  t.ok(
    all.some((e) => e.event === 'alarm'),
    'the readings raised alarms',
  )
  t.same([...kinds(alarmsOnly)], ['alarm'], 'the filtered listener got alarms only')
  t.same(
    alarmsOnly,
    all.filter((e) => e.event === 'alarm'),
    'the same alarm events as an unfiltered listener',
  )
  const firstSwitched = all.indexOf(switched[0])
  t.ok(firstSwitched > 0, 'the switched listener got nothing while it wanted nothing')
  t.same(switched, all.slice(firstSwitched), 'and every event once it wanted them')

  // A reading event is the API's reading view (same keys, same order) with the monitor's late mark and delay.
  const stored = await ledger.entriesByType('reading')
  const readings = all.filter((e) => e.event === 'reading')
  t.equal(readings.length, stored.length, 'one reading event per committed reading')
  for (const [i, e] of stored.entries()) {
    const v = readingView(e, Number.MAX_SAFE_INTEGER)
    const want = {
      ...v,
      late: monitor.isLate(v.deviceId, v.seq),
      delayMs: monitor.delayOf(v.deviceId, v.seq) ?? null,
      shipmentIds: v.deviceId === 'subscribe-3' ? [] : ['sub-1'],
    }
    if (JSON.stringify(readings[i].data) !== JSON.stringify(want)) {
      t.fail(`reading event ${i} differs from the API's view`, { found: readings[i].data, wanted: want })
      return
    }
  }
  t.ok(
    readings.some((e) => e.event === 'reading' && e.data.late),
    'a late reading was marked late',
  )
  t.ok(
    readings.some((e) => e.event === 'reading' && e.data.flags.includes('LOW_BATTERY')),
    'flags are named',
  )

  // The fold does not depend on who listened: a monitor started now folds the same ledger from scratch.
  const scratch = createFleetMonitor({ ledger, clock })
  await scratch.start()
  await scratch.caughtUp()
  scratch.stop()
  t.same(monitor.summaries(), scratch.summaries(), 'summaries equal a from-scratch fold')
  t.same(monitor.alarms(), scratch.alarms(), 'alarms equal a from-scratch fold')
  t.same(monitor.deviceStates('sub-1'), scratch.deviceStates('sub-1'), 'device states equal a from-scratch fold')
})
