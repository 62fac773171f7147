/**
 * The MQTT ingest against a real aedes broker on 127.0.0.1 and a real ledger
 * on LevelDB: devices sign with @noble/ed25519, the ingest verifies with
 * Node's crypto. Receipts, duplicates, gaps and resend, every quarantine
 * reason, PUBACK only after commit, the persistent session, group commit.
 */
import t from 'tap'
import { openLedger, type Ledger } from '../store/ledger.ts'
import { createIngest, type Ingest, type IngestOptions } from '../ingest/ingest.ts'
import {
  decodeReading,
  deviceTopic,
  MAX_READING_PAYLOAD,
  readingHash,
  toHex,
  fromBase64,
  GENESIS_PREV_HASH,
  equalBytes,
  STATUS,
} from '../protocol/index.ts'
import { QUARANTINE_REASONS, type QuarantineReason } from '../store/state-types.ts'
import { DeviceLoop, nextReading, signFields, simDevice, startBroker, tempDir, waitFor, T0 } from './support.ts'

interface TT {
  teardown(fn: () => unknown): void
}

const NOW = T0 + 3_600_000

async function setup(
  t: TT,
  { devices = ['probe-a'], clientId = 'ingest-test' }: { devices?: string[]; clientId?: string } = {},
) {
  const broker = await startBroker()
  const { dir, remove } = await tempDir()
  const ledger = await openLedger({ dir, clock: () => NOW, checkpointIntervalMs: 0 })
  const loops: DeviceLoop[] = []
  for (const [i, id] of devices.entries()) {
    const d = simDevice(id, i + 1)
    await ledger.registerDevice({ deviceId: id, publicKey: d.publicKey, by: 'qa' })
    const loop = new DeviceLoop(d)
    await loop.connect(broker.url)
    loops.push(loop)
  }
  const ingest = createIngest({ ledger, url: broker.url, clientId, resendIntervalMs: 200 })
  await ingest.start()
  t.teardown(async () => {
    await ingest.close().catch(() => {})
    for (const l of loops) await l.close().catch(() => {})
    await ledger.close().catch(() => {})
    await broker.close()
    await remove()
  })
  return { broker, ledger, ingest, loops, dir }
}

t.test('readings are stored, receipted, and each PUBACK follows its commit', async (t) => {
  const {
    broker,
    ledger,
    ingest,
    loops: [dev],
  } = await setup(t)
  // aedes emits 'ack' when a subscriber PUBACKs a delivered QoS 1 message.
  const violations: string[] = []
  let acked = 0
  broker.broker.on('ack', (packet, client) => {
    if (client?.id !== 'ingest-test' || !packet || !('payload' in packet)) return
    const r = decodeReading(new Uint8Array(packet.payload as Buffer))
    acked++
    const d = ledger.device(r.fields.deviceId)
    // Durable state only: the device record moves when the batch holding the reading is written.
    if (!d || d.highest < r.fields.seq) violations.push(`seq ${r.fields.seq} acked before it was durable`)
  })
  for (let i = 0; i < 30; i++) dev.send(500 + i, T0 + i * 60_000)
  await waitFor(() => dev.receipt.seq === 30, 'receipt 30')
  await waitFor(() => acked === 30, 'all PUBACKs')
  t.same(violations, [], 'no PUBACK before the commit of its message')
  t.equal(dev.badReceipts, 0, "every receipt carries the hash of the device's own reading")
  t.ok(equalBytes(dev.receipt.hash, readingHash(dev.sent.get(30)!)))
  const stored = await ledger.readingsByDevice('probe-a')
  t.equal(stored.length, 30)
  t.ok(
    stored.every((e, i) => equalBytes(fromBase64(e.entry.body.payload), dev.sent.get(i + 1)!)),
    'the exact signed bytes are stored',
  )
  const s = ingest.stats()
  t.equal(s.readings, 30)
  t.equal(s.ingestLatency.count, 30)
  t.equal(s.deviceLatency.count, 30)
})

t.test('duplicates are idempotent: no new entry, the receipt is sent again', async (t) => {
  const {
    ledger,
    ingest,
    loops: [dev],
  } = await setup(t)
  for (let i = 0; i < 5; i++) dev.send(500, T0 + i)
  await waitFor(() => dev.receipt.seq === 5, 'receipt 5')
  const size = ledger.size()
  const receipts = dev.receipts
  await dev.publishRaw(dev.d.topic, dev.sent.get(3)!)
  await dev.publishRaw(dev.d.topic, dev.sent.get(5)!)
  await waitFor(() => ingest.stats().duplicates === 2, 'two duplicates judged')
  await waitFor(() => dev.receipts >= receipts + 2, 'receipts re-sent')
  t.equal(ledger.size(), size, 'no entry added')
  t.equal(dev.receipt.seq, 5)
  t.equal(ingest.stats().quarantined, 0, 'a duplicate is not a rejection')
})

