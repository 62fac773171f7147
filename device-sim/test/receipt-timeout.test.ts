/**
 * Receipt timeout (docs/PROTOCOL.md, "Receipt timeout"): a reading lost on the
 * way with nothing after it opens no gap at the ledger, so no resend request
 * comes. While connected, the device re-sends its newest unreceipted reading
 * once its receipt is overdue, never more often than the timeout (doubling per
 * re-send). A stand-in ledger over a memory link stores payloads, receipts
 * the highest contiguous seq and asks for gaps, as ledger/ingest/ingest.ts does; the
 * wall clock is a variable, so no test waits on real time.
 */
import t from 'tap'
import { decodeReading, encodeReceipt, encodeResend, readingHash } from '../../ledger/protocol/index.ts'
import { createFleet, type Timers } from '../fleet.ts'
import { createMemoryLink, type MemoryLink } from '../memory-link.ts'
import { smallScenario, START } from './helpers.ts'

const TIMEOUT = 30_000

/** A ledger stand-in that loses the first `lose.get(seq)` deliveries of a seq. */
function rig(lose: Map<number, number>, durationMin = 60) {
  let clock = 5_000_000
  const stored = new Map<number, Uint8Array>()
  const seen = new Map<number, number>()
  const resendRequests: [number, number][] = []
  const pendingTimers: (() => void)[] = []
  const timers: Timers = {
    setTimeout: (fn) => {
      pendingTimers.push(fn)
      return pendingTimers.length
    },
    clearTimeout() {},
  }
  let link!: MemoryLink
  const contiguous = () => {
    let c = 0
    while (stored.has(c + 1)) c++
    return c
  }
  const deliver = (p: Uint8Array) => {
    const seq = decodeReading(p).fields.seq
    const n = (seen.get(seq) ?? 0) + 1
    seen.set(seq, n)
    if (n <= (lose.get(seq) ?? 0)) return
    // Reply after the publish returns, as a broker round trip would.
    queueMicrotask(() => {
      stored.set(seq, p)
      const c = contiguous()
      if (c > 0) link.receipt(encodeReceipt({ seq: c, hash: readingHash(stored.get(c)!) }))
      const highest = Math.max(...stored.keys())
      if (highest > c + 1) {
        resendRequests.push([c + 1, highest - 1])
        link.resend(encodeResend({ from: c + 1, to: highest - 1 }))
      }
    })
  }
  const fleet = createFleet({
    scenario: smallScenario({ durationMin }),
    startMs: START,
    now: () => clock,
    timers,
    receiptTimeoutMs: TIMEOUT,
    link: () => (link = createMemoryLink(deliver)),
    log: () => {},
  })
  return {
    fleet,
    stored,
    seen,
    resendRequests,
    pendingTimers,
    device: fleet.devices[0],
    contiguous,
    advance(ms: number) {
      clock += ms
    },
    settle: () => new Promise<void>((r) => setImmediate(r)),
  }
}

t.test('a lost last reading is re-sent after the receipt timeout and receipted, without a reconnect', async (t) => {
  const N = 13
  const r = rig(new Map([[N, 1]]))
  await r.fleet.start()
  r.fleet.runUntil(START + 60 * 60_000)
  await r.settle()
  t.equal(r.contiguous(), N - 1, `the ledger holds 1..${N - 1}`)
  t.match(r.device.status(), { seq: N, buffered: 1, receiptedSeq: N - 1 }, 'the last reading waits for its receipt')
  t.equal(r.resendRequests.length, 0, 'nothing tells the ledger it is missing')

  r.advance(TIMEOUT - 1)
  t.equal(r.device.retransmitOverdue(), 0, 'not before the timeout')
  t.equal(r.seen.get(N), 1)
  r.advance(1)
  t.equal(r.device.retransmitOverdue(), 1, 'at the timeout, the reading goes out again')
  await r.settle()
  t.equal(r.seen.get(N), 2)
  t.equal(r.contiguous(), N, 'the ledger now holds it')
  t.match(r.device.status(), { buffered: 0, receiptedSeq: N, connected: true }, 'receipted; the link never went down')
  r.advance(10 * TIMEOUT)
  t.equal(r.device.retransmitOverdue(), 0, 'nothing left to re-send')
  await r.fleet.stop()
})

t.test('a re-sent reading is never sent again sooner than the timeout; the timeout doubles per re-send', async (t) => {
  const N = 13
  const r = rig(new Map([[N, 3]]))
  await r.fleet.start()
  r.fleet.runUntil(START + 60 * 60_000)
  await r.settle()
  const sends: number[] = []
  let elapsed = 0
  // Poll every second of fake time for 8 minutes, as a fleet tick would (more often than it does).
  for (; elapsed <= 8 * 60_000 && r.device.status().buffered > 0; elapsed += 1000) {
    if (r.device.retransmitOverdue() > 0) sends.push(elapsed)
    await r.settle()
    r.advance(1000)
  }
  t.same(sends, [TIMEOUT, 3 * TIMEOUT, 7 * TIMEOUT], 're-sent after 30 s, then 60 s, then 120 s')
  t.equal(r.seen.get(N), 4, 'three deliveries lost, the fourth stored')
  t.match(r.device.status(), { buffered: 0, receiptedSeq: N })
  await r.fleet.stop()
})

t.test('a lost tail of several readings: re-sending the newest makes the ledger ask for the rest', async (t) => {
  const N = 13
  const r = rig(
    new Map([
      [10, 1],
      [11, 1],
      [12, 1],
      [13, 1],
    ]),
  )
  await r.fleet.start()
  r.fleet.runUntil(START + 60 * 60_000)
  await r.settle()
  t.equal(r.contiguous(), 9)
  t.equal(r.device.status().buffered, 4)
  r.advance(TIMEOUT)
  t.equal(r.device.retransmitOverdue(), 1, 'one message: the newest reading')
  await r.settle()
  await r.settle()
  t.same(r.resendRequests[0], [10, 12], 'the ledger, now seeing seq 13, asks for 10..12')
  t.equal(r.contiguous(), N, 'and gets them from the buffer')
  t.match(r.device.status(), { buffered: 0, receiptedSeq: N })
  await r.fleet.stop()
})

t.test('the fleet checks receipt timeouts on its one scheduler timer, also after the last sample', async (t) => {
  const N = 13
  const r = rig(new Map([[N, 1]]))
  await r.fleet.start()
  r.fleet.runUntil(START + 60 * 60_000)
  await r.settle()
  t.equal(r.device.status().buffered, 1)
  // Fire the scheduler's timer as time passes; it re-arms itself each time.
  for (let i = 0; i < 20 && r.device.status().buffered > 0; i++) {
    t.equal(r.pendingTimers.length, 1, 'exactly one timer armed')
    r.advance(TIMEOUT / 4)
    r.pendingTimers.shift()!()
    await r.settle()
  }
  t.match(r.device.status(), { buffered: 0, receiptedSeq: N }, 'the tick re-sent the lost reading')
  t.equal(r.seen.get(N), 2)
  await r.fleet.stop()
})

t.test('receiptTimeoutMs must be positive', async (t) => {
  t.throws(() => createFleet({ scenario: smallScenario(), startMs: START, receiptTimeoutMs: 0, log: () => {} }), {
    code: 'ERR_SIM_OPTIONS',
  })
})
