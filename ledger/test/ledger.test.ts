/**
 * The ledger store and API on a real LevelDB in a temp dir: write API and its
 * typed refusals, hash links, Merkle root and proofs against the reference
 * implementation, indexes, group commit, checkpoints, restart and recovery.
 */
import t from 'tap'
import { stat, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { openLedger, openLedgerReader, profileHashOf, type Ledger } from '../store/ledger.ts'
import { isLedgerError } from '../store/errors.ts'
import { leafHash, rootFromLeaves, verifyConsistency, verifyInclusion } from '../tlog/merkle.ts'
import { verifyNote } from '../tlog/note.ts'
import { parseCheckpoint } from '../tlog/checkpoint.ts'
import { GENESIS_PREV, decodeEntry, entryHash } from '../tlog/entry-codec.ts'
import { decodeReading, fromBase64, readingHash, toBase64, toHex } from '../protocol/index.ts'
import { nodeVerify } from '../protocol/test/support.ts'
import { nextReading, simDevice, tempDir, T0, type SimDevice } from './support.ts'

/** The parts of a tap test the helpers below use. */
interface TT {
  teardown(fn: () => unknown): void
}

const PROFILE = { name: '2-8C', lowerCentiC: 200, upperCentiC: 800 }

async function open(
  t: TT,
  opts: Partial<Parameters<typeof openLedger>[0]> = {},
): Promise<{ ledger: Ledger; dir: string }> {
  const { dir, remove } = await tempDir()
  const ledger = await openLedger({ dir, checkpointIntervalMs: 0, ...opts })
  t.teardown(async () => {
    await ledger.close().catch(() => {})
    await remove()
  })
  return { ledger, dir }
}

async function register(ledger: Ledger, d: SimDevice) {
  return ledger.registerDevice({ deviceId: d.id, publicKey: d.publicKey, by: 'qa@example.eu', model: 'sim-1' })
}

async function append(ledger: Ledger, d: SimDevice, payload: Uint8Array, receivedAt = T0) {
  return ledger.appendReading({ payload: toBase64(payload), deviceId: d.id, seq: d.seq }, receivedAt)
}

/** The error code `p` rejects with ('resolved' if it does not reject). */
async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p
    return 'resolved'
  } catch (e) {
    return (e as { code?: string }).code
  }
}

