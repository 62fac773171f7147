/**
 * A broker restart loses nothing a device measured (ARCHITECTURE.md decision 5;
 * issue 4, "Delivery"): the embedded broker keeps sessions and queues in
 * memory, so closing it loses the ingest's session, its queued messages and
 * the retained receipts, and whatever aedes had PUBACKed but not yet
 * delivered. The devices keep every unreceipted reading in their persisted
 * buffers, keep sampling while the broker is gone, and send the buffer again
 * when they reconnect to the new broker on the same port; gap detection and
 * resend cover what arrives before the ingest has subscribed again.
 */
import t from 'tap'
import { join } from 'node:path'
import { openLedger } from '../../../ledger/store/index.ts'
import type { Broker } from '../../../broker/index.ts'
import {
  BUFFERED_READINGS,
  bufferedFleet,
  checkDeviceInLedger,
  describeFailure,
  embeddedBroker,
  fsck,
  registerFleet,
  sleep,
  startIngest,
  tempDir,
  waitFor,
} from './support.ts'

t.test('closing the embedded broker mid-stream and starting a new one on the same port loses no reading', async (t) => {
  const dir = await tempDir(t, 'broker-restart')
  const ledgerDir = join(dir, 'ledger')
  const ledger = await openLedger({ dir: ledgerDir })
  let ledgerOpen = true
  t.teardown(async () => {
    if (ledgerOpen) await ledger.close()
  })

  let broker: Broker | undefined = await embeddedBroker(ledger)
  const { port, url } = await broker.listen()
  t.teardown(async () => {
    if (broker) await broker.close()
  })

  const ingest = await startIngest(ledger, url)
  let ingestOpen = true
  t.teardown(async () => {
    if (ingestOpen) await ingest.close()
  })

  const ids = ['restart-a', 'restart-b']
  const N = BUFFERED_READINGS
  const { fleet, produced } = bufferedFleet(dir, 'restart', ids, url)
  t.teardown(() => fleet.stop())
  await registerFleet(ledger, fleet)
  await fleet.start()

  await waitFor(
    () => ids.every((id) => produced.of(id).length >= 20 && (ledger.device(id)?.contiguous ?? 0) >= 1),
    'the first 20 readings of each device, and some in the ledger',
  )
  const beforeKill = Object.fromEntries(ids.map((id) => [id, produced.of(id).length]))
  await broker.close()
  broker = undefined
  await waitFor(() => fleet.status().every((s) => !s.connected), 'the devices to notice the broker is gone')
  await sleep(1000) // ~20 samples per device taken with no broker at all
  const whileDown = Object.fromEntries(ids.map((id) => [id, produced.of(id).length]))
  const storedWhenDown = Object.fromEntries(ids.map((id) => [id, ledger.device(id)!.highest]))
  for (const id of ids)
    t.ok(
      whileDown[id] - beforeKill[id] >= 5,
      `${id}: kept sampling while the broker was down (${whileDown[id] - beforeKill[id]} readings)`,
    )

  broker = await embeddedBroker(ledger, port)
  t.equal((await broker.listen()).port, port, 'the new broker listens on the same port')
  await fleet.finished
  for (const id of ids) t.equal(produced.of(id).length, N, `${id}: produced ${N} readings`)

  await waitFor(
    () => ids.every((id) => ledger.device(id)?.contiguous === N),
    'every reading of both devices in the ledger',
  )
  await waitFor(
    () => fleet.status().every((s) => s.buffered === 0),
    'receipts from the new broker to empty the buffers',
  )

  for (const id of ids) {
    const c = await checkDeviceInLedger(ledger, id, produced.of(id))
    t.equal(c.entries, N, `${id}: ${N} reading entries, none missing, none twice`)
    t.ok(c.exact, `${id}: the exact signed bytes`)
    t.ok(c.linked, `${id}: unbroken chain across the restart`)
    t.ok(
      storedWhenDown[id] < whileDown[id],
      `${id}: readings taken while the broker was down (after seq ${storedWhenDown[id]}) reached the ledger afterwards`,
    )
    t.match(ledger.device(id), { contiguous: N, highest: N, gaps: [] })
  }
  for (const s of fleet.status()) t.match(s, { buffered: 0, receiptedSeq: N, dropped: 0, connected: true })
  t.equal(ingest.stats().quarantined, 0, 'nothing quarantined')

  await fleet.stop()
  await ingest.close()
  ingestOpen = false
  await broker.close()
  broker = undefined
  await ledger.close()
  ledgerOpen = false
  const report = await fsck(ledgerDir)
  t.ok(report.ok, `checkLedger accepts the ledger${describeFailure(report)}`)
  t.equal(report.readings, ids.length * N)
  t.same(report.gaps, [])
})
