import t from 'tap'
import {
  formatCount,
  formatDate,
  formatDateTime,
  formatDateTimeSec,
  timeTickStep,
  formatDuration,
  formatTemp,
  formatTimeTick,
  shortHash,
  timeAgo,
} from './format.ts'

t.test('temperatures', async (t) => {
  t.equal(formatTemp(5.234), '5.2 °C')
  t.equal(formatTemp(-18.5, 2), '−18.50 °C')
  t.equal(formatTemp(-0.01), '0.0 °C', 'no negative zero')
  t.equal(formatTemp(null), '—')
  t.equal(formatTemp(Number.NaN), '—')
})

t.test('durations and "ago"', async (t) => {
  t.equal(formatDuration(45_000), '45 s')
  t.equal(formatDuration(3 * 60_000 + 5_000), '3 min')
  t.equal(formatDuration(2 * 3600_000 + 5 * 60_000), '2 h 05 min')
  t.equal(formatDuration(3 * 86_400_000 + 4 * 3600_000), '3 d 4 h')
  t.equal(formatDuration(-5), '0 s')
  const now = 1_800_000_000_000
  t.equal(timeAgo(now - 2000, now), 'just now')
  t.equal(timeAgo(now - 3 * 60_000, now), '3 min ago')
  t.equal(timeAgo(now + 60_000, now), 'just now', 'a clock ahead of ours is not in the future')
  t.equal(timeAgo(null, now), 'never')
})

t.test('times are UTC', async (t) => {
  const ms = Date.UTC(2026, 10, 25, 14, 5, 9)
  t.equal(formatDateTime(ms), '2026-11-25 14:05 UTC')
  t.equal(formatDate(ms), '2026-11-25')
  t.equal(formatTimeTick(ms, 60_000), '14:05:09')
  t.equal(formatTimeTick(ms, 3600_000), '14:05')
  t.equal(formatTimeTick(ms, 3 * 86_400_000), '11-25 14:05')
})

t.test('counts and hashes', async (t) => {
  t.equal(formatCount(1234567), '1\u202f234\u202f567')
  t.equal(formatCount(12), '12')
  t.equal(shortHash('a'.repeat(64)), 'aaaaaaaa…aaaa')
  t.equal(shortHash('abcd'), 'abcd')
})

t.test('time axis steps are readable and bounded', async (t) => {
  t.equal(timeTickStep(6 * 3600_000), 3600_000, '6 h -> hourly')
  t.equal(timeTickStep(40 * 60_000), 5 * 60_000, '40 min -> every 5 min')
  t.equal(timeTickStep(60_000), 10_000)
  t.equal(timeTickStep(3 * 86_400_000), 12 * 3600_000)
  for (const span of [1000, 59_000, 3600_000, 86_400_000, 40 * 86_400_000])
    t.ok(span / timeTickStep(span) <= 8, `at most 8 ticks over ${span} ms`)
  t.equal(formatDateTimeSec(Date.UTC(2026, 10, 25, 14, 5, 9)), '2026-11-25 14:05:09 UTC')
})
