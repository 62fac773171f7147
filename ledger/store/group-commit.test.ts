import t from 'tap'
import { join } from 'node:path'
import { createGroupCommit } from './group-commit.ts'
import { openLedger } from './ledger.ts'
import { MAX_BATCH_ITEMS } from './store.ts'
import { simDevice, tempDir } from '../test/support.ts'

t.test('items queued during a write go into the next batch together', async (t) => {
  const batches: number[][] = []
  let release!: () => void
  let gate = new Promise<void>((r) => {
    release = r
  })
  const gc = createGroupCommit<number, number>(async (items) => {
    batches.push(items)
    await gate
    return items.map((x) => ({ ok: true as const, value: x * 2 }))
  })
  const first = gc.submit(1)
  const rest = [2, 3, 4, 5].map((x) => gc.submit(x))
  t.equal(batches.length, 1, 'first item starts a write at once')
  t.equal(gc.pending, 4)
  let firstDone = false
  first.then(() => {
    firstDone = true
  })
  await new Promise((r) => setImmediate(r))
  t.notOk(firstDone, 'nothing resolves before its write completes')
  const g1 = release
  gate = Promise.resolve()
  g1()
  t.same(await Promise.all([first, ...rest]), [2, 4, 6, 8, 10])
  t.same(batches, [[1], [2, 3, 4, 5]])
})

t.test('a per-item failure rejects that item only; a thrown write rejects the batch', async (t) => {
  let fail = false
  const gc = createGroupCommit<number, number>(async (items) => {
    if (fail) throw new Error('disk')
    return items.map((x) =>
      x < 0 ? { ok: false as const, error: new RangeError('negative') } : { ok: true as const, value: x },
    )
  })
  const [a, b] = await Promise.allSettled([gc.submit(1), gc.submit(-1)])
  t.equal(a.status, 'fulfilled')
  t.equal(b.status, 'rejected')
  fail = true
  await t.rejects(gc.submit(3), /disk/)
  fail = false
  t.equal(await gc.submit(4), 4, 'later batches still run')
  await gc.drain()
})

t.test('maxBatch bounds a batch', async (t) => {
  const sizes: number[] = []
  const gc = createGroupCommit<number, number>(
    async (items) => {
      sizes.push(items.length)
      await new Promise((r) => setTimeout(r, 1))
      return items.map((v) => ({ ok: true as const, value: v }))
    },
    { maxBatch: 3 },
  )
  await Promise.all([...Array(10).keys()].map((i) => gc.submit(i)))
  t.ok(
    sizes.every((n) => n <= 3),
    `batch sizes ${sizes}`,
  )
  t.equal(
    sizes.reduce((a, b) => a + b, 0),
    10,
  )
})

t.test('a backlog is written in batches of at most maxBatch, one event-loop turn apart', async (t) => {
  const log: string[] = []
  let turnQueued = false
  const gc = createGroupCommit<number, number>(
    async (items) => {
      log.push(`write ${items.join(',')}`)
      // Queued before this batch settles: it must run before the next batch is built.
      if (!turnQueued) {
        turnQueued = true
        setImmediate(() => log.push('turn'))
      }
      return items.map((v) => ({ ok: true as const, value: v }))
    },
    { maxBatch: 2 },
  )
  const all = [1, 2, 3, 4, 5].map((v) => gc.submit(v))
  t.same(await Promise.all(all), [1, 2, 3, 4, 5])
  t.same(log, ['write 1', 'turn', 'write 2,3', 'write 4,5'])
})

t.test('maxBatch must be a positive integer', async (t) => {
  t.throws(() => createGroupCommit(async () => [], { maxBatch: 0 }), RangeError)
  t.throws(() => createGroupCommit(async () => [], { maxBatch: 1.5 }), RangeError)
})

t.test(
  'the store writes a backlog in batches of at most MAX_BATCH_ITEMS, each durable before it resolves',
  async (t) => {
    const { dir, remove } = await tempDir()
    t.teardown(remove)
    const path = join(dir, 'ledger')
    const n = MAX_BATCH_ITEMS * 2 + 100
    const ledger = await openLedger({ dir: path, checkpointIntervalMs: 0, checkpointEvery: 1_000_000 })
    const batches: number[] = []
    ledger.onBatch((b) => batches.push(b.items))
    const devices = Array.from({ length: n }, (_, i) => simDevice(`gc-${i}`, (i % 250) + 1))
    const resolvedInOrder: number[] = []
    const earlyResolves: string[] = []
    const writes = devices.map((d, i) =>
      ledger.registerDevice({ deviceId: d.id, publicKey: d.publicKey, by: 'test' }).then((e) => {
        // Resolved only once its batch is durable: the ledger's state has moved.
        if (!ledger.device(d.id)) earlyResolves.push(d.id)
        resolvedInOrder.push(i)
        return e.entry.index
      }),
    )
    const indices = await Promise.all(writes)
    t.same(earlyResolves, [], 'no write resolves before its batch is committed')
    t.ok(
      batches.every((k) => k <= MAX_BATCH_ITEMS),
      `batch sizes ${batches}`,
    )
    t.ok(batches.length >= 3, `${n} writes took ${batches.length} batches`)
    t.same(
      resolvedInOrder,
      devices.map((_, i) => i),
      'writes resolve in submit order',
    )
    t.same(
      indices,
      indices.map((_, i) => indices[0] + i),
      'entries are logged in submit order',
    )
    await ledger.close()
    const again = await openLedger({ dir: path, checkpointIntervalMs: 0, checkpointEvery: 1_000_000 })
    t.teardown(() => again.close())
    t.equal(again.devices().length, n, 'every acknowledged write is on disk after a reopen')
  },
)