t.test('write API refuses bad input with typed errors and changes nothing', async (t) => {
  const { ledger } = await open(t)
  const a = simDevice('probe-a', 1)
  await register(ledger, a)
  const size = ledger.size()
  // The identity point (small order): under it a crafted signature verifies for any message.
  t.equal(
    await codeOf(ledger.registerDevice({ deviceId: 'probe-x', publicKey: '01' + '00'.repeat(31), by: 'qa' })),
    'ERR_LEDGER_BAD_DEVICE_KEY',
    'small-order key',
  )
  t.equal(
    await codeOf(ledger.registerDevice({ deviceId: 'probe-x', publicKey: 'zz', by: 'qa' })),
    'ERR_LEDGER_BAD_DEVICE_KEY',
    'non-hex key',
  )
  t.equal(
    await codeOf(
      ledger.registerDevice({ deviceId: 'probe-a', publicKey: simDevice('probe-b', 2).publicKey, by: 'qa' }),
    ),
    'ERR_LEDGER_DEVICE_EXISTS',
    'duplicate id',
  )
  t.equal(
    await codeOf(
      Promise.resolve().then(() => ledger.registerDevice({ deviceId: 'Probe A', publicKey: a.publicKey, by: 'qa' })),
    ),
    'ERR_LEDGER_BAD_INPUT',
    'bad device id',
  )
  t.equal(
    await codeOf(ledger.revokeDevice({ deviceId: 'probe-z', reason: 'lost', by: 'qa' })),
    'ERR_LEDGER_DEVICE_UNKNOWN',
    'revoke unknown',
  )
  t.equal(
    await codeOf(
      ledger.createShipment({
        shipmentId: 'S1',
        product: 'vaccine',
        route: { from: 'A', to: 'B' },
        devices: ['probe-z'],
        profile: PROFILE,
        startAt: T0,
        by: 'qa',
      }),
    ),
    'ERR_LEDGER_DEVICE_UNKNOWN',
    'shipment with unknown device',
  )
  t.equal(
    await codeOf(
      Promise.resolve().then(() =>
        ledger.createShipment({
          shipmentId: 'S1',
          product: 'vaccine',
          route: { from: 'A', to: 'B' },
          devices: ['probe-a'],
          profile: PROFILE,
          profileHash: '00'.repeat(32),
          startAt: T0,
          by: 'qa',
        }),
      ),
    ),
    'ERR_LEDGER_PROFILE_HASH_MISMATCH',
    'wrong profile hash',
  )
  t.equal(
    await codeOf(ledger.closeShipment({ shipmentId: 'S9', closedAt: T0, by: 'qa' })),
    'ERR_LEDGER_SHIPMENT_UNKNOWN',
    'close unknown shipment',
  )
  t.equal(
    await codeOf(ledger.acknowledgeAlarm({ shipmentId: 'S9', alarmId: 'x', reason: 'r', comment: '', by: 'qa' })),
    'ERR_LEDGER_SHIPMENT_UNKNOWN',
    'ack for unknown shipment',
  )
  t.equal(ledger.size(), size, 'no refused write added an entry')

  const s = await ledger.createShipment({
    shipmentId: 'S1',
    product: 'vaccine',
    route: { from: 'A', to: 'B' },
    devices: ['probe-a'],
    profile: PROFILE,
    startAt: T0,
    by: 'qa',
  })
  t.equal(s.entry.body.profileHash, profileHashOf(PROFILE))
  t.equal(
    await codeOf(
      ledger.createShipment({
        shipmentId: 'S1',
        product: 'vaccine',
        route: { from: 'A', to: 'B' },
        devices: ['probe-a'],
        profile: PROFILE,
        startAt: T0,
        by: 'qa',
      }),
    ),
    'ERR_LEDGER_SHIPMENT_EXISTS',
    'duplicate shipment',
  )
  t.equal(
    await codeOf(ledger.closeShipment({ shipmentId: 'S1', closedAt: T0 - 1, by: 'qa' })),
    'ERR_LEDGER_BAD_INPUT',
    'closedAt before startAt',
  )
  t.equal(
    await codeOf(ledger.closeShipment({ shipmentId: 'S1', closedAt: T0 + 1000, by: 'qa' })),
    'ERR_LEDGER_EVIDENCE_ENDS_EARLY',
    'no reading reaches the close',
  )
  t.equal(
    await codeOf(
      Promise.resolve().then(() =>
        ledger.closeShipment({ shipmentId: 'S1', closedAt: T0 + 1000, by: 'qa', endsEarly: { reason: '' } }),
      ),
    ),
    'ERR_LEDGER_BAD_INPUT',
    'endsEarly without a reason',
  )
  await ledger.closeShipment({
    shipmentId: 'S1',
    closedAt: T0 + 1000,
    by: 'qa',
    endsEarly: { reason: 'logger never switched on' },
  })
  t.equal(
    await codeOf(ledger.closeShipment({ shipmentId: 'S1', closedAt: T0 + 2000, by: 'qa', endsEarly: { reason: 'x' } })),
    'ERR_LEDGER_SHIPMENT_CLOSED',
    'close twice',
  )
  await ledger.revokeDevice({ deviceId: 'probe-a', reason: 'lost', by: 'qa' })
  t.equal(
    await codeOf(ledger.revokeDevice({ deviceId: 'probe-a', reason: 'lost', by: 'qa' })),
    'ERR_LEDGER_DEVICE_REVOKED',
    'revoke twice',
  )
  t.same(ledger.lookupDevice('probe-a'), { publicKey: a.publicKey, revoked: true }, 'lookupDevice reports revocation')
  t.equal(ledger.lookupDevice('probe-z'), undefined)
})

