/**
 * The integrity checker over in-memory ledgers built from real signed
 * readings (noble signs, the checker verifies with Node's crypto): a clean
 * ledger passes, and each kind of damage fails at the index that carries it.
 */
import t from 'tap'
import type { Test } from 'tap'
import { createHash } from 'node:crypto'
import { canonicalJsonBytes } from '../tlog/canonical-json.ts'
import { checkLedger, assertLedger, memoryLedgerReader, FsckError, type LedgerReader, type FsckReport } from './fsck.ts'
import { decodeEntry, encodeEntry } from '../tlog/entry-codec.ts'
import type { Entry } from '../tlog/entry-types.ts'
import { leafHash } from '../tlog/merkle.ts'
import { formatCheckpoint } from '../tlog/checkpoint.ts'
import { signNote } from '../tlog/note.ts'
import { nobleSign, nobleVerify } from '../protocol/test/support.ts'
import { toBase64, utf8 } from '../protocol/bytes.ts'
import {
  readingBody,
  registerBody,
  signedReading,
  testDevice,
  testLedger,
  type TestLedger,
} from '../tlog/test/entries.ts'

/** A ledger with two devices, readings held above a gap and chained when it filled, a shipment, and checkpoints in the log. */
function fullLedger() {
  const l = testLedger()
  const a = testDevice('truck-7-probe-a', 11),
    b = testDevice('truck-7-probe-b', 12)
  l.append('device.register', registerBody(a))
  l.append('device.register', registerBody(b))
  const profile = { class: 'refrigerated' }
  const profileHash = createHash('sha256').update(canonicalJsonBytes(profile)).digest('hex')
  l.append('shipment.create', {
    shipmentId: 'SHP-1',
    product: 'Insulin',
    route: { from: 'Basel', to: 'Lyon' },
    devices: [a.id, b.id],
    profile,
    profileHash,
    startAt: 0,
    by: 'ops',
  })
  const t0 = 1_760_000_000_000
  for (let s = 1; s <= 4; s++) {
    l.append('reading', readingBody(signedReading(a, 400 + s, t0 + s * 60_000), a, s))
    l.append('reading', readingBody(signedReading(b, 500 + s, t0 + s * 60_000), b, s))
  }
  l.checkpoint()
  // Device a: seq 5 is lost in transit, 6 and 7 are held, 5 is resent and chained with 6 and 7 after it.
  const p5 = signedReading(a, 405, t0 + 5 * 60_000),
    p6 = signedReading(a, 406, t0 + 6 * 60_000),
    p7 = signedReading(a, 407, t0 + 7 * 60_000)
  l.append('alarm.ack', {
    shipmentId: 'SHP-1',
    alarmId: 'exc-1',
    reason: 'door open at dock',
    comment: 'product within MKT',
    by: 'ops',
  })
  l.append('reading', readingBody(p5, a, 5))
  l.append('reading', readingBody(p6, a, 6))
  l.append('reading', readingBody(p7, a, 7))
  l.append('shipment.close', { shipmentId: 'SHP-1', closedAt: t0 + 8 * 60_000, by: 'ops' })
  const latest = l.checkpoint()
  return { l, a, b, latest }
}

const opts = (l: TestLedger) => ({ ledgerPublicKey: l.verifierKey })
/** A reader that also offers the leaf hashes recorded at write time (as the LevelDB store keeps them). */
function withStoredLeaves(entries: Uint8Array[], original: Uint8Array[], checkpoint: string): LedgerReader {
  return { ...memoryLedgerReader(entries, checkpoint), storedLeafHash: async (i) => leafHash(original[i]) }
}
function expectFailure(t: Test, r: FsckReport, code: string, index: number | undefined, why: string) {
  t.notOk(r.ok, `${why}: does not verify`)
  t.same({ code: r.failure?.code, index: r.failure?.index }, { code, index }, `${why}: ${r.failure?.message}`)
}
const reEncode = (bytes: Uint8Array, patch: (e: Entry) => Entry) => encodeEntry(patch(decodeEntry(bytes)))

