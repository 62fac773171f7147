/**
 * The buffer-overflow trap (docs/PROTOCOL.md, "Overflow"). An outage longer
 * than the buffer makes the device drop readings the ledger never saw; the
 * receipt (highest CONTIGUOUS seq stored) can then never pass them, so in v1
 * nothing newer is ever receipted and the buffer stays full. The device
 * cannot prune what no receipt covers (that would be unsound), so it keeps a
 * sliding window of the newest readings; but it flags BUFFER_OVERFLOW only
 * for drops of readings that never left it, not on every later sample.
 */
import t from 'tap'
import { STATUS, decodeReading, encodeReceipt, readingHash } from '../../ledger/protocol/index.ts'
import { createFleet } from '../fleet.ts'
import { createMemoryLink, type MemoryLink } from '../memory-link.ts'
import { smallScenario, START } from './helpers.ts'

t.test(
  'after an overflow, the device keeps the newest readings and stops flagging drops of readings it already sent',
  async (t) => {
    const CAP = 5
    // Samples every 5 min; offline from minute 10 to 45: seq 3..9 taken offline (7 > CAP).
    const scenario = smallScenario({
      bufferCapacity: CAP,
      durationMin: 120,
      faults: { connectivityLoss: [{ fromMin: 10, toMin: 45 }] },
    })
    const stored = new Map<number, Uint8Array>()
    const signed: Uint8Array[] = []
    let link!: MemoryLink
    const contiguous = () => {
      let c = 0
      while (stored.has(c + 1)) c++
      return c
    }
    const fleet = createFleet({
      scenario,
      startMs: START,
      log: () => {},
      onReading: (_id, p) => signed.push(p),
      link: () =>
        (link = createMemoryLink((p) => {
          // A ledger stand-in: stores everything, receipts the highest contiguous seq (retained-receipt semantics).
          stored.set(decodeReading(p).fields.seq, p)
          const c = contiguous()
          if (c > 0) queueMicrotask(() => link.receipt(encodeReceipt({ seq: c, hash: readingHash(stored.get(c)!) })))
        })),
    })
    const device = fleet.devices[0]
    await fleet.start()
    const flagged = () =>
      signed
        .map((p) => decodeReading(p).fields)
        .filter((f) => (f.status ?? 0) & STATUS.BUFFER_OVERFLOW)
        .map((f) => f.seq)
    const step = async (min: number) => {
      fleet.runUntil(START + min * 60_000)
      await new Promise((r) => setImmediate(r))
    }

    await step(5)
    t.match(device.status(), { seq: 2, buffered: 0, receiptedSeq: 2 }, 'online: 1..2 receipted')
    await step(40)
    t.match(
      device.status(),
      { seq: 9, buffered: CAP, dropped: 2, connected: false },
      'offline: 3..9 taken, 3 and 4 dropped',
    )
    t.same(
      flagged(),
      [8, 9],
      'the two readings that made room for themselves by dropping never-sent ones carry the flag',
    )

    await step(120)
    const s = device.status()
    t.equal(s.seq, 25, 'sampling went on')
    t.equal(contiguous(), 2, 'the ledger holds 5..25 but not 3..4: its receipt stays at 2 forever (v1)')
    t.equal(s.receiptedSeq, 2)
    t.equal(s.buffered, CAP, 'so the buffer stays full: nothing the ledger has not receipted is pruned')
    t.same(
      device.buffered().map((p) => decodeReading(p).fields.seq),
      [21, 22, 23, 24, 25],
      'a sliding window of the newest',
    )
    t.equal(s.dropped, 2 + (25 - 9), 'every later sample drops the oldest')
    t.same(flagged(), [8, 9], 'but the flag is not set again: those readings had been sent (and are in the ledger)')
    for (let seq = 5; seq <= 25; seq++) t.ok(stored.has(seq), `seq ${seq} reached the ledger`)
    await fleet.stop()
  },
)