t.test('entries are hash-linked, Merkle-summarised, and proofs verify', async (t) => {
  const { ledger } = await open(t)
  const devs = [simDevice('probe-a', 1), simDevice('probe-b', 2)]
  for (const d of devs) await register(ledger, d)
  await ledger.createShipment({
    shipmentId: 'S1',
    product: 'insulin',
    route: { from: 'Basel', to: 'Lyon' },
    devices: devs.map((d) => d.id),
    profile: PROFILE,
    startAt: T0,
    by: 'qa',
  })
  for (let i = 0; i < 20; i++) {
    await Promise.all(devs.map((d) => append(ledger, d, nextReading(d, 500 + i, T0 + i * 60_000))))
  }
  await ledger.acknowledgeAlarm({
    shipmentId: 'S1',
    alarmId: 'A-1',
    reason: 'door opened',
    comment: 'checked',
    by: 'operator',
  })
  const n = ledger.size()
  const leaves: Uint8Array[] = []
  let prev = GENESIS_PREV
  for (let i = 0; i < n; i++) {
    const e = await ledger.getEntry(i)
    t.same(decodeEntry(e.bytes), e.entry, `entry ${i} bytes are canonical and decode to the entry`)
    if (e.entry.index !== i || e.entry.prev !== prev) t.fail(`entry ${i} link`)
    prev = entryHash(e.bytes)
    leaves.push(leafHash(e.bytes))
  }
  t.pass('every entry links to the previous one')
  t.equal(toHex(ledger.rootHash()), toHex(rootFromLeaves(leaves)), 'incremental root equals the reference root')
  for (const size of [1, 2, 3, 7, 8, 13, n]) {
    const root = await ledger.rootAt(size)
    t.equal(toHex(root), toHex(rootFromLeaves(leaves.slice(0, size))), `rootAt(${size})`)
    for (let i = 0; i < size; i++) verifyInclusion(leaves[i], i, size, await ledger.inclusionProof(i, size), root)
    for (const old of [1, Math.max(1, size >> 1), size])
      verifyConsistency(old, size, await ledger.rootAt(old), root, await ledger.consistencyProof(old, size))
  }
  t.pass('inclusion and consistency proofs verify')
  const bad = await ledger.inclusionProof(3, n)
  bad[0] = bad[0].slice()
  bad[0][0] ^= 1
  t.throws(
    () => verifyInclusion(leaves[3], 3, n, bad, ledger.rootHash()),
    { code: 'ERR_MERKLE_ROOT_MISMATCH' },
    'an altered proof fails',
  )
  t.equal(await codeOf(ledger.inclusionProof(n, n)), 'ERR_LEDGER_INDEX_RANGE', 'index beyond size')
  t.equal(await codeOf(ledger.rootAt(n + 1)), 'ERR_LEDGER_INDEX_RANGE', 'size beyond the log')
})

