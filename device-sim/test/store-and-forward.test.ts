import t from 'tap'
import { appendFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { STATUS, decodeReading, encodeReceipt, encodeResend, readingHash } from '../../ledger/protocol/index.ts'
import { createFleet } from '../fleet.ts'
import { createMemoryLink, type MemoryLink } from '../memory-link.ts'
import { BUFFER_FILE } from '../store-and-forward.ts'
import { smallScenario, START } from './helpers.ts'

const seqs = (ps: Uint8Array[]) => ps.map((p) => decodeReading(p).fields.seq)

function rig(dir: string, over: Parameters<typeof smallScenario>[0] = {}) {
  const sent: Uint8Array[] = []
  const warnings: string[] = []
  let link!: MemoryLink
  const fleet = createFleet({
    scenario: smallScenario(over),
    dataDir: dir,
    startMs: START,
    link: () => (link = createMemoryLink((p) => sent.push(p))),
    log: (level, msg) => {
      if (level === 'warn') warnings.push(msg)
    },
  })
  return {
    fleet,
    sent,
    warnings,
    get link() {
      return link
    },
    device: fleet.devices[0],
  }
}
const receiptFor = (p: Uint8Array) => encodeReceipt({ seq: decodeReading(p).fields.seq, hash: readingHash(p) })

t.test('unreceipted readings persist across a restart and are sent again, in order, on connect', async (t) => {
  const dir = t.testdir()
  const a = rig(dir)
  a.fleet.runUntil(START + 45 * 60_000) // 10 samples, never connected
  t.equal(a.sent.length, 0, 'nothing sent while the link is down')
  t.equal(a.device.status().buffered, 10)
  await a.fleet.stop()

  const b = rig(dir)
  t.equal(b.device.status().buffered, 10, 'the buffer survived the restart')
  await b.fleet.start()
  t.same(seqs(b.sent), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'sent in order on connect')
  b.fleet.runUntil(START + 60 * 60_000)
  t.same(seqs(b.sent).slice(10), [11, 12, 13], 'then live readings follow')
  await b.fleet.stop()
})

t.test('a receipt prunes the buffer only when its hash matches what was sent', async (t) => {
  const dir = t.testdir()
  const r = rig(dir)
  await r.fleet.start()
  r.fleet.runUntil(START + 45 * 60_000)
  t.equal(r.sent.length, 10)
  const forged = encodeReceipt({ seq: 6, hash: new Uint8Array(32).fill(9) })
  r.link.receipt(forged)
  t.equal(r.device.status().buffered, 10, 'mismatching hash: nothing pruned')
  t.match(r.warnings.join('\n'), /receipt for seq 6 names hash 0909.* but the reading sent had hash/, 'a clear warning')
  r.link.receipt(encodeReceipt({ seq: 99, hash: readingHash(r.sent[0]) }))
  t.equal(r.device.status().buffered, 10, 'receipt beyond the last seq: nothing pruned')
  r.link.receipt(receiptFor(r.sent[5]))
  t.equal(r.device.status().buffered, 4, 'seq 1..6 pruned')
  t.equal(r.device.status().receiptedSeq, 6)
  r.link.receipt(receiptFor(r.sent[5]))
  t.equal(r.device.status().buffered, 4, 'the same receipt again changes nothing')
  await r.fleet.stop()
  const again = rig(dir)
  t.same(seqs(again.device.buffered()), [7, 8, 9, 10], 'pruning persisted')
  // A lower receipt: the ledger was restored from a backup older than seq 6. The receipted
  // readings were retained (also across the restart), so they are unreceipted again and re-sent.
  await again.fleet.start()
  again.sent.length = 0
  again.link.receipt(receiptFor(r.sent[2]))
  t.same(seqs(again.device.buffered()), [4, 5, 6, 7, 8, 9, 10], 'seq 4..6 are unreceipted again')
  t.same(seqs(again.sent), [4, 5, 6, 7, 8, 9, 10], 'and re-sent with the rest')
  t.equal(again.device.status().receiptedSeq, 3)
  t.match(again.warnings.join('\n'), /receipt went back to seq 3; re-sending 3 reading/)
  await again.fleet.stop()
})

t.test('a resend request sends the asked range again', async (t) => {
  const r = rig(t.testdir())
  await r.fleet.start()
  r.fleet.runUntil(START + 45 * 60_000)
  r.sent.length = 0
  r.link.resend(encodeResend({ from: 3, to: 5 }))
  t.same(seqs(r.sent), [3, 4, 5])
  r.link.receipt(receiptFor(decodeReading(r.device.buffered()[3]).payload))
  r.sent.length = 0
  r.link.resend(encodeResend({ from: 2, to: 7 }))
  t.same(seqs(r.sent), [2, 3, 4, 5, 6, 7], 'receipted ones too (kept for a ledger restored from a backup)')
  r.sent.length = 0
  r.link.resend(new Uint8Array([1, 2, 3]))
  t.equal(r.sent.length, 0, 'a malformed request is ignored')
  t.match(r.warnings.join('\n'), /malformed resend/)
  await r.fleet.stop()
})

t.test('a full buffer drops the oldest, flags BUFFER_OVERFLOW, never stops sampling', async (t) => {
  const dir = t.testdir()
  const r = rig(dir, { bufferCapacity: 5 })
  r.fleet.runUntil(START + 45 * 60_000) // 10 samples into 5 slots
  const s = r.device.status()
  t.equal(s.seq, 10, 'sampling went on')
  t.equal(s.buffered, 5)
  t.equal(s.dropped, 5)
  const held = r.device.buffered().map((p) => decodeReading(p).fields)
  t.same(
    held.map((f) => f.seq),
    [6, 7, 8, 9, 10],
    'the newest are kept',
  )
  t.ok(
    held.every((f) => (f.status ?? 0) & STATUS.BUFFER_OVERFLOW),
    'readings taken while dropping carry the flag',
  )
  await r.fleet.stop()
  const again = rig(dir, { bufferCapacity: 5 })
  t.same(seqs(again.device.buffered()), [6, 7, 8, 9, 10], 'drops persisted')
  await again.fleet.start()
  again.link.receipt(receiptFor(again.device.buffered()[4]))
  again.fleet.runUntil(START + 50 * 60_000)
  const f = decodeReading(again.sent[again.sent.length - 1]).fields
  t.equal(f.seq, 11)
  t.equal((f.status ?? 0) & STATUS.BUFFER_OVERFLOW, 0, 'with room again, the flag clears')
  await again.fleet.stop()
})

t.test('a torn record at the end of the buffer file (crash mid-append) is cut off', async (t) => {
  const dir = t.testdir()
  const r = rig(dir)
  r.fleet.runUntil(START + 20 * 60_000)
  await r.fleet.stop()
  const file = join(dir, 'dev-1', BUFFER_FILE)
  const size = statSync(file).size
  appendFileSync(file, Buffer.from([0, 0, 0, 120, 1, 7, 7]))
  const again = rig(dir)
  t.same(seqs(again.device.buffered()), [1, 2, 3, 4, 5])
  t.equal(statSync(file).size, size, 'file truncated to the last whole record')
  again.fleet.runUntil(START + 25 * 60_000)
  t.same(seqs(again.device.buffered()), [1, 2, 3, 4, 5, 6], 'and the chain goes on')
  await again.fleet.stop()
})

t.test(
  'a resend request for readings it dropped after the broker took them makes the next reading report BUFFER_OVERFLOW',
  async (t) => {
    // A ledger whose disk was full: the broker acknowledged every reading, the
    // ledger stored none, so the drops were not flagged when they happened.
    const dir = t.testdir()
    const r = rig(dir, { bufferCapacity: 5 })
    await r.fleet.start()
    r.fleet.runUntil(START + 45 * 60_000) // 10 samples into 5 slots, each one acknowledged by the broker
    t.equal(r.device.status().dropped, 5)
    const flag = (p: Uint8Array) => (decodeReading(p).fields.status ?? 0) & STATUS.BUFFER_OVERFLOW
    t.same(r.sent.map(flag), new Array(10).fill(0), 'a drop of an acknowledged reading is not flagged when it happens')

    r.link.resend(encodeResend({ from: 7, to: 8 }))
    r.fleet.runUntil(START + 50 * 60_000)
    t.equal(flag(r.sent[r.sent.length - 1]), 0, 'a request for readings it still holds announces nothing')

    r.link.resend(encodeResend({ from: 1, to: 6 }))
    r.fleet.runUntil(START + 55 * 60_000)
    const last = decodeReading(r.sent[r.sent.length - 1]).fields
    t.equal(last.seq, 12)
    t.ok(
      (last.status ?? 0) & STATUS.BUFFER_OVERFLOW,
      'the ledger asked for seqs 1..5, which are gone: the next reading announces the loss',
    )
    r.fleet.runUntil(START + 60 * 60_000)
    t.equal(flag(r.sent[r.sent.length - 1]), 0, 'announced once; the reading after it is clean again')
    await r.fleet.stop()
  },
)
