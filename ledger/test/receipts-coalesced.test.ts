/**
 * Receipts taken after several commits that one checkpoint covers are
 * coalesced: each device gets its newest covered receipt once, not one per
 * commit; a receipt taken after that checkpoint waits for the next one. Real
 * broker and MQTT subscriber; the checkpoints are signed on demand (the
 * automatic anchor delay is set out of reach), so nothing depends on timing.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { openLedger } from '../store/ledger.ts'
import { createIngest } from '../ingest/ingest.ts'
import { decodeReceipt, deviceTopic } from '../protocol/index.ts'
import { nextReading, simDevice, startBroker, tempDir, waitFor, T0 } from './support.ts'

const turn = () => new Promise((r) => setImmediate(r))

t.test('one receipt per device per checkpoint, the newest it covers', async (t) => {
  const broker = await startBroker()
  const { dir, remove } = await tempDir('coldproof-coalesced-')
  const ledger = await openLedger({
    dir,
    clock: () => T0 + 3_600_000,
    checkpointEvery: 1_000_000,
    checkpointIntervalMs: 0,
    anchorDelayMs: 3_600_000,
  })
  const a = simDevice('coalesce-a', 71)
  const b = simDevice('coalesce-b', 72)
  for (const d of [a, b]) await ledger.registerDevice({ deviceId: d.id, publicKey: d.publicKey, by: 'qa' })
  const ingest = createIngest({ ledger, url: broker.url, clientId: 'ingest-coalesced-test', gapCheckIntervalMs: 0 })
  await ingest.start()
  const sub = await mqtt.connectAsync(broker.url, {
    clientId: 'receipt-watcher',
    protocolVersion: 4,
    reconnectPeriod: 0,
  })
  const got: [string, number][] = []
  sub.on('message', (topic, payload) => {
    got.push([topic.split('/')[3], decodeReceipt(new Uint8Array(payload)).seq])
  })
  await sub.subscribeAsync([deviceTopic(a.id, 'receipt'), deviceTopic(b.id, 'receipt')], { qos: 1 })
  t.teardown(async () => {
    await sub.endAsync(true)
    await ingest.close()
    await ledger.close()
    await broker.close()
    await remove()
  })

  // Three commits, each followed by its receipt flush, before any checkpoint.
  await ingest.handle(a.topic, nextReading(a, 500, T0))
  await turn()
  await ingest.handle(a.topic, nextReading(a, 500, T0 + 1000))
  await turn()
  await Promise.all([
    ingest.handle(a.topic, nextReading(a, 500, T0 + 2000)),
    ingest.handle(b.topic, nextReading(b, 500, T0)),
  ])
  await turn()
  t.equal(ingest.stats().receipts, 0, 'nothing receipted before a checkpoint covers it')
  await ledger.checkpoint()
  await waitFor(() => got.length >= 2, 'receipts after the checkpoint', 60_000)
  t.equal(ingest.stats().receipts, 2, 'two receipts published: one per device')
  t.same(
    got.sort(),
    [
      [a.id, 3],
      [b.id, 1],
    ],
    'each the newest the checkpoint covers',
  )

  // A later commit gets its own receipt with the next checkpoint.
  await ingest.handle(a.topic, nextReading(a, 500, T0 + 3000))
  await turn()
  t.equal(ingest.stats().receipts, 2, 'seq 4 waits for its checkpoint')
  await ledger.checkpoint()
  await waitFor(() => got.length >= 3, 'the receipt of seq 4', 60_000)
  t.same(got[2], [a.id, 4])
  t.equal(ingest.stats().receipts, 3)
})