t.test('indexes answer device, shipment and type queries', async (t) => {
  const { ledger } = await open(t)
  const a = simDevice('probe-a', 1),
    b = simDevice('probe-b', 2)
  await register(ledger, a)
  await register(ledger, b)
  // Readings before the shipment exists, with device times before and after its startAt.
  for (let i = 0; i < 5; i++) await append(ledger, a, nextReading(a, 400 + i, T0 + i * 1000))
  await ledger.createShipment({
    shipmentId: 'S1',
    product: 'insulin',
    route: { from: 'Basel', to: 'Lyon' },
    devices: ['probe-a'],
    profile: PROFILE,
    startAt: T0 + 2000,
    by: 'qa',
  })
  for (let i = 5; i < 10; i++) await append(ledger, a, nextReading(a, 400 + i, T0 + i * 1000, { batteryPct: 90 - i }))
  for (let i = 0; i < 3; i++) await append(ledger, b, nextReading(b, 300, T0 + i * 1000))
  // A reading of probe-a with device time after closedAt arrives before the close.
  await append(ledger, a, nextReading(a, 410, T0 + 20_000))
  await ledger.closeShipment({ shipmentId: 'S1', closedAt: T0 + 8000, by: 'qa' })

  const byDev = await ledger.readingsByDevice('probe-a', 3, 6)
  t.same(
    byDev.map((e) => e.entry.body.seq),
    [3, 4, 5, 6],
    'by device and seq range',
  )
  const ship = await ledger.readingsByShipment('S1')
  t.same(
    ship.map((e) => e.entry.body.seq),
    [3, 4, 5, 6, 7, 8, 9],
    'by shipment: device time in [startAt, closedAt], other devices excluded',
  )
  t.same(
    (await ledger.readingsByShipment('S1', { fromTime: T0 + 5000, limit: 2 })).map((e) => e.entry.body.seq),
    [6, 7],
    'time window and limit',
  )
  t.equal((await ledger.entriesByType('reading')).length, 14)
  t.same(
    (await ledger.entriesByType('device.register')).map((e) => e.entry.body.deviceId),
    ['probe-a', 'probe-b'],
  )
  const d = ledger.device('probe-a')!
  t.match(d, {
    contiguous: 11,
    highest: 11,
    gaps: [],
    readings: 11,
    batteryPct: 81,
    lastDeviceTime: T0 + 20_000,
    revoked: false,
  })
  t.equal(d.contiguousHash, toHex(a.prev), 'contiguous hash is the hash of the last reading')
  t.same(
    ledger.shipments().map((s) => [s.shipmentId, s.closedAt]),
    [['S1', T0 + 8000]],
  )
  t.equal(ledger.devices().length, 2)
  t.equal(await codeOf(ledger.readingsByShipment('nope')), 'ERR_LEDGER_SHIPMENT_UNKNOWN', 'unknown shipment query')
})

t.test(
  'readings above a gap are held outside the log; the fill chains them; a declared gap moves the head',
  async (t) => {
    const { ledger } = await open(t)
    const a = simDevice('probe-a', 1)
    await register(ledger, a)
    const p = [1, 2, 3, 4, 5, 6, 7].map((i) => ({ payload: nextReading(a, 500, T0 + i), seq: a.seq }))
    const b64 = (k: number) => ({ payload: toBase64(p[k].payload), deviceId: a.id, seq: p[k].seq })
    const put = (k: number) => ledger.appendReading(b64(k), T0)
    const hold = (k: number) => ledger.holdReading(b64(k), T0)
    await put(0)
    await hold(3)
    t.match(ledger.device('probe-a'), { contiguous: 1, highest: 4, gaps: [[2, 3]] })
    t.equal(await codeOf(put(3)), 'ERR_LEDGER_CHAIN_ORDER', 'a held seq is not appended directly')
    t.equal(await codeOf(hold(1)), 'ERR_LEDGER_CHAIN_ORDER', 'the next seq is never held')
    t.equal(await codeOf(put(2)), 'ERR_LEDGER_CHAIN_ORDER', 'a reading above a gap is not appended')
    await hold(2)
    t.match(ledger.device('probe-a'), { contiguous: 1, highest: 4, gaps: [[2, 2]] })
    t.equal((await ledger.readingsByDevice('probe-a')).length, 1, 'held readings are not in the log')
    const size = ledger.size()
    await put(1)
    t.equal(ledger.size(), size + 3, 'seq 2 and the held 3 and 4 are chained in one batch')
    t.match(ledger.device('probe-a'), {
      contiguous: 4,
      highest: 4,
      gaps: [],
      contiguousHash: toHex(readingHash(p[3].payload)),
    })
    t.same(await ledger.heldReadings('probe-a'), [])
    t.equal(await codeOf(put(1)), 'ERR_LEDGER_CHAIN_ORDER', 'the store refuses a second copy of a chained seq')
    t.same(
      (await ledger.readingsByDevice('probe-a')).map((e) => e.entry.body.seq),
      [1, 2, 3, 4],
      'seq order',
    )
    // seq 5 never arrives; 6 and 7 are held; a gap entry declares 5 lost and chains 6 and 7.
    await hold(5)
    await hold(6)
    t.equal(
      await codeOf(
        ledger.declareGap({ deviceId: a.id, fromSeq: 5, toSeq: 6, cause: 'operator', by: 'qa', detail: 'x' }),
      ),
      'ERR_LEDGER_GAP_RANGE',
      'only the whole range below the lowest held reading',
    )
    const gap = await ledger.declareGap({
      deviceId: a.id,
      fromSeq: 5,
      toSeq: 5,
      cause: 'operator',
      by: 'qa',
      detail: 'logger reset',
    })
    const after = await ledger.readingsByDevice('probe-a')
    t.same(
      after.map((e) => [e.entry.body.seq, e.entry.index]),
      [
        [1, 1],
        [2, size],
        [3, size + 1],
        [4, size + 2],
        [6, gap.entry.index + 1],
        [7, gap.entry.index + 2],
      ],
    )
    t.match(ledger.device('probe-a'), {
      contiguous: 7,
      highest: 7,
      gaps: [],
      contiguousHash: toHex(readingHash(p[6].payload)),
    })
    t.equal(
      await codeOf(
        ledger.declareGap({ deviceId: a.id, fromSeq: 8, toSeq: 9, cause: 'operator', by: 'qa', detail: 'x' }),
      ),
      'ERR_LEDGER_GAP_RANGE',
      'no gap without a held reading above it',
    )
  },
)

