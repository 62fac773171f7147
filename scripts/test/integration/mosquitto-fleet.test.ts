/**
 * "Any standard broker works" (ARCHITECTURE.md decision 10, issue 4): the real
 * ledger and ingest and a real device-sim fleet, talking only through Debian's
 * Mosquitto. Every reading the devices produced reaches the ledger exactly
 * once in unbroken chains, the receipts come back through Mosquitto and prune
 * the device buffers, and the integrity checker accepts the ledger.
 *
 * With an external broker, device authentication is that broker's job
 * (docs/OPERATIONS.md); this config allows anonymous clients so that only the
 * delivery path is under test (broker/test/mosquitto.test.ts covers the
 * password and ACL files).
 *
 * Skipped, with the reason, only when the mosquitto binary cannot be found.
 */
import t from 'tap'
import { join } from 'node:path'
import { createFleet } from '../../../device-sim/index.ts'
import { openLedger } from '../../../ledger/store/index.ts'
import { createIngest } from '../../../ledger/ingest/index.ts'
import {
  checkDeviceInLedger,
  describeFailure,
  fsck,
  producedCollector,
  registerFleet,
  smallScenario,
  START,
  tempDir,
  waitFor,
} from './support.ts'
import { MOSQUITTO, startMosquitto } from '../../../broker/test/mosquitto-process.ts'

t.test(
  'ledger, ingest and a device fleet through Mosquitto',
  {
    skip: MOSQUITTO ? false : "mosquitto not found (install Debian's mosquitto package; .ci/run does)",
  },
  async (t) => {
    const dir = await tempDir(t, 'mosquitto')
    const { url } = await startMosquitto(t, dir, ['allow_anonymous true'])

    const ledgerDir = join(dir, 'ledger')
    const ledger = await openLedger({ dir: ledgerDir })
    let ledgerOpen = true
    t.teardown(async () => {
      if (ledgerOpen) await ledger.close()
    })
    const ingest = createIngest({ ledger, url, clientId: 'coldproof-ingest-mosq' })
    let ingestOpen = true
    t.teardown(async () => {
      if (ingestOpen) await ingest.close()
    })
    await ingest.start()

    const ids = ['mosq-a', 'mosq-b', 'mosq-c']
    const perDevice = 120 / 5 + 1
    const produced = producedCollector()
    // 5 simulated minutes per 50 ms of wall-clock time: a stream, not one burst.
    const fleet = createFleet({
      scenario: smallScenario('mosq', ids, 120),
      dataDir: join(dir, 'devices'),
      startMs: START,
      acceleration: 6000,
      mqtt: { url },
      log: () => {},
      onReading: produced.onReading,
    })
    t.teardown(() => fleet.stop())
    await registerFleet(ledger, fleet)
    await fleet.start()
    t.ok(
      fleet.devices.every((d) => d.status().connected),
      'every device connected to Mosquitto',
    )
    await fleet.finished
    t.equal(produced.total(), ids.length * perDevice, `the fleet produced ${perDevice} readings per device`)

    // Receipts travel ledger -> ingest -> Mosquitto -> device and prune the buffers.
    await waitFor(() => fleet.status().every((s) => s.buffered === 0), 'every device buffer to be emptied by receipts')
    for (const s of fleet.status()) {
      t.equal(s.receiptedSeq, perDevice, `${s.deviceId}: receipted up to its last reading`)
      t.equal(s.dropped, 0, `${s.deviceId}: nothing dropped from the buffer`)
    }

    for (const id of ids) {
      const c = await checkDeviceInLedger(ledger, id, produced.of(id))
      t.equal(c.entries, perDevice, `${id}: ${perDevice} reading entries (none twice)`)
      t.ok(c.exact, `${id}: the exact bytes the device signed, seq 1..${perDevice}`)
      t.ok(c.linked, `${id}: unbroken chain`)
      t.match(ledger.device(id), { contiguous: perDevice, highest: perDevice, gaps: [] })
    }
    const st = ingest.stats()
    t.equal(st.quarantined, 0, 'nothing quarantined')
    t.ok(st.receipts > 0, 'the ingest published receipts')

    await fleet.stop()
    await ingest.close()
    ingestOpen = false
    await ledger.close()
    ledgerOpen = false
    const report = await fsck(ledgerDir)
    t.ok(report.ok, `checkLedger accepts the ledger${describeFailure(report)}`)
    t.equal(report.readings, ids.length * perDevice, 'the checker counts every reading')
    t.same(report.gaps, [], 'no gaps in any device chain')
    // The closing checkpoint covers every entry but its own 'checkpoint' entry (ledger/store/checkpointer.ts).
    t.equal(report.uncovered, 1, 'the closing checkpoint covers the whole log but its own entry')
  },
)
