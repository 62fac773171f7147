/**
 * Every reading accounted for (issue 13, item 6): readings signed with the
 * device's real key, each numeric field swept over extreme values of its wire
 * type (temperature, humidity, battery, device time, seq), go through the
 * ingest. Each one is stored, held or quarantined with a reason; none makes
 * the ingest throw, and a normal reading is still stored after the sweep.
 * The records are built byte by byte, so values the encoder would refuse
 * reach the ingest too.
 */
import t from 'tap'
import fc from 'fast-check'
import * as ed from '@noble/ed25519'
import { openLedger } from '../store/ledger.ts'
import { createIngest } from '../ingest/ingest.ts'
import { assemblePayload, deviceTopic, FIELD, MAX_DEVICE_TIME_MS, readingSigningMessage } from '../protocol/index.ts'
import { nextReading, simDevice, tempDir, T0 } from './support.ts'

const NOW = T0 + 3_600_000

interface Raw {
  seq: number
  timeMs: bigint
  temp: number
  humidity: number
  battery: number
}

/** record || signature with the given field values, whatever their range (u32 seq, u64 time, i16 temp, u16 humidity, u8 battery). */
function rawReading(d: { id: string; seed: Uint8Array; prev: Uint8Array }, f: Raw): Uint8Array {
  const id = new TextEncoder().encode(d.id)
  const rec = new Uint8Array(2 + id.length + 4 + 8 + 2 + 32 + 1 + 2 + 1)
  const dv = new DataView(rec.buffer)
  rec[0] = 1
  rec[1] = id.length
  rec.set(id, 2)
  let o = 2 + id.length
  dv.setUint32(o, f.seq)
  o += 4
  dv.setBigUint64(o, f.timeMs)
  o += 8
  dv.setInt16(o, f.temp)
  o += 2
  rec.set(d.prev, o)
  o += 32
  rec[o++] = FIELD.HUMIDITY | FIELD.BATTERY
  dv.setUint16(o, f.humidity)
  o += 2
  rec[o] = f.battery
  return assemblePayload(rec, ed.sign(readingSigningMessage(rec), d.seed))
}

const edges = <T>(values: T[], arb: fc.Arbitrary<T>) => fc.oneof(fc.constantFrom(...values), arb)

t.test('extreme field values: each reading is stored, held or quarantined, and the ingest keeps running', async (t) => {
  const { dir, remove } = await tempDir()
  const ledger = await openLedger({ dir, clock: () => NOW, checkpointIntervalMs: 0 })
  const ingest = createIngest({ ledger, url: 'mqtt://127.0.0.1:1', gapCheckIntervalMs: 0 })
  t.teardown(async () => {
    await ingest.close()
    await ledger.close()
    await remove()
  })
  const d = simDevice('probe-x', 21)
  await ledger.registerDevice({ deviceId: d.id, publicKey: d.publicKey, by: 'qa' })
  const topic = deviceTopic(d.id, 'readings')
  const outcomes = new Map<string, number>()
  const U64_MAX = 2n ** 64n - 1n
  const raw = fc.record({
    seq: edges([0, 1, 2, 0xffff_fffe, 0xffff_ffff], fc.integer({ min: 0, max: 0xffff_ffff })),
    timeMs: edges(
      [
        0n,
        BigInt(NOW),
        BigInt(NOW) + 10n * 60_000n,
        BigInt(MAX_DEVICE_TIME_MS),
        BigInt(MAX_DEVICE_TIME_MS) + 1n,
        2n ** 53n - 1n,
        2n ** 53n,
        U64_MAX,
      ],
      fc.bigInt({ min: 0n, max: U64_MAX }),
    ),
    temp: edges([-32768, -27316, -27315, 0, 32767], fc.integer({ min: -32768, max: 32767 })),
    humidity: edges([0, 10_000, 10_001, 65_535], fc.integer({ min: 0, max: 65_535 })),
    battery: edges([0, 100, 101, 255], fc.integer({ min: 0, max: 255 })),
  })
  await fc.assert(
    fc.asyncProperty(raw, async (f) => {
      const o = await ingest.handle(topic, rawReading(d, f))
      const key = o.kind === 'quarantined' ? `quarantined ${o.reason}` : o.kind
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1)
      if (!['stored', 'held', 'quarantined', 'duplicate', 'fork'].includes(o.kind)) return false
      // Out of the protocol's ranges: quarantined under the decoder's code.
      const outOfRange =
        f.seq === 0 ||
        f.timeMs > BigInt(MAX_DEVICE_TIME_MS) ||
        f.temp < -27315 ||
        f.humidity > 10_000 ||
        f.battery > 100
      if (outOfRange) return o.kind === 'quarantined' && o.reason === 'ERR_READING_FIELD_RANGE'
      if (f.timeMs > BigInt(NOW) + BigInt(ledger.futureSkewMs))
        return o.kind === 'quarantined' && o.reason === 'ERR_FUTURE_TIME'
      return true
    }),
    { numRuns: 150, seed: 13 },
  )
  t.comment(`outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`)
  t.ok(outcomes.get('quarantined ERR_READING_FIELD_RANGE'), 'out-of-range values were swept')
  const malformed = (await ledger.quarantined({ limit: 1000 })).filter((q) => q.reason === 'ERR_READING_FIELD_RANGE')
  t.ok(malformed.length > 0 && malformed.every((q) => typeof q.details?.field === 'string'), 'each names the field')
  // Still running: the next genuine reading after the sweep is judged and committed.
  const head = ledger.device(d.id)!
  d.seq = head.contiguous
  d.prev = head.contiguous === 0 ? new Uint8Array(32) : Buffer.from(head.contiguousHash!, 'hex')
  t.match(await ingest.handle(topic, nextReading(d, 500, NOW - 1000)), { kind: 'stored', seq: head.contiguous + 1 })
})
