import t from 'tap'
import { createGroupCommit } from './group-commit.ts'

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
