/**
 * A receipt covers only readings anchored outside the database (issue 13,
 * item 1): each receipt a device gets names a reading whose entry is covered
 * by a checkpoint already durable in checkpoints.log, read back from the file
 * at the moment the receipt arrives. Real broker, ingest, LevelDB, signatures.
 */
import t from 'tap'
import { openLedger } from '../store/ledger.ts'
import { createIngest } from '../ingest/ingest.ts'
import { readAnchors } from '../store/anchor-log.ts'
import { decodeReceipt } from '../protocol/index.ts'
import { DeviceLoop, simDevice, startBroker, tempDir, waitFor } from './support.ts'

t.test('every receipt names a reading already covered by checkpoints.log', async (t) => {
  const broker = await startBroker()
  const { dir, remove } = await tempDir('coldproof-anchored-')
  // Entry checkpoints are rare here: the anchors come from the receipts' prompt checkpoints.
  const ledger = await openLedger({ dir, checkpointEvery: 1_000_000, checkpointIntervalMs: 0, anchorDelayMs: 20 })
  const dev = simDevice('anchored-probe', 61)
  await ledger.registerDevice({ deviceId: dev.id, publicKey: dev.publicKey, by: 'qa' })
  const ingest = createIngest({ ledger, url: broker.url, clientId: 'ingest-anchored-test' })
  await ingest.start()
  const loop = new DeviceLoop(dev)
  await loop.connect(broker.url)
  t.teardown(async () => {
    await loop.close()
    await ingest.close()
    await ledger.close()
    await broker.close()
    await remove()
  })

  const checks: Promise<string | undefined>[] = []
  loop.client.on('message', (topic, payload) => {
    if (!topic.endsWith('/receipt')) return
    const { seq } = decodeReceipt(new Uint8Array(payload))
    if (seq === 0) return
    checks.push(
      (async () => {
        const anchored = (await readAnchors(dir, ledger.verifierKey)).latest?.size ?? 0
        const link = await ledger.readingLink(dev.id, seq)
        if (!link) return `receipt for seq ${seq}, which is not stored`
        return link.i < anchored
          ? undefined
          : `receipt for seq ${seq} (entry ${link.i}) arrived while checkpoints.log covered only ${anchored} entries`
      })(),
    )
  })
  for (let i = 0; i < 40; i++) {
    loop.send(500 + i, Date.now())
    // A few at a time, so that receipts and anchors interleave with new readings.
    if (i % 5 === 4) await waitFor(() => loop.receipt.seq >= i - 2, `receipt near seq ${i + 1}`)
  }
  await waitFor(() => loop.receipt.seq === 40, 'every reading receipted')
  const problems = (await Promise.all(checks)).filter(Boolean)
  t.ok(checks.length >= 8, `${checks.length} receipts checked against the file`)
  t.same(problems, [], 'no receipt ran ahead of the anchor')
  t.equal(ledger.latestCheckpoint(), undefined, 'no checkpoint entry was needed for that')
  t.ok(ledger.latestAnchor()!.size > 40, 'the anchor covers the registration and the 40 readings')
})