t.test('the quarantine is bounded per device and in total: over a cap a rejection is counted, not kept', async (t) => {
  const { dir, remove } = await tempDir()
  t.teardown(remove)
  const ledger = await openLedger({
    dir,
    clock: () => T0,
    checkpointIntervalMs: 0,
    quarantineCaps: { maxRecords: 5, maxPerDevice: 2 },
  })
  const a = simDevice('probe-a', 1),
    b = simDevice('probe-b', 2)
  await register(ledger, a)
  await register(ledger, b)
  const q = (
    deviceId: string,
    reason: 'ERR_READING_BAD_SIGNATURE' | 'ERR_UNKNOWN_DEVICE' = 'ERR_READING_BAD_SIGNATURE',
  ) =>
    ledger.quarantine({ reason, message: 'x', time: T0, topic: `t/${deviceId}`, raw: 'AA==', rawLength: 1, deviceId })
  const ids: number[] = []
  for (let i = 0; i < 3; i++) ids.push((await q('probe-a')).id)
  t.same(ids, [0, 1, -1], 'probe-a keeps its first two')
  for (let i = 0; i < 3; i++) ids.push((await q(`made-up-${i}`, 'ERR_UNKNOWN_DEVICE')).id)
  t.same(ids.slice(3), [2, 3, -1], 'unregistered ids share one allowance')
  ids.push((await q('probe-b')).id, (await q('probe-b')).id)
  t.same(ids.slice(6), [4, -1], 'the total cap of 5 is reached')
  const s = ledger.stats()
  t.equal(s.quarantined, 8, 'every rejection is counted')
  t.match(s, {
    quarantineDropped: 3,
    quarantineDroppedByReason: { ERR_READING_BAD_SIGNATURE: 2, ERR_UNKNOWN_DEVICE: 1 },
    quarantineKept: { records: 5, byDevice: { 'probe-a': 2, '': 2, 'probe-b': 1 } },
  })
  t.equal((await ledger.quarantined({ limit: 100 })).length, 5, 'only the kept records are stored')
  await ledger.close()
  const again = await openLedger({
    dir,
    clock: () => T0,
    checkpointIntervalMs: 0,
    quarantineCaps: { maxRecords: 100, maxPerDevice: 100, maxBytes: 1 },
  })
  t.equal(
    (
      await again.quarantine({
        reason: 'ERR_READING_BAD_SIGNATURE',
        message: 'x',
        time: T0,
        topic: 't',
        raw: 'AA==',
        rawLength: 1,
      })
    ).id,
    -1,
    'the byte cap too, and the counts survive a restart',
  )
  t.equal(again.stats().quarantineKept?.records, 5)
  await again.close()
})