t.test('a gap is recorded, a resend requested, and the backfill links', async (t) => {
  const {
    ledger,
    ingest,
    loops: [dev],
  } = await setup(t)
  dev.drop = (seq) => seq === 3 || seq === 4
  for (let i = 0; i < 6; i++) dev.send(500, T0 + i * 1000)
  // seq 5 arrives after 2: gap 3..4, the ledger asks, the device answers from its buffer.
  await waitFor(() => dev.receipt.seq === 6, 'receipt 6 after backfill')
  t.ok(
    dev.resendRequests.some((r) => r.from === 3 && r.to === 4),
    `resend request for 3..4 (got ${JSON.stringify(dev.resendRequests)})`,
  )
  t.ok(ingest.stats().gapsOpened >= 1)
  t.match(ledger.device('probe-a'), { contiguous: 6, highest: 6, gaps: [] })
  const r = await ledger.readingsByDevice('probe-a')
  t.same(
    r.map((e) => e.entry.body.seq),
    [1, 2, 3, 4, 5, 6],
  )
  let prev = GENESIS_PREV_HASH
  for (const e of r) {
    const p = fromBase64(e.entry.body.payload)
    if (!equalBytes(decodeReading(p).fields.prevHash, prev)) t.fail(`seq ${e.entry.body.seq} does not link`)
    prev = readingHash(p)
  }
  t.pass('the device chain is unbroken in seq order')
  t.equal(dev.unreceipted.size, 0, 'the device buffer is empty')
})

t.test('a lost resend request is asked again on later traffic', async (t) => {
  const {
    ledger,
    loops: [dev],
  } = await setup(t)
  dev.drop = (seq) => seq === 2
  dev.ignoreResend = true
  dev.send(500, T0)
  dev.send(500, T0 + 1000)
  dev.send(500, T0 + 2000)
  await waitFor(() => dev.resendRequests.length === 1, 'first resend request')
  await waitFor(() => ledger.device('probe-a')!.highest === 3, 'seq 3 stored')
  dev.ignoreResend = false
  // Past resendIntervalMs (200 ms here), the next commit for the device repeats the request.
  await new Promise((r) => setTimeout(r, 300))
  dev.send(500, T0 + 3000)
  await waitFor(() => dev.receipt.seq === 4, 'receipt 4 after the repeated request')
  t.ok(dev.resendRequests.length >= 2, `${dev.resendRequests.length} resend requests`)
  t.same(dev.resendRequests[1], { from: 2, to: 2 })
})

