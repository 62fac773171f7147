import t from 'tap'
import { createLateness } from './lateness.ts'

const MIN = 60_000
const THRESHOLD = 10 * MIN // 2 × a 5-minute sampling interval

/**
 * Two loggers sample every 5 min of device time. Logger B loses its link for
 * 60 min of device time and then empties its buffer. Device time runs
 * `accel` times faster than the receive clock (1 = real time, 720 = the demo).
 * Returns the seqs of B judged late.
 */
function run(accel: number, deviceStart: number, receiveStart: number): number[] {
  const late = createLateness()
  const recv = (deviceT: number) => receiveStart + (deviceT - deviceStart) / accel + 800 // 0.8 s transmission
  const lateB: number[] = []
  const buffered: { seq: number; t: number }[] = []
  for (let i = 0; i < 40; i++) {
    const t = deviceStart + i * 5 * MIN
    late.excess(recv(t), t) // logger A, always online
    const inDeadZone = i >= 10 && i < 22
    if (inDeadZone) {
      buffered.push({ seq: i + 1, t })
      continue
    }
    if (i === 22) {
      // Back online: the buffer goes first, then the live reading.
      for (const b of buffered) if (late.excess(recv(t), b.t) > THRESHOLD) lateB.push(b.seq)
    }
    if (late.excess(recv(t), t) > THRESHOLD) lateB.push(i + 1)
  }
  return lateB
}

t.test('real time, UTC-synced loggers: readings older than two intervals at arrival are late', async (t) => {
  const T = Date.UTC(2026, 10, 20)
  // Buffered at seq 11..22 (device times 50..105 min), received at 110 min: delays 60..5 min.
  t.same(run(1, T, T), [11, 12, 13, 14, 15, 16, 17, 18, 19, 20])
})

t.test(
  'accelerated device clock (demo, 720×, device time far behind the wall clock): the same readings are late',
  async (t) => {
    const T = Date.UTC(2026, 10, 20)
    t.same(run(720, T - 47 * 3600_000, T), [11, 12, 13, 14, 15, 16, 17, 18, 19, 20])
  },
)

t.test('a constant device clock offset does not make live readings late', async (t) => {
  const late = createLateness()
  for (let i = 0; i < 50; i++)
    t.equal(late.excess(1_000_000 + i * 300_000 + 3 * 3600_000, 1_000_000 + i * 300_000) <= 1, true)
})
