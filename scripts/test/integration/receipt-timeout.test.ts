/**
 * Receipt timeout, end to end (docs/PROTOCOL.md, "Receipt timeout"): the
 * device's link loses the first publish of the LAST reading. Nothing after it
 * tells the ingest it is missing, so no gap and no resend request; the device
 * re-sends its newest unreceipted reading once the receipt is overdue, on the
 * fleet's scheduler timer, over the same connection. Real ledger, real
 * embedded broker, real ingest.
 */
import t from 'tap'
import { join } from 'node:path'
import { createFleet, createMqttLink, type DeviceLink } from '../../../device-sim/index.ts'
import { decodeReading } from '../../../ledger/protocol/index.ts'
import {
  checkDeviceInLedger,
  describeFailure,
  fsck,
  ledgerStack,
  producedCollector,
  registerFleet,
  settlesWithin,
  smallScenario,
  START,
  tempDir,
  waitFor,
} from './support.ts'

t.test('a lost last reading is re-sent after the receipt timeout and receipted, without a reconnect', async (t) => {
  const dir = await tempDir(t, 'receipt-timeout')
  const { ledger, ingest, url, ledgerDir, shutdown } = await ledgerStack(t, dir)

  const id = 'rt-tail-1'
  const N = 60 / 5 + 1
  const publishes = new Map<number, number>()
  let dropped = 0
  let connects = 0
  const produced = producedCollector()
  const fleet = createFleet({
    scenario: smallScenario('receipt-timeout', [id], 60),
    dataDir: join(dir, 'devices'),
    startMs: START,
    acceleration: 12_000,
    receiptTimeoutMs: 400,
    log: () => {},
    onReading: produced.onReading,
    // The real MQTT link, except that the first publish of seq N never leaves the device.
    link: (_deviceId, identity): DeviceLink => {
      const inner = createMqttLink({ url, identity, reconnectMinMs: 100 })
      return {
        get connected() {
          return inner.connected
        },
        open: (h) =>
          inner.open({
            ...h,
            onConnect: () => {
              connects++
              h.onConnect()
            },
          }),
        publish(payload) {
          const seq = decodeReading(payload).fields.seq
          const n = (publishes.get(seq) ?? 0) + 1
          publishes.set(seq, n)
          if (seq === N && n === 1) {
            dropped++
            return
          }
          inner.publish(payload)
        },
        close: () => inner.close(),
      }
    },
  })
  t.teardown(() => settlesWithin(fleet.stop(), 5000))
  await registerFleet(ledger, fleet)
  await fleet.start()
  await fleet.finished
  const device = fleet.devices[0]
  // The last reading's first publish may come after the sampling timer finished (signing and persisting
  // run asynchronously), so wait for it rather than assume an order a loaded machine does not keep.
  await waitFor(() => dropped === 1, `the link to lose the first publish of seq ${N}`)
  t.equal(dropped, 1, `the link lost seq ${N}, the last reading`)

  await waitFor(() => ledger.device(id)?.contiguous === N, `seq ${N} in the ledger`)
  await waitFor(() => device.status().buffered === 0, 'the receipt to empty the buffer')
  t.ok((publishes.get(N) ?? 0) >= 2, `the device sent seq ${N} again (${publishes.get(N)} publishes)`)
  t.equal(connects, 1, 'over the same connection: no reconnect')
  t.equal(ingest.stats().gapsOpened, 0, 'the ingest never saw a gap: the timeout, not a resend request, recovered it')
  t.match(device.status(), { buffered: 0, receiptedSeq: N, dropped: 0 })
  const c = await checkDeviceInLedger(ledger, id, produced.of(id))
  t.ok(c.exact && c.linked && c.entries === N, `1..${N} once each, unbroken, byte for byte`)

  await fleet.stop()
  await shutdown()
  const report = await fsck(ledgerDir)
  t.ok(report.ok, `checkLedger accepts the ledger${describeFailure(report)}`)
})
