/**
 * The ingest passes each reading's decoding and hash to the ledger
 * (KnownReading) so the ledger does not decode and hash it again: the log,
 * the indexes and the held store come out byte for byte as without it, and a
 * known reading of another device or seq than the body is refused.
 */
import t from 'tap'
import { openLedger, type KnownReading, type Ledger } from '../store/ledger.ts'
import { decodeReading, toBase64, toHex, readingHash } from '../protocol/index.ts'
import { signedReading, testDevice } from '../tlog/test/entries.ts'
import { tempDir } from './support.ts'

const T = Date.UTC(2026, 10, 3)

async function fill(ledger: Ledger, withKnown: boolean): Promise<void> {
  const d = testDevice('known-a', 41)
  await ledger.registerDevice({ deviceId: d.id, publicKey: toHex(d.publicKey), by: 'qa' })
  const payloads = Array.from({ length: 6 }, (_, i) => signedReading(d, 400 + i, T + i * 60_000))
  const known = (p: Uint8Array): KnownReading | undefined =>
    withKnown ? { reading: decodeReading(p), hash: toHex(readingHash(p)) } : undefined
  // Seqs 1, 2 chained; 4, 5 held above the gap at 3; then 3 arrives and 4, 5 follow; then 6.
  for (const i of [0, 1])
    await ledger.appendReading(
      { payload: toBase64(payloads[i]), deviceId: d.id, seq: i + 1 },
      T + i,
      known(payloads[i]),
    )
  for (const i of [3, 4])
    await ledger.holdReading({ payload: toBase64(payloads[i]), deviceId: d.id, seq: i + 1 }, T + i, known(payloads[i]))
  for (const i of [2, 5])
    await ledger.appendReading(
      { payload: toBase64(payloads[i]), deviceId: d.id, seq: i + 1 },
      T + i,
      known(payloads[i]),
    )
}

async function snapshot(ledger: Ledger): Promise<string[]> {
  const out: string[] = []
  // No checkpoint is signed before the snapshot (checkpointEvery is high), so nothing depends on the two ledgers' keys.
  for await (const [k, v] of ledger.storeSnapshot()) out.push(`${k}=${toHex(v)}`)
  return out
}

t.test('with and without the known reading, the same log and indexes', async (t) => {
  const shots: string[][] = []
  for (const withKnown of [false, true]) {
    const { dir, remove } = await tempDir()
    t.teardown(remove)
    const ledger = await openLedger({ dir, clock: () => T, checkpointIntervalMs: 0, checkpointEvery: 1_000_000 })
    await fill(ledger, withKnown)
    t.equal(ledger.device('known-a')!.contiguous, 6, `${withKnown ? 'with' : 'without'}: all six chained`)
    shots.push(await snapshot(ledger))
    await ledger.close()
  }
  t.ok(shots[0].length > 20, `${shots[0].length} keys compared`)
  t.same(shots[1], shots[0], 'identical keys and values')
})

t.test('a known reading of another seq or device than the body is refused', async (t) => {
  const { dir, remove } = await tempDir()
  t.teardown(remove)
  const ledger = await openLedger({ dir, clock: () => T, checkpointIntervalMs: 0 })
  t.teardown(() => ledger.close())
  const d = testDevice('known-b', 42)
  await ledger.registerDevice({ deviceId: d.id, publicKey: toHex(d.publicKey), by: 'qa' })
  const p1 = signedReading(d, 400, T)
  const p2 = signedReading(d, 400, T + 60_000)
  const k2 = { reading: decodeReading(p2), hash: toHex(readingHash(p2)) }
  await t.rejects(ledger.appendReading({ payload: toBase64(p1), deviceId: d.id, seq: 1 }, T, k2), {
    code: 'ERR_LEDGER_BAD_INPUT',
  })
  t.equal(ledger.size(), 1, 'nothing appended')
})