t.test('a clean ledger verifies', async (t) => {
  const { l, latest } = fullLedger()
  const progress: number[] = []
  const r = await checkLedger(memoryLedgerReader(l.entries, latest), {
    ...opts(l),
    onProgress: (d, n) => {
      if (n !== l.entries.length) t.fail('total')
      progress.push(d)
    },
  })
  t.ok(r.ok, r.failure?.message ?? 'ok')
  t.equal(r.size, l.entries.length)
  t.equal(r.readings, 11)
  t.equal(r.devices, 2)
  t.equal(r.checkpointEntries, 2)
  t.same(r.gaps, [], 'no gap was declared')
  t.same(r.checkpoint?.size, l.entries.length - 1, 'the latest checkpoint covers everything before its own entry')
  t.equal(r.uncovered, 1)
  t.equal(progress.at(-1), l.entries.length, 'progress reaches the total')
  t.ok(progress.length >= l.entries.length)
  // The same verdict with noble as the reading engine, and with the raw public key and origin.
  t.ok(
    (await checkLedger(memoryLedgerReader(l.entries, latest), { ...opts(l), verifyReading: nobleVerify })).ok,
    'noble agrees',
  )
  t.ok(
    (await checkLedger(memoryLedgerReader(l.entries, latest), { ledgerPublicKey: l.publicKey, origin: l.origin })).ok,
    'raw key + origin',
  )
  t.ok((await assertLedger(withStoredLeaves(l.entries, l.entries, latest), opts(l))).ok, 'with stored leaf hashes')
})

t.test('a declared gap is reported; an undeclared skip, a misplaced gap and a made-up fork fail', async (t) => {
  const l = testLedger(),
    a = testDevice('probe-g', 21)
  l.append('device.register', registerBody(a))
  l.append('reading', readingBody(signedReading(a, 1, 1), a, 1))
  signedReading(a, 2, 2)
  signedReading(a, 3, 3)
  const p4 = signedReading(a, 4, 4)
  const gapped = (from: number, to: number) => {
    const g = testLedger()
    g.append('device.register', registerBody(a))
    g.append('reading', readingBody(decodeReading1(l.entries[1]), a, 1))
    g.append('gap', { deviceId: a.id, fromSeq: from, toSeq: to, cause: 'buffer-overflow', by: 'ingest' })
    return g
  }
  const good = gapped(2, 3)
  good.append('reading', readingBody(p4, a, 4))
  const r = await checkLedger(memoryLedgerReader(good.entries, good.checkpoint()), opts(good))
  t.ok(r.ok, r.failure?.message ?? 'ok')
  t.same(r.gaps, [{ deviceId: 'probe-g', from: 2, to: 3, cause: 'buffer-overflow', index: 2 }])

  const undeclared = testLedger()
  undeclared.append('device.register', registerBody(a))
  undeclared.append('reading', readingBody(decodeReading1(l.entries[1]), a, 1))
  undeclared.append('reading', readingBody(p4, a, 4))
  expectFailure(
    t,
    await checkLedger(memoryLedgerReader(undeclared.entries, undeclared.checkpoint()), opts(undeclared)),
    'ERR_FSCK_CHAIN_ORDER',
    2,
    'seq 4 right after seq 1, no gap entry',
  )
  const misplaced = gapped(3, 3)
  misplaced.append('reading', readingBody(p4, a, 4))
  expectFailure(
    t,
    await checkLedger(memoryLedgerReader(misplaced.entries, misplaced.checkpoint()), opts(misplaced)),
    'ERR_FSCK_GAP',
    2,
    'a gap that does not start above the head',
  )
  const orphan = gapped(2, 3)
  orphan.append('alarm.ack', { shipmentId: 'x', alarmId: 'a', reason: 'r', comment: '', by: 'qa' })
  expectFailure(
    t,
    await checkLedger(memoryLedgerReader(orphan.entries, orphan.checkpoint()), opts(orphan)),
    'ERR_FSCK_GAP',
    3,
    'a gap not followed by the reading it chains',
  )

  const other = testDevice('probe-g', 22)
  const sorted = (x: Uint8Array, y: Uint8Array) =>
    [x, y]
      .map((b) => ({ b: toBase64(b), h: createHash('sha256').update(b).digest('hex') }))
      .sort((m, n) => (m.h < n.h ? -1 : 1))
      .map((m) => m.b) as [string, string]
  const madeUp = testLedger()
  madeUp.append('device.register', registerBody(a))
  madeUp.append('reading.fork', {
    deviceId: a.id,
    seq: 1,
    payloads: sorted(decodeReading1(l.entries[1]), signedReading(other, 9, 9)),
  })
  expectFailure(
    t,
    await checkLedger(memoryLedgerReader(madeUp.entries, madeUp.checkpoint()), opts(madeUp)),
    'ERR_FSCK_FORK',
    1,
    'a fork payload signed by another key',
  )
})