t.test('every quarantine reason: stored with raw bytes, topic and reason, counted, log unchanged', async (t) => {
  const {
    ledger,
    ingest,
    loops: [a, b],
  } = await setup(t, { devices: ['probe-a', 'probe-b', 'probe-r'] })
  const r = simDevice('probe-r', 3)
  for (let i = 0; i < 3; i++) a.send(500, T0 + i * 1000)
  await waitFor(() => a.receipt.seq === 3, 'probe-a receipt 3')
  await ledger.revokeDevice({ deviceId: 'probe-r', reason: 'tampered', by: 'qa' })
  const stranger = simDevice('probe-u', 9)
  const cases: [QuarantineReason, string, Uint8Array][] = []
  const add = (reason: QuarantineReason, topic: string, payload: Uint8Array) => {
    cases.push([reason, topic, payload])
  }

  add('ERR_READING_TOO_LARGE', a.d.topic, new Uint8Array(MAX_READING_PAYLOAD + 1).fill(1))
  // A payload that does not decode is quarantined under the decoder's own code (docs/PROTOCOL.md).
  const good = nextReading(simDevice('probe-a', 1), 500, T0) // 'probe-a': N = 7, presence byte at 48 + N
  const patch = (at: number, v: number) => {
    const c = good.slice()
    c[at] = v
    return c
  }
  add('ERR_READING_TRUNCATED', a.d.topic, Uint8Array.of(1, 2, 3))
  add('ERR_READING_TRAILING_BYTES', a.d.topic, Uint8Array.from([...good, 0]))
  add('ERR_READING_UNKNOWN_VERSION', a.d.topic, patch(0, 2))
  add('ERR_READING_BAD_DEVICE_ID', a.d.topic, patch(2, 0x50))
  add('ERR_READING_FIELD_RANGE', a.d.topic, Uint8Array.from(good).fill(0, 9, 13))
  add('ERR_READING_UNKNOWN_FIELD', a.d.topic, patch(48 + 7, 0x20))
  // The wildcard subscription also matches a wrong partition digit.
  const wrongPartition = a.d.topic.replace(
    /^coldproof\/v1\/([0-9a-f])\//,
    (_m, p) => `coldproof/v1/${((parseInt(p, 16) + 1) % 16).toString(16)}/`,
  )
  add('ERR_TOPIC_INVALID', wrongPartition, nextReading(simDevice('probe-a', 1), 500, T0))
  add('ERR_TOPIC_MISMATCH', b.d.topic, nextReading(simDevice('probe-a', 1), 500, T0))
  add('ERR_UNKNOWN_DEVICE', stranger.topic, nextReading(stranger, 500, T0))
  add('ERR_REVOKED', r.topic, nextReading(r, 500, T0))
  const forged = nextReading(simDevice('probe-b', 1), 500, T0) // probe-b's id, signed with another key
  add('ERR_READING_BAD_SIGNATURE', b.d.topic, forged)
  const bFuture = simDevice('probe-b', 2)
  add('ERR_FUTURE_TIME', b.d.topic, nextReading(bFuture, 500, NOW + 10 * 60_000))
  // probe-a chains 1..3. Same seq 3, same predecessor, other bytes: a fork; the first is logged,
  // this second one (seq 2 from another history) is quarantined.
  const fork1 = signFields(a.d, {
    deviceId: 'probe-a',
    seq: 3,
    deviceTimeMs: T0 + 2001,
    tempCentiC: 999,
    prevHash: readingHash(a.sent.get(2)!),
  })
  add(
    'ERR_CHAIN_FORK',
    a.d.topic,
    signFields(a.d, {
      deviceId: 'probe-a',
      seq: 2,
      deviceTimeMs: T0 + 5,
      tempCentiC: 500,
      prevHash: new Uint8Array(32).fill(7),
    }),
  )
  // Seq 4 that does not link to the chained seq 3.
  add(
    'ERR_CHAIN_PREV_MISMATCH',
    a.d.topic,
    signFields(a.d, {
      deviceId: 'probe-a',
      seq: 4,
      deviceTimeMs: T0 + 3000,
      tempCentiC: 500,
      prevHash: new Uint8Array(32).fill(9),
    }),
  )
  // The reasons that need a held reading or a declared gap are covered by 'held readings ...' below and by held-caps.test.ts.
  const elsewhere = ['ERR_HELD_UNLINKED', 'ERR_SEQ_DECLARED_LOST', 'ERR_HELD_LIMIT', 'ERR_HELD_TOO_FAR']
  t.same(
    new Set([...cases.map((c) => c[0]), ...elsewhere]),
    new Set(Object.keys(QUARANTINE_REASONS)),
    'the cases cover every reason code',
  )

  const size = ledger.size()
  await a.publishRaw(a.d.topic, fork1)
  await waitFor(() => ingest.stats().forks === 1, 'the first fork is logged')
  for (const [, topic, payload] of cases) await a.publishRaw(topic, payload)
  await waitFor(() => ingest.stats().quarantined === cases.length, 'all rejections judged')
  await ingest.close() // settles every commit
  t.equal(ledger.size(), size + 1, 'no rejected message changed the log (one reading.fork entry added)')
  const q = await ledger.quarantined({ limit: 100 })
  t.equal(q.length, cases.length)
  for (const [reason, topic, payload] of cases) {
    const rec = q.find((x) => x.reason === reason)
    if (!rec) {
      t.fail(`no record for ${reason}`)
      continue
    }
    t.equal(rec.topic, topic, `${reason}: topic kept`)
    t.equal(rec.rawLength, payload.length, `${reason}: raw length kept`)
    t.ok(equalBytes(fromBase64(rec.raw), payload), `${reason}: raw bytes kept`)
    t.ok(rec.message.length > 0 && rec.time === NOW, `${reason}: message and receive time`)
    t.equal(ledger.stats().quarantineByReason[reason], 1, `${reason}: counted`)
  }
  t.match(
    q.find((x) => x.reason === 'ERR_READING_FIELD_RANGE')!.details,
    { field: 'seq' },
    "the decoder's evidence is kept",
  )
  t.same(ingest.stats().quarantineByReason, ledger.stats().quarantineByReason, 'ingest and ledger counters agree')
  t.match(
    ledger.device('probe-a'),
    { contiguous: 3, highest: 3, gaps: [], compromised: { seq: 3, forkIndex: size } },
    'device chain untouched, the device flagged',
  )
})

