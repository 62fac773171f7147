import t from 'tap'
import { cpSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { GENESIS_PREV_HASH, decodeReading, encodeReceipt, readingHash, toHex } from '../../ledger/protocol/index.ts'
import { createFleet } from '../fleet.ts'
import { loadScenario } from '../scenario/index.ts'
import { createMemoryLink, type MemoryLink } from '../memory-link.ts'
import { nodeKey, smallScenario, START, verifyWithNode } from './helpers.ts'

const collect = (dir: string, seed?: number, untilMs = Infinity) => {
  const out: Uint8Array[] = []
  const fleet = createFleet({
    scenario: smallScenario({ devices: 2 }),
    dataDir: dir,
    startMs: START,
    ...(seed !== undefined ? { seed } : {}),
    onReading: (_id, p) => out.push(p),
    log: () => {},
  })
  fleet.runUntil(untilMs)
  return { out, fleet }
}

t.test('same seed and keys give identical payload bytes; another seed gives other readings', async (t) => {
  const root = t.testdir()
  const a = collect(join(root, 'a'))
  // Keys are random per device (as a real logger's), so the second run reuses the first run's key files.
  for (const id of ['dev-1', 'dev-2']) {
    mkdirSync(join(root, 'b', id), { recursive: true })
    cpSync(join(root, 'a', id, 'key.json'), join(root, 'b', id, 'key.json'))
    mkdirSync(join(root, 'c', id), { recursive: true })
    cpSync(join(root, 'a', id, 'key.json'), join(root, 'c', id, 'key.json'))
  }
  const b = collect(join(root, 'b'))
  t.equal(a.out.length, 2 * 25, '2 devices × (120 min / 5 + 1) samples')
  t.same(b.out.map(toHex), a.out.map(toHex), 'byte-identical payloads')
  const c = collect(join(root, 'c'), 43)
  const temps = (ps: Uint8Array[]) => ps.map((p) => decodeReading(p).fields.tempCentiC)
  t.notSame(temps(c.out), temps(a.out), 'a different seed gives different temperatures')
  t.same(
    c.out.map((p) => decodeReading(p).fields.deviceTimeMs),
    a.out.map((p) => decodeReading(p).fields.deviceTimeMs),
    'on the same schedule',
  )
})

t.test('the chain links and continues across a restart exactly as an uninterrupted run', async (t) => {
  const root = t.testdir()
  const whole = collect(join(root, 'whole'))
  mkdirSync(join(root, 'split', 'dev-1'), { recursive: true })
  mkdirSync(join(root, 'split', 'dev-2'), { recursive: true })
  for (const id of ['dev-1', 'dev-2']) cpSync(join(root, 'whole', id, 'key.json'), join(root, 'split', id, 'key.json'))
  const first = collect(join(root, 'split'), undefined, START + 60 * 60_000)
  await first.fleet.stop()
  const second = collect(join(root, 'split'))
  t.equal(first.out.length, 2 * 13, 'first run: up to minute 60')
  t.equal(second.out.length, 2 * 12, 'second run: the rest, nothing repeated')
  t.same(
    [...first.out, ...second.out].map(toHex).sort(),
    whole.out.map(toHex).sort(),
    'restart yields the same readings as one run',
  )

  const keys = new Map(whole.fleet.provisioningRecords().map((r) => [r.deviceId, nodeKey(r.publicKey)]))
  const byDevice = new Map<string, Uint8Array[]>()
  for (const p of [...first.out, ...second.out]) {
    const id = decodeReading(p).fields.deviceId
    byDevice.set(id, [...(byDevice.get(id) ?? []), p])
  }
  for (const [id, ps] of byDevice) {
    let prev = GENESIS_PREV_HASH
    ps.forEach((p, i) => {
      const f = decodeReading(p).fields
      if (f.seq !== i + 1 || toHex(f.prevHash) !== toHex(prev)) t.fail(`${id} seq ${f.seq}: chain broken`)
      if (!verifyWithNode(p, keys.get(id) as ReturnType<typeof nodeKey>))
        t.fail(`${id} seq ${f.seq}: signature fails under Node crypto`)
      prev = readingHash(p)
    })
    t.pass(`${id}: seq 1..${ps.length} strictly +1, prevHash links, signatures verify with Node crypto`)
  }
})

t.test('demo fleet runs deterministically in memory with its faults', async (t) => {
  const run = () => {
    const out: Uint8Array[] = []
    // An in-memory "ledger" that receipts every reading at once: only a connectivity loss can fill a buffer.
    const f = createFleet({
      scenario: loadScenario('demo-fleet'),
      startMs: START,
      log: () => {},
      link: () => {
        const l: MemoryLink = createMemoryLink((p) => {
          out.push(p)
          l.receipt(encodeReceipt({ seq: decodeReading(p).fields.seq, hash: readingHash(p) }))
        })
        return l
      },
    })
    f.start()
    f.runUntil(Infinity)
    return { out, f }
  }
  const { out, f } = run()
  await f.stop()
  const fields = out.map((p) => decodeReading(p).fields)
  t.ok(
    fields.some((x) => (x.status ?? 0) & 0x0001),
    'a reading flags SENSOR_FAULT',
  )
  t.ok(
    fields.some((x) => (x.status ?? 0) & 0x0002),
    'a reading flags BUFFER_OVERFLOW (connectivity loss overflowed the buffer)',
  )
  t.ok(
    fields.some((x) => (x.events ?? 0) & 0x01),
    'door openings are flagged',
  )
  const jumped = fields.filter((x) => x.deviceId === 'demo-12-a')
  t.ok(
    jumped.some((x, i) => i > 0 && x.deviceTimeMs < jumped[i - 1].deviceTimeMs),
    'the clock jump makes device time go backwards',
  )
  const gap = f.status().find((s) => s.deviceId === 'demo-10-a')
  t.ok(gap && gap.dropped > 0, `connectivity loss dropped ${gap?.dropped} readings`)
  t.ok(
    f
      .status()
      .filter((s) => s.deviceId !== 'demo-10-a')
      .every((s) => s.dropped === 0 && s.buffered === 0),
    'every other buffer drained',
  )
  const g = fields.filter((x) => x.deviceId === 'demo-10-a').map((x) => x.seq)
  t.ok(
    g.some((s, i) => i > 0 && s !== g[i - 1] + 1),
    "the ledger sees a gap in demo-10-a's sequence",
  )
  t.ok(f.status().every((s) => s.finished))
})