t.test('one changed byte anywhere in an entry fails at that entry', async (t) => {
  const { l, latest } = fullLedger()
  for (const k of [0, 4, 12, l.entries.length - 2]) {
    const original = l.entries[k]
    let wrongIndex = 0,
      checked = 0
    for (let pos = 0; pos < original.length; pos += 4) {
      const entries = l.entries.slice()
      const bad = original.slice()
      bad[pos] = bad[pos] === 0x30 ? 0x31 : 0x30 // a digit, usually still JSON
      entries[k] = bad
      const exact = await checkLedger(withStoredLeaves(entries, l.entries, latest), opts(l))
      const plain = await checkLedger(memoryLedgerReader(entries, latest), opts(l))
      checked++
      if (exact.ok || exact.failure!.index !== k) wrongIndex++
      // Without recorded leaf hashes, a change that keeps the entry valid shows as the broken link to the next one.
      if (
        plain.ok ||
        !(
          plain.failure!.index === k ||
          (plain.failure!.index === k + 1 && plain.failure!.code === 'ERR_FSCK_PREV_LINK') ||
          (plain.failure!.index === undefined &&
            plain.failure!.code === 'ERR_FSCK_ROOT_MISMATCH' &&
            k === l.entries.length - 1)
        )
      )
        wrongIndex++
    }
    t.equal(
      wrongIndex,
      0,
      `entry ${k} (${decodeEntry(original).type}): ${checked} single-byte changes all fail at index ${k}`,
    )
  }
  // The classic tamper: a reading's temperature digit rewritten in its payload.
  const entries = l.entries.slice()
  const e = decodeEntry(entries[5]) as Entry<'reading'>
  const p = Buffer.from(e.body.payload, 'base64')
  p[2 + e.body.deviceId.length + 13] ^= 0x01
  entries[5] = encodeEntry({ ...e, body: { ...e.body, payload: toBase64(p) } })
  expectFailure(
    t,
    await checkLedger(memoryLedgerReader(entries, latest), opts(l)),
    'ERR_FSCK_READING_SIGNATURE',
    5,
    'temperature changed in a signed payload',
  )
  expectFailure(
    t,
    await checkLedger(withStoredLeaves(entries, l.entries, latest), opts(l)),
    'ERR_FSCK_ENTRY_CHANGED',
    5,
    'the same, with recorded leaf hashes',
  )
})

t.test('a broken prev link fails at the entry whose prev is wrong', async (t) => {
  const { l, latest } = fullLedger()
  const entries = l.entries.slice()
  entries[7] = reEncode(entries[7], (e) => ({ ...e, prev: 'f'.repeat(64) }))
  expectFailure(
    t,
    await checkLedger(memoryLedgerReader(entries, latest), opts(l)),
    'ERR_FSCK_PREV_LINK',
    7,
    'prev rewritten',
  )
  const swapped = l.entries.slice()
  ;[swapped[5], swapped[6]] = [swapped[6], swapped[5]]
  expectFailure(
    t,
    await checkLedger(memoryLedgerReader(swapped, latest), opts(l)),
    'ERR_FSCK_INDEX',
    5,
    'two entries swapped',
  )
  const dropped = [...l.entries.slice(0, 6), ...l.entries.slice(7)]
  expectFailure(
    t,
    await checkLedger(memoryLedgerReader(dropped, latest), opts(l)),
    'ERR_FSCK_INDEX',
    6,
    'an entry removed',
  )
})