t.test('messages published while the ingest is down reach its persistent session', async (t) => {
  const {
    ledger,
    ingest,
    loops: [dev],
    broker,
  } = await setup(t, { clientId: 'ingest-persistent' })
  dev.send(500, T0)
  await waitFor(() => dev.receipt.seq === 1, 'receipt 1')
  await ingest.close()
  // No resend tricks: the device publishes once, the broker must hold the messages for the session.
  for (let i = 1; i < 20; i++) dev.send(500, T0 + i * 1000)
  await waitFor(
    () => (broker.broker as unknown as { connectedClients: number }).connectedClients === 1,
    'ingest disconnected',
    5000,
  ).catch(() => {})
  await new Promise((r) => setTimeout(r, 200))
  t.equal(ledger.device('probe-a')!.highest, 1, 'nothing is ingested while the ingest is down')
  const again = createIngest({ ledger, url: broker.url, clientId: 'ingest-persistent' })
  t.teardown(() => again.close())
  await again.start()
  await waitFor(() => ledger.device('probe-a')!.contiguous === 20, 'queued readings delivered on return', 10_000)
  t.equal(again.stats().readings, 19, 'delivered by the broker queue (no duplicates needed)')
  t.equal(dev.resendRequests.length, 0, 'no resend request was needed')
})

t.test('drop and reorder: gap detection and resend recover every reading', async (t) => {
  const {
    ledger,
    loops: [dev],
  } = await setup(t)
  const N = 60
  const payloads: Uint8Array[] = []
  for (let i = 0; i < N; i++) {
    const p = nextReading(dev.d, 400 + (i % 50), T0 + i * 1000)
    dev.sent.set(dev.d.seq, p)
    dev.unreceipted.set(dev.d.seq, p)
    payloads.push(p)
  }
  // Deterministic shuffle, then lose every 7th reading's only transmission.
  let x = 12345
  const order = payloads.map((p, i) => ({ p, seq: i + 1, k: (x = (x * 1103515245 + 12345) % 2 ** 31) }))
  order.sort((a, b) => a.k - b.k)
  const sent = order.filter((o) => o.seq % 7 !== 0)
  for (const o of sent) await dev.publishRaw(dev.d.topic, o.p)
  await waitFor(() => ledger.device('probe-a')!.contiguous === N, 'every reading recovered', 20_000)
  t.ok(dev.resendRequests.length > 0, `${dev.resendRequests.length} resend requests`)
  const r = await ledger.readingsByDevice('probe-a')
  t.same(
    r.map((e) => e.entry.body.seq),
    [...Array(N).keys()].map((i) => i + 1),
    'every seq exactly once',
  )
  t.ok(
    r.every((e) => equalBytes(fromBase64(e.entry.body.payload), dev.sent.get(e.entry.body.seq)!)),
    'exact bytes',
  )
  await waitFor(() => dev.receipt.seq === N, 'final receipt')
  t.equal((await ledger.quarantined()).length, 0, 'reordering is not a rejection')
})

t.test('group commit under MQTT load: many readings per batch', async (t) => {
  const ids = [...Array(8).keys()].map((i) => `probe-${i}`)
  const { ledger, loops } = await setup(t, { devices: ids })
  const before = ledger.stats()
  const N = 150
  for (let i = 0; i < N; i++) for (const l of loops) l.send(500, T0 + i * 1000)
  await waitFor(() => loops.every((l) => ledger.device(l.d.id)!.contiguous === N), 'all readings', 30_000)
  const after = ledger.stats()
  const readings = after.entriesByType.reading - (before.entriesByType.reading ?? 0)
  const batches = after.batches - before.batches
  t.equal(readings, N * loops.length)
  t.ok(batches < readings / 4, `${readings} readings in ${batches} batches`)
  t.comment(`MQTT group commit: ${readings} readings in ${batches} batches, largest ${after.largestBatch}`)
  for (const l of loops) await waitFor(() => l.receipt.seq === N, `receipt of ${l.d.id}`)
})

