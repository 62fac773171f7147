/**
 * The overflow trap ends (docs/PROTOCOL.md, "Overflow" and "Declared gaps"):
 * a real device-sim device is offline longer than its buffer, drops readings
 * the ledger never saw and flags BUFFER_OVERFLOW. Back online, its buffer is
 * held above the gap, the resend request for the gap goes unanswered (the
 * readings are gone), and once the grace period has passed on the ingest's
 * clock the ingest declares the range lost: a gap entry, the held readings
 * chained, the receipt past the gap, the device buffer empty. Real embedded
 * broker, real ingest, ledger in a temp dir; the ingest clock is advanced by
 * the test, never waited for.
 */
import t from 'tap'
import { join } from 'node:path'
import { createFleet } from '../../../device-sim/index.ts'
import { decodeReading, STATUS } from '../../../ledger/protocol/index.ts'
import { declarableGap } from '../../../ledger/store/index.ts'
import {
  checkDeviceInLedger,
  describeFailure,
  fsck,
  ledgerStack,
  producedCollector,
  registerFleet,
  smallScenario,
  START,
  tempDir,
  waitFor,
} from './support.ts'

t.test('overflow: the unanswered gap is declared lost, the receipt passes it and the buffer drains', async (t) => {
  const id = 'overflow-1'
  const dir = await tempDir(t, 'overflow')
  let ahead = 0
  const GRACE = 60_000
  const { ledger, ingest, url, ledgerDir, shutdown } = await ledgerStack(t, dir, {
    clock: () => Date.now() + ahead,
    overflowGraceMs: GRACE,
    gapCheckIntervalMs: 0,
  })
  const produced = producedCollector()
  // Samples every 5 min for 2 h; offline from minute 10 to at least 45 with room for 5: readings are dropped unsent.
  const N = 120 / 5 + 1
  const fleet = createFleet({
    scenario: smallScenario('overflow', [id], 120, {
      bufferCapacity: 5,
      faults: { connectivityLoss: [{ fromMin: 10, toMin: 45 }] },
    }),
    dataDir: join(dir, 'devices'),
    startMs: START,
    acceleration: 12_000,
    mqtt: { url, mqttOptions: { reconnectPeriod: 100 } },
    log: () => {},
    onReading: produced.onReading,
  })
  t.teardown(() => fleet.stop())
  await registerFleet(ledger, fleet)
  await fleet.start()
  await fleet.finished
  // When the device gets back online is up to its reconnect backoff, so the lost range is read from the ledger.
  await waitFor(() => ledger.device(id)?.highest === N, 'every reading the device still had to reach the ledger')
  const d = ledger.device(id)!
  const lost = declarableGap(d)!
  t.ok(
    lost && d.gaps.length === 1,
    `one range is missing below held readings (${JSON.stringify(d.gaps)}); the receipt is stuck at ${d.contiguous}`,
  )
  const flagged = produced
    .of(id)
    .map((p) => decodeReading(p).fields)
    .filter((f) => (f.status ?? 0) & STATUS.BUFFER_OVERFLOW)
    .map((f) => f.seq)
  t.ok(
    flagged.some((seq) => seq > lost[1]),
    `a held reading reports the overflow (flagged: ${flagged.join(', ')})`,
  )
  t.ok(
    fleet.devices[0].status().receiptedSeq <= d.contiguous,
    `no receipt passes the gap (device at ${JSON.stringify(fleet.devices[0].status())})`,
  )

  t.same(await ingest.checkGaps(), [], 'within the grace period nothing is declared')
  ahead += GRACE
  const [gap] = await ingest.checkGaps()
  t.match(
    gap?.entry.body,
    { deviceId: id, fromSeq: lost[0], toSeq: lost[1], cause: 'buffer-overflow', by: 'ingest' },
    'the range is declared lost',
  )
  t.match(ledger.device(id), { contiguous: N, highest: N, gaps: [] }, 'the held readings are chained past the gap')
  await waitFor(() => fleet.devices[0].status().buffered === 0, 'the receipt past the gap to empty the device buffer')
  t.match(fleet.devices[0].status(), { buffered: 0, receiptedSeq: N })

  const stored = (await ledger.readingsByDevice(id)).map((e) => e.entry.body.seq)
  t.same(
    stored,
    Array.from({ length: N }, (_, i) => i + 1).filter((seq) => seq < lost[0] || seq > lost[1]),
    'every reading but the lost ones, in seq order',
  )
  t.notOk(
    (await checkDeviceInLedger(ledger, id, produced.of(id))).linked,
    'the chain skips the declared range (checked by fsck below)',
  )
  await fleet.stop()
  await shutdown()
  const report = await fsck(ledgerDir)
  t.ok(report.ok, `checkLedger accepts the ledger${describeFailure(report)}`)
  t.match(report.gaps, [{ deviceId: id, from: lost[0], to: lost[1], cause: 'buffer-overflow' }])
})