t.test('reading signature, device and chain failures', async (t) => {
  const l = testLedger()
  const a = testDevice('probe-a', 31),
    intruder = testDevice('probe-a', 32),
    c = testDevice('probe-c', 33)
  l.append('device.register', registerBody(a))
  l.append('reading', readingBody(signedReading(a, 100, 1), a, 1))
  // Signed by another key under a's id, chained correctly: only the signature is wrong.
  intruder.seq = a.seq
  intruder.prev = a.prev
  const forged = signedReading(intruder, 100, 2)
  const bad = testLedger()
  bad.append('device.register', registerBody(a))
  bad.append('reading', { ...readingBody(decodeReading1(l.entries[1]), a, 1) })
  bad.append('reading', readingBody(forged, a, 2))
  expectFailure(
    t,
    await checkLedger(memoryLedgerReader(bad.entries, bad.checkpoint()), opts(bad)),
    'ERR_FSCK_READING_SIGNATURE',
    2,
    'signature by another key',
  )

  const unknown = testLedger()
  unknown.append('device.register', registerBody(a))
  unknown.append('reading', readingBody(signedReading(c, 1, 1), c, 1))
  expectFailure(
    t,
    await checkLedger(memoryLedgerReader(unknown.entries, unknown.checkpoint()), opts(unknown)),
    'ERR_FSCK_DEVICE_UNKNOWN',
    1,
    'reading of an unregistered device',
  )

  const d = testDevice('probe-d', 34)
  const revoked = testLedger()
  revoked.append('device.register', registerBody(d))
  revoked.append('reading', readingBody(signedReading(d, 1, 1), d, 1))
  revoked.append('device.revoke', { deviceId: d.id, reason: 'stolen', by: 'qa' })
  revoked.append('reading', readingBody(signedReading(d, 2, 2), d, 2))
  expectFailure(
    t,
    await checkLedger(memoryLedgerReader(revoked.entries, revoked.checkpoint()), opts(revoked)),
    'ERR_FSCK_DEVICE_REVOKED',
    3,
    'reading after revocation',
  )

  // Fork: the device signs two different readings with sequence 2.
  const e = testDevice('probe-e', 35)
  const fork = testLedger()
  fork.append('device.register', registerBody(e))
  fork.append('reading', readingBody(signedReading(e, 1, 1), e, 1))
  const saved = { seq: e.seq, prev: e.prev }
  fork.append('reading', readingBody(signedReading(e, 2, 2), e, 2))
  e.seq = saved.seq
  e.prev = saved.prev
  fork.append('reading', readingBody(signedReading(e, 999, 2), e, 2))
  expectFailure(
    t,
    await checkLedger(memoryLedgerReader(fork.entries, fork.checkpoint()), opts(fork)),
    'ERR_FSCK_CHAIN_FORK',
    3,
    'two readings with one sequence',
  )

  const dup = testLedger(),
    f = testDevice('probe-f', 36)
  dup.append('device.register', registerBody(f))
  const p = signedReading(f, 1, 1)
  dup.append('reading', readingBody(p, f, 1))
  dup.append('reading', readingBody(p, f, 1))
  expectFailure(
    t,
    await checkLedger(memoryLedgerReader(dup.entries, dup.checkpoint()), opts(dup)),
    'ERR_FSCK_READING_DUPLICATE',
    2,
    'the same reading twice',
  )

  // Broken device chain: seq 3 was signed over a wrong previous hash.
  const g = testDevice('probe-g', 37)
  const chain = testLedger()
  chain.append('device.register', registerBody(g))
  const g1 = signedReading(g, 1, 1),
    g2 = signedReading(g, 2, 2)
  g.prev = new Uint8Array(32).fill(0xee)
  const g3 = signedReading(g, 3, 3)
  chain.append('reading', readingBody(g1, g, 1))
  chain.append('reading', readingBody(g2, g, 2))
  chain.append('reading', readingBody(g3, g, 3))
  expectFailure(
    t,
    await checkLedger(memoryLedgerReader(chain.entries, chain.checkpoint()), opts(chain)),
    'ERR_FSCK_CHAIN_LINK',
    3,
    'prevHash of seq 3 is not the hash of seq 2',
  )
  // Readings out of seq order (the way ledgers stored a backfill before readings were held) fail.
  const backfill = testLedger()
  backfill.append('device.register', registerBody(g))
  backfill.append('reading', readingBody(g1, g, 1))
  backfill.append('reading', readingBody(g3, g, 3))
  backfill.append('reading', readingBody(g2, g, 2))
  expectFailure(
    t,
    await checkLedger(memoryLedgerReader(backfill.entries, backfill.checkpoint()), opts(backfill)),
    'ERR_FSCK_CHAIN_ORDER',
    2,
    'seq 3 logged before seq 2',
  )
})