t.test('group commit: many entries per fsync under load, every write durable', async (t) => {
  const { ledger, dir } = await open(t)
  const devs = [...Array(10).keys()].map((i) => simDevice(`probe-${i}`, i + 1))
  for (const d of devs) await register(ledger, d)
  const before = ledger.stats()
  let batches = 0
  const off = ledger.onBatch(() => {
    batches++
  })
  const seen: number[] = []
  const unsubscribe = ledger.subscribe((e) => {
    seen.push(e.entry.index)
  })
  const writes: Promise<unknown>[] = []
  for (let i = 0; i < 50; i++) for (const d of devs) writes.push(append(ledger, d, nextReading(d, 500, T0 + i * 1000)))
  await Promise.all(writes)
  off()
  unsubscribe()
  t.equal(seen.length, 500, 'subscribers see every committed entry')
  t.ok(
    seen.every((i, n) => n === 0 || i === seen[n - 1] + 1),
    'in log order',
  )
  const after = ledger.stats()
  const entries = after.entries - before.entries
  t.equal(entries, 500)
  t.equal(after.batches - before.batches, batches, 'the batch counter counts durable batches')
  t.ok(batches < entries / 5, `${entries} entries took ${batches} batches`)
  t.ok(after.largestBatch > 1)
  t.comment(`group commit: ${entries} entries in ${batches} batches (largest ${after.largestBatch})`)
  await ledger.close()
  const reader = await openLedgerReader(dir)
  t.teardown(() => reader.close())
  t.equal(await reader.size(), ledger.size(), 'all durable after close')
})

t.test('checkpoints: signed, verifiable with the published key, all prefixes of one tree', async (t) => {
  const { ledger, dir } = await open(t, { checkpointEvery: 10, origin: 'example.eu/coldproof-test' })
  const a = simDevice('probe-a', 1)
  await register(ledger, a)
  for (let i = 0; i < 45; i++) await append(ledger, a, nextReading(a, 500, T0 + i))
  await ledger.checkpoint()
  const cps = await ledger.entriesByType('checkpoint')
  t.ok(cps.length >= 4, `${cps.length} checkpoints for ${ledger.size()} entries`)
  const vkey = (await readFile(join(dir, 'ledger.vkey'), 'utf8')).trim()
  t.equal(vkey, ledger.verifierKey)
  t.match(vkey, /^example\.eu\/coldproof-test\+[0-9a-f]{8}\+/)
  let prevCp: { size: number; root: Uint8Array } | undefined
  for (const e of cps) {
    const { text } = await verifyNote(e.entry.body.note, vkey, nodeVerify)
    const c = parseCheckpoint(text)
    t.equal(c.origin, 'example.eu/coldproof-test')
    t.ok(c.size <= e.entry.index, 'a checkpoint covers only entries before its own')
    t.equal(toHex(c.rootHash), toHex(await ledger.rootAt(c.size)), `checkpoint ${c.size} root matches the tree`)
    if (prevCp) {
      t.ok(c.size > prevCp.size)
      verifyConsistency(
        prevCp.size,
        c.size,
        prevCp.root,
        c.rootHash,
        await ledger.consistencyProof(prevCp.size, c.size),
      )
    }
    prevCp = { size: c.size, root: c.rootHash }
  }
  const latest = ledger.latestCheckpoint()!
  t.equal(latest.note, cps[cps.length - 1].entry.body.note, 'latestCheckpoint is the last logged one')
  t.same(fromBase64(latest.rootHash), await ledger.rootAt(latest.size))
  const sizeBefore = ledger.size()
  await ledger.checkpoint()
  t.equal(ledger.size(), sizeBefore, 'no new checkpoint when nothing but the last checkpoint was added')
  const tampered = latest.note.replace(`\n${latest.size}\n`, `\n${latest.size + 1}\n`)
  await t.rejects(verifyNote(tampered, vkey, nodeVerify), 'an altered checkpoint does not verify')
})

