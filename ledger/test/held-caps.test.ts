/**
 * Caps on held readings (issue 13): a leaked key sending readings far ahead of
 * the chain cannot grow the held store without bound. A reading raising the
 * device's highest seq is refused (ERR_HELD_LIMIT) once the device holds
 * maxHeldPerDevice readings, and beyond maxHeldAhead above the head unless it
 * reports BUFFER_OVERFLOW (ERR_HELD_TOO_FAR). Nothing held is evicted, and
 * genuine readings filling the gaps are never refused: the chain closes.
 * The real ingest decision path (handle) on a real ledger.
 */
import t from 'tap'
import { openLedger } from '../store/ledger.ts'
import { createIngest, type Outcome } from '../ingest/ingest.ts'
import { deviceTopic, readingHash, STATUS } from '../protocol/index.ts'
import { nextReading, signFields, simDevice, tempDir, T0 } from './support.ts'

const NOW = T0 + 3_600_000

t.test(
  'held caps: a flood far ahead is refused with a reason, nothing held is evicted, the genuine readings still close every gap',
  async (t) => {
    const { dir, remove } = await tempDir()
    const ledger = await openLedger({ dir, clock: () => NOW, checkpointIntervalMs: 0 })
    const ingest = createIngest({
      ledger,
      url: 'mqtt://127.0.0.1:1',
      gapCheckIntervalMs: 0,
      maxHeldPerDevice: 5,
      maxHeldAhead: 40,
    })
    t.teardown(async () => {
      await ingest.close()
      await ledger.close()
      await remove()
    })
    const d = simDevice('probe-leak', 31)
    await ledger.registerDevice({ deviceId: d.id, publicKey: d.publicKey, by: 'qa' })
    const topic = deviceTopic(d.id, 'readings')
    // The genuine history 1..30, signed in order.
    const genuine: Uint8Array[] = []
    for (let i = 0; i < 30; i++) genuine.push(nextReading(d, 500, T0 + i * 1000))
    const send = (p: Uint8Array) => ingest.handle(topic, p, NOW)
    const kinds = (os: Outcome[]) => os.map((o) => (o.kind === 'quarantined' ? o.reason : o.kind))

    t.match(await send(genuine[0]), { kind: 'stored', seq: 1 })
    // Every other genuine reading from seq 3 on arrives first: 3, 5, 7, 9, 11 are held (the cap), 13 and 15 raise the highest: refused.
    t.same(kinds(await Promise.all([3, 5, 7, 9, 11, 13, 15].map((s) => send(genuine[s - 1])))), [
      'held',
      'held',
      'held',
      'held',
      'held',
      'ERR_HELD_LIMIT',
      'ERR_HELD_LIMIT',
    ])
    // The leaked key, far ahead: beyond the window without the overflow flag; with it, but over the cap.
    const far = signFields(d, {
      deviceId: d.id,
      seq: 500,
      deviceTimeMs: T0 + 500_000,
      tempCentiC: 500,
      prevHash: new Uint8Array(32).fill(3),
    })
    const farFlagged = signFields(d, {
      deviceId: d.id,
      seq: 501,
      deviceTimeMs: T0 + 501_000,
      tempCentiC: 500,
      prevHash: new Uint8Array(32).fill(3),
      status: STATUS.BUFFER_OVERFLOW,
    })
    t.same(kinds([await send(far), await send(farFlagged)]), ['ERR_HELD_TOO_FAR', 'ERR_HELD_LIMIT'])
    t.same(
      (await ledger.heldReadings(d.id)).map((r) => r.seq),
      [3, 5, 7, 9, 11],
      'nothing held was evicted',
    )
    // The genuine readings that fill the gaps below the highest held one are held although the cap is reached.
    t.same(kinds(await Promise.all([4, 6, 8, 10].map((s) => send(genuine[s - 1])))), ['held', 'held', 'held', 'held'])
    // seq 2 chains, and with it every held reading up to 11.
    t.match(await send(genuine[1]), { kind: 'stored', seq: 2 })
    t.match(ledger.device(d.id), { contiguous: 11, highest: 11, gaps: [] }, 'the chain closed up to 11')
    // The device re-sends what was refused (it was never receipted): now it chains.
    for (let s = 12; s <= 30; s++) t.match(await send(genuine[s - 1]), { kind: 'stored', seq: s }, `seq ${s} stored`)
    const stored = await ledger.readingsByDevice(d.id)
    t.same(
      stored.map((e) => e.entry.body.seq),
      Array.from({ length: 30 }, (_, i) => i + 1),
      'every genuine reading chained exactly once',
    )
    t.same(readingHash(genuine[29]), readingHash(Buffer.from(stored[29].entry.body.payload, 'base64')))
    const q = ledger.stats().quarantineByReason
    t.same(
      { limit: q.ERR_HELD_LIMIT, far: q.ERR_HELD_TOO_FAR },
      { limit: 3, far: 1 },
      'the refusals are counted by reason (the quarantine metric)',
    )
  },
)

t.test(
  'held caps: a genuine device after a long outage (readings far ahead reporting BUFFER_OVERFLOW) is held, not trapped',
  async (t) => {
    const { dir, remove } = await tempDir()
    const ledger = await openLedger({ dir, clock: () => NOW, checkpointIntervalMs: 0 })
    const ingest = createIngest({
      ledger,
      url: 'mqtt://127.0.0.1:1',
      gapCheckIntervalMs: 0,
      maxHeldPerDevice: 5,
      maxHeldAhead: 10,
    })
    t.teardown(async () => {
      await ingest.close()
      await ledger.close()
      await remove()
    })
    const d = simDevice('probe-outage', 32)
    await ledger.registerDevice({ deviceId: d.id, publicKey: d.publicKey, by: 'qa' })
    const topic = deviceTopic(d.id, 'readings')
    const send = (p: Uint8Array) => ingest.handle(topic, p, NOW)
    t.match(await send(nextReading(d, 500, T0)), { kind: 'stored', seq: 1 })
    // 2..50 dropped by the full buffer during the outage; 51..53 kept, each flagged.
    for (let s = 2; s <= 50; s++) nextReading(d, 500, T0 + s * 1000)
    const kept = [51, 52, 53].map((s) => nextReading(d, 500, T0 + s * 1000, { status: STATUS.BUFFER_OVERFLOW }))
    for (const p of kept) t.match(await send(p), { kind: 'held' })
    const e = await ledger.declareGap({ deviceId: d.id, fromSeq: 2, toSeq: 50, cause: 'buffer-overflow', by: 'qa' })
    t.ok(e.entry.index > 0, 'the range the device dropped can be declared lost')
    t.match(ledger.device(d.id), { contiguous: 53, gaps: [] }, 'the held readings chained above the declared gap')
  },
)