function decodeReading1(bytes: Uint8Array): Uint8Array {
  return Buffer.from((decodeEntry(bytes) as Entry<'reading'>).body.payload, 'base64')
}

t.test('checkpoint failures', async (t) => {
  const { l, latest } = fullLedger()
  const sign = (text: string, seed = l.seed) => signNote(text, l.origin, (m) => nobleSign(m, seed), l.publicKey)
  const size = l.entries.length
  const wrongRoot = sign(formatCheckpoint({ origin: l.origin, size, rootHash: new Uint8Array(32).fill(1) }))
  expectFailure(
    t,
    await checkLedger(memoryLedgerReader(l.entries, wrongRoot), opts(l)),
    'ERR_FSCK_ROOT_MISMATCH',
    undefined,
    "signed root is not the entries' root",
  )
  const forged = sign(
    formatCheckpoint({ origin: l.origin, size, rootHash: new Uint8Array(32) }),
    new Uint8Array(32).fill(99),
  )
  expectFailure(
    t,
    await checkLedger(memoryLedgerReader(l.entries, forged), opts(l)),
    'ERR_FSCK_CHECKPOINT_SIGNATURE',
    undefined,
    'checkpoint signed by another key',
  )
  expectFailure(
    t,
    await checkLedger(memoryLedgerReader(l.entries.slice(0, 10), latest), opts(l)),
    'ERR_FSCK_CHECKPOINT_SIZE',
    undefined,
    'log truncated below the signed size',
  )
  expectFailure(
    t,
    await checkLedger(memoryLedgerReader(l.entries), opts(l)),
    'ERR_FSCK_NO_CHECKPOINT',
    undefined,
    'no checkpoint',
  )
  expectFailure(
    t,
    await checkLedger(memoryLedgerReader(l.entries, latest), {
      ledgerPublicKey: l.verifierKey,
      origin: 'other.example/log',
    }),
    'ERR_FSCK_CHECKPOINT_ORIGIN',
    11,
    'another origin (found at the first checkpoint entry)',
  )
  const other = testLedger('coldproof.test/ledger', 5)
  expectFailure(
    t,
    await checkLedger(memoryLedgerReader(l.entries, latest), opts(other)),
    'ERR_FSCK_CHECKPOINT_SIGNATURE',
    11,
    'verified under another ledger key',
  )
  expectFailure(
    t,
    await checkLedger(memoryLedgerReader(l.entries, latest), { ledgerPublicKey: 'nonsense' }),
    'ERR_FSCK_BAD_KEY',
    undefined,
    'unusable key',
  )
  // A checkpoint entry inside the log whose note was re-signed over a wrong root.
  const entries = l.entries.slice()
  const cpIndex = 11
  const cp = decodeEntry(entries[cpIndex]) as Entry<'checkpoint'>
  const badRoot = new Uint8Array(32).fill(7)
  entries[cpIndex] = encodeEntry({
    ...cp,
    body: {
      size: cp.body.size,
      rootHash: toBase64(badRoot),
      note: sign(formatCheckpoint({ origin: l.origin, size: cp.body.size, rootHash: badRoot })),
    },
  })
  expectFailure(
    t,
    await checkLedger(memoryLedgerReader(entries, latest), opts(l)),
    'ERR_FSCK_ROOT_MISMATCH',
    cpIndex,
    'checkpoint entry with a wrong root',
  )
  try {
    await assertLedger(memoryLedgerReader(l.entries, wrongRoot), opts(l))
    t.fail('assertLedger')
  } catch (e) {
    t.ok(e instanceof FsckError)
    t.equal((e as FsckError).code, 'ERR_FSCK_ROOT_MISMATCH')
  }
  t.ok(utf8(latest).length > 0)
})

t.test('an empty ledger verifies without a checkpoint', async (t) => {
  const l = testLedger()
  const r = await checkLedger(memoryLedgerReader([]), opts(l))
  t.ok(r.ok)
  t.equal(r.size, 0)
})