t.test('restart continues the same ledger; the key file is kept and private', async (t) => {
  const { dir, remove } = await tempDir()
  t.teardown(remove)
  const a = simDevice('probe-a', 1)
  let ledger = await openLedger({ dir, checkpointIntervalMs: 0 })
  await register(ledger, a)
  await ledger.createShipment({
    shipmentId: 'S1',
    product: 'insulin',
    route: { from: 'Basel', to: 'Lyon' },
    devices: ['probe-a'],
    profile: PROFILE,
    startAt: T0,
    by: 'qa',
  })
  for (let i = 0; i < 5; i++) await append(ledger, a, nextReading(a, 500, T0 + i))
  const key1 = await readFile(join(dir, 'ledger.key'), 'utf8')
  t.equal((await stat(join(dir, 'ledger.key'))).mode & 0o777, 0o600, 'key file is mode 0600')
  const vkey1 = ledger.verifierKey
  await ledger.close()
  const sizeAfterClose = ledger.size()
  const cp = ledger.latestCheckpoint()!
  t.equal(cp.size, sizeAfterClose - 1, 'close signed a checkpoint over everything before its own entry')

  ledger = await openLedger({ dir, checkpointIntervalMs: 0 })
  t.teardown(() => ledger.close())
  t.equal(ledger.size(), sizeAfterClose)
  t.equal(ledger.verifierKey, vkey1, 'same key after restart')
  t.equal(await readFile(join(dir, 'ledger.key'), 'utf8'), key1, 'key file unchanged')
  t.same(ledger.latestCheckpoint(), cp)
  t.match(ledger.device('probe-a'), { contiguous: 5 })
  for (let i = 5; i < 8; i++) await append(ledger, a, nextReading(a, 500, T0 + i))
  t.same(
    (await ledger.readingsByShipment('S1')).map((e) => e.entry.body.seq),
    [1, 2, 3, 4, 5, 6, 7, 8],
  )
  const e = await ledger.getEntry(sizeAfterClose)
  const last = await ledger.getEntry(sizeAfterClose - 1)
  t.equal(e.entry.prev, last.hash, 'the first entry after restart links to the last one before')
  await t.rejects(
    openLedger({ dir, origin: 'other.example/ledger' }),
    { code: 'ERR_LEDGER_KEY_FILE' },
    'a different origin for an existing key is refused',
  )
})

t.test('open refuses a tree state that does not match the stored entries', async (t) => {
  const { dir, remove } = await tempDir()
  t.teardown(remove)
  const ledger = await openLedger({ dir, checkpointIntervalMs: 0 })
  await register(ledger, simDevice('probe-a', 1))
  await ledger.close()
  const db = new ClassicLevel<string, string>(join(dir, 'db'), { valueEncoding: 'utf8' })
  const tree = JSON.parse((await db.get('m!tree'))!)
  tree.lastHash = 'ab'.repeat(32)
  await db.put('m!tree', JSON.stringify(tree))
  await db.close()
  await t.rejects(openLedger({ dir }), { code: 'ERR_LEDGER_STATE_MISMATCH' })
  t.ok(isLedgerError(await openLedger({ dir }).catch((e) => e), 'ERR_LEDGER_STATE_MISMATCH'))
})