/** A ledger and an ingest judged through handle() (no broker), with one registered device. */
async function handleRig(t: TT, id: string, seed: number, opts: Partial<IngestOptions> = {}) {
  const { dir, remove } = await tempDir()
  const ledger: Ledger = await openLedger({ dir, clock: () => NOW, checkpointIntervalMs: 0 })
  const ingest: Ingest = createIngest({ ...opts, ledger, url: 'mqtt://127.0.0.1:1' })
  t.teardown(async () => {
    await ingest.close()
    await ledger.close()
    await remove()
  })
  const d = simDevice(id, seed)
  await ledger.registerDevice({ deviceId: d.id, publicKey: d.publicKey, by: 'qa' })
  return { ledger, ingest, d, topic: deviceTopic(d.id, 'readings') }
}

t.test('handle(): the judging logic without a broker', async (t) => {
  const { ledger, ingest, d } = await handleRig(t, 'probe-h', 5)
  const p1 = nextReading(d, 500, T0),
    p2 = nextReading(d, 500, T0 + 1),
    p3 = nextReading(d, 500, T0 + 2)
  const topic = deviceTopic(d.id, 'readings')
  // A burst: judged one by one, committed together; the pending p1 is p2's predecessor.
  const out = await Promise.all([
    ingest.handle(topic, p1),
    ingest.handle(topic, p2),
    ingest.handle(topic, p1),
    ingest.handle(topic, p3),
  ])
  t.same(
    out.map((o) => o.kind),
    ['stored', 'stored', 'duplicate', 'stored'],
  )
  t.equal(ledger.device(d.id)!.contiguousHash, toHex(readingHash(p3)))
})

t.test('held readings: a forged reading above a gap never blocks the genuine ones', async (t) => {
  const { ledger, ingest, d, topic } = await handleRig(t, 'probe-f', 6)
  const genuine = [...Array(8).keys()].map((i) => nextReading(d, 500 + i, T0 + i * 1000))
  for (const p of genuine.slice(0, 3)) await ingest.handle(topic, p)
  // Same key, seq jumps to 6, prevHash made up: held, not chained, not receipted.
  const forged = signFields(d, {
    deviceId: d.id,
    seq: 6,
    deviceTimeMs: T0 + 5500,
    tempCentiC: 300,
    prevHash: new Uint8Array(32).fill(3),
  })
  t.match(await ingest.handle(topic, forged), { kind: 'held', seq: 6 })
  t.match(ledger.device(d.id), { contiguous: 3, highest: 6, gaps: [[4, 5]] })
  t.equal((await ledger.readingsByDevice(d.id)).length, 3, 'the held reading is not in the log')
  t.same(
    (await ledger.heldReadings(d.id)).map((r) => r.seq),
    [6],
  )
  // Genuine 5 arrives before 4: held too (links to nothing chained yet).
  t.match(await ingest.handle(topic, genuine[4]), { kind: 'held', seq: 5 })
  // Genuine 4 fills the gap: 4 and the held 5 chain; the held forged 6 does not link to 5.
  t.match(await ingest.handle(topic, genuine[3]), { kind: 'stored', seq: 4 })
  t.match(ledger.device(d.id), { contiguous: 5, highest: 5, gaps: [] })
  t.same(await ledger.heldReadings(d.id), [], 'nothing is held any more')
  const q = await ledger.quarantined()
  t.match(
    q,
    [{ reason: 'ERR_HELD_UNLINKED', seq: 6, deviceId: d.id }],
    'the forged reading is quarantined with its reason',
  )
  t.ok(equalBytes(fromBase64(q[0].raw), forged))
  // The genuine 6 chains; with the unlinked forged 6 that proves a fork.
  t.match(await ingest.handle(topic, genuine[5]), { kind: 'stored', seq: 6 })
  const forks = await ledger.entriesByType('reading.fork')
  t.equal(forks.length, 1, 'the two signed payloads of seq 6 are logged as a fork')
  t.same(
    new Set(forks[0].entry.body.payloads.map((b) => toHex(readingHash(fromBase64(b))))),
    new Set([toHex(readingHash(forged)), toHex(readingHash(genuine[5]))]),
  )
  t.match(ledger.device(d.id), {
    contiguous: 6,
    contiguousHash: toHex(readingHash(genuine[5])),
    compromised: { seq: 6, forkIndex: forks[0].entry.index },
  })
  const chain = await ledger.readingsByDevice(d.id)
  t.same(
    chain.map((e) => e.entry.body.seq),
    [1, 2, 3, 4, 5, 6],
    'the log holds the genuine chain in seq order',
  )
  t.ok(chain.every((e, i) => equalBytes(fromBase64(e.entry.body.payload), genuine[i])))
  // A later fork of the same device is quarantined, not logged again.
  const again = signFields(d, {
    deviceId: d.id,
    seq: 2,
    deviceTimeMs: T0 + 1,
    tempCentiC: 1,
    prevHash: readingHash(genuine[0]),
  })
  t.match(await ingest.handle(topic, again), { kind: 'quarantined', reason: 'ERR_CHAIN_FORK' })
  t.equal(ingest.stats().held, 2)
})