t.test(
  "shipment entries commit to each logger's chain head; the close must reach closedAt; readings above the close anchor are post-close",
  async (t) => {
    const { ledger } = await open(t)
    const a = simDevice('probe-a', 1),
      b = simDevice('probe-b', 2)
    await register(ledger, a)
    await register(ledger, b)
    const hashes: string[] = ['0'.repeat(64)]
    const put = async (d: SimDevice, temp: number, time: number) => {
      await append(ledger, d, nextReading(d, temp, time))
      if (d === a) hashes.push(toHex(d.prev))
    }
    for (let i = 0; i < 3; i++) await put(a, 400, T0 + i * 1000)
    const create = await ledger.createShipment({
      shipmentId: 'S1',
      product: 'insulin',
      route: { from: 'Basel', to: 'Lyon' },
      devices: ['probe-a', 'probe-b'],
      profile: PROFILE,
      startAt: T0 + 1500,
      by: 'qa',
    })
    t.same(
      create.entry.body.anchors,
      [
        { deviceId: 'probe-a', seq: 3, hash: hashes[3] },
        { deviceId: 'probe-b', seq: 0, hash: '0'.repeat(64) },
      ],
      'create anchors: the heads, genesis for a silent logger',
    )
    t.same(ledger.shipment('S1')!.createAnchors, create.entry.body.anchors)
    for (let i = 3; i < 8; i++) await put(a, 400, T0 + i * 1000)
    await put(b, 400, T0 + 9000)
    const refused = await ledger.closeShipment({ shipmentId: 'S1', closedAt: T0 + 8000, by: 'qa' }).then(
      () => null,
      (e) => e,
    )
    t.equal(refused?.code, 'ERR_LEDGER_EVIDENCE_ENDS_EARLY', "probe-a's last reading is before closedAt")
    t.same(
      refused?.details.devices,
      [{ deviceId: 'probe-a', headSeq: 8, headDeviceTime: T0 + 7000 }],
      'the details name the short logger, its head and its time',
    )
    await put(a, 410, T0 + 8000)
    const close = await ledger.closeShipment({ shipmentId: 'S1', closedAt: T0 + 8000, by: 'qa' })
    t.same(
      close.entry.body.anchors,
      [
        { deviceId: 'probe-a', seq: 9, hash: hashes[9] },
        { deviceId: 'probe-b', seq: 1, hash: toHex(b.prev) },
      ],
      'close anchors',
    )
    const before = (await ledger.readingsByShipment('S1')).map((e) => e.entry.index)
    // A reading published after the close with a device time inside the window: stored, not the shipment's.
    await put(a, 1500, T0 + 5500)
    t.same(
      (await ledger.readingsByShipment('S1')).map((e) => e.entry.index),
      before,
      "the shipment's readings are final once closed",
    )
    t.same(
      (await ledger.postCloseReadings('S1')).map((e) => e.entry.body.seq),
      [10],
      'post-close evidence',
    )
    t.equal(ledger.device('probe-a')!.contiguous, 10, 'the reading itself is stored and chained')
  },
)

t.test('a declared gap moves the head past the range it settles', async (t) => {
  const { ledger } = await open(t)
  const a = simDevice('probe-a', 1)
  await register(ledger, a)
  for (let i = 0; i < 2; i++) await append(ledger, a, nextReading(a, 400, T0 + i * 1000))
  nextReading(a, 400, T0 + 2000)
  nextReading(a, 400, T0 + 3000)
  // Above the gap: held outside the log until it is declared.
  for (const p of [nextReading(a, 400, T0 + 4000), nextReading(a, 400, T0 + 5000)])
    await ledger.holdReading({ payload: toBase64(p), deviceId: a.id, seq: decodeReading(p).fields.seq }, T0)
  t.match(ledger.device('probe-a'), { contiguous: 2, highest: 6, gaps: [[3, 4]] })
  await ledger.declareGap({
    deviceId: 'probe-a',
    fromSeq: 3,
    toSeq: 4,
    cause: 'operator',
    by: 'admin',
    detail: 'logger reset',
  })
  t.match(ledger.device('probe-a'), { contiguous: 6, highest: 6, gaps: [] })
  t.equal(
    ledger.device('probe-a')!.contiguousHash,
    toHex(a.prev),
    'the head hash is the stored reading at the new head',
  )
})