t.test('two different signed readings of one held seq are a fork; the held one stays held', async (t) => {
  const { ledger, ingest, d, topic } = await handleRig(t, 'probe-k', 7)
  const genuine = [...Array(4).keys()].map((i) => nextReading(d, 500, T0 + i * 1000))
  await ingest.handle(topic, genuine[0])
  t.match(await ingest.handle(topic, genuine[2]), { kind: 'held', seq: 3 })
  const other = signFields(d, {
    deviceId: d.id,
    seq: 3,
    deviceTimeMs: T0 + 2500,
    tempCentiC: 100,
    prevHash: readingHash(genuine[1]),
  })
  t.match(await ingest.handle(topic, other), { kind: 'fork', seq: 3 })
  t.match(ledger.device(d.id), { contiguous: 1, compromised: { seq: 3 } })
  t.match(await ingest.handle(topic, genuine[2]), { kind: 'duplicate' }, 'the held one is still held')
  t.match(await ingest.handle(topic, genuine[1]), { kind: 'stored', seq: 2 })
  t.match(ledger.device(d.id), { contiguous: 3, contiguousHash: toHex(readingHash(genuine[2])) })
  // After a restart the ingest reloads held readings and the compromised flag from the ledger.
  t.match(await ingest.handle(topic, genuine[3]), { kind: 'stored', seq: 4 })
})

t.test(
  'declared gaps: overflow after the grace period, abandoned after the deadline, later arrivals refused',
  async (t) => {
    let now = NOW
    const { ledger, ingest, d, topic } = await handleRig(t, 'probe-g', 8, {
      clock: () => now,
      overflowGraceMs: 60_000,
      resendDeadlineMs: 3_600_000,
      gapCheckIntervalMs: 0,
    })
    const p = [...Array(10).keys()].map((i) =>
      nextReading(d, 500, T0 + i * 1000, i === 4 ? { status: STATUS.BUFFER_OVERFLOW } : {}),
    )
    for (const k of [0, 1, 4, 5]) await ingest.handle(topic, p[k])
    t.match(ledger.device(d.id), { contiguous: 2, highest: 6, gaps: [[3, 4]] }, 'seq 5 (flagged) and 6 held above 3..4')
    t.same(await ingest.checkGaps(), [])
    now += 59_999
    t.same(await ingest.checkGaps(), [], 'not before the grace period has passed')
    now += 1
    const [overflow] = await ingest.checkGaps()
    t.match(overflow.entry.body, { deviceId: d.id, fromSeq: 3, toSeq: 4, cause: 'buffer-overflow', by: 'ingest' })
    t.match(ledger.device(d.id), { contiguous: 6, highest: 6, gaps: [] }, 'the held readings are chained')
    t.match(
      await ingest.handle(topic, p[2]),
      { kind: 'quarantined', reason: 'ERR_SEQ_DECLARED_LOST' },
      'a reading of a declared range that turns up later is refused',
    )
    // 7 and 8 lost without an overflow flag: only the deadline declares them.
    for (const k of [8, 9]) await ingest.handle(topic, p[k])
    t.match(ledger.device(d.id), { contiguous: 6, gaps: [[7, 8]] })
    now += 60_000
    t.same(await ingest.checkGaps(), [], 'no overflow flag: the grace period does not apply')
    now += 3_600_000
    const [abandoned] = await ingest.checkGaps()
    t.match(abandoned.entry.body, { fromSeq: 7, toSeq: 8, cause: 'resend-abandoned' })
    t.match(
      await ingest.handle(topic, nextReading(d, 500, T0 + 10_000)),
      { kind: 'stored', seq: 11 },
      'the chain goes on',
    )
    t.same(ingest.stats().gapsDeclared, { 'buffer-overflow': 1, 'resend-abandoned': 1 })
  },
)
