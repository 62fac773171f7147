import t from 'tap'
import fc from 'fast-check'
import { formatDuration, formatCentiC, formatUtc, formatDegreeMinutes } from './format.ts'

t.test('durations read as units, exactly', async (t) => {
  t.equal(formatDuration(45_000), '45 s')
  t.equal(formatDuration(300_000), '5 min')
  t.equal(formatDuration(22_200_000), '6 h 10 min')
  t.equal(formatDuration(0), '0 s')
  t.equal(formatDuration(7_200_001), '2 h 1 ms', 'one ms over an allowance is still visible')
  t.equal(formatDuration(30 * 3_600_000 + 5_000), '1 d 6 h 5 s')
  t.equal(formatDuration(-90_000), '-1 min 30 s')
  t.equal(formatDuration(999), '999 ms')
  // property: the parts add back up to the input
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 10 * 366 * 86_400_000 }), (ms) => {
      const size: Record<string, number> = { d: 86_400_000, h: 3_600_000, min: 60_000, s: 1000, ms: 1 }
      const parts = formatDuration(ms).split(' ')
      let sum = 0
      for (let i = 0; i < parts.length; i += 2) sum += Number(parts[i]) * size[parts[i + 1]]
      return sum === ms
    }),
  )
})

t.test('temperatures in degrees with two decimals', async (t) => {
  t.equal(formatCentiC(801), '8.01 °C')
  t.equal(formatCentiC(32767), '327.67 °C')
  t.equal(formatCentiC(-50), '-0.50 °C')
  t.equal(formatCentiC(-2000), '-20.00 °C')
  t.equal(formatCentiC(0), '0.00 °C')
})

t.test('times in UTC agree with an independent implementation (Date#toISOString)', async (t) => {
  t.equal(formatUtc(Date.UTC(2026, 10, 24, 22, 6)), '2026-11-24 22:06 UTC')
  t.equal(formatUtc(Date.UTC(2026, 10, 24, 22, 6, 7, 89)), '2026-11-24 22:06:07.089 UTC')
  t.equal(formatUtc(Date.UTC(2024, 1, 29, 23, 59, 59)), '2024-02-29 23:59:59 UTC')
  t.equal(formatUtc(0), '1970-01-01 00:00 UTC')
  t.equal(formatUtc(-1), '1969-12-31 23:59:59.999 UTC')
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 253_402_300_799_999 }), (ms) => {
      const iso = new Date(ms).toISOString() // YYYY-MM-DDTHH:MM:SS.mmmZ
      const want = `${iso.slice(0, 10)} ${iso.slice(11, 16)}${iso.slice(17, 23) === '00.000' ? '' : iso.slice(20, 23) === '000' ? `:${iso.slice(17, 19)}` : `:${iso.slice(17, 23)}`} UTC`
      return formatUtc(ms) === want
    }),
    { numRuns: 2000 },
  )
  fc.assert(
    fc.property(
      fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 }),
      (ms) => formatUtc(ms).slice(0, 10) === new Date(ms).toISOString().slice(0, 10),
    ),
    { numRuns: 2000 },
  )
})

t.test('degree-minutes', async (t) => {
  t.equal(formatDegreeMinutes(300 * 6_000_000), '300.00 °C·min')
  t.equal(formatDegreeMinutes(6_000_000 + 30_000), '1.00 °C·min', 'half to even (down)')
  t.equal(formatDegreeMinutes(6_000_000 + 90_000), '1.02 °C·min', 'half to even (up)')
  t.equal(formatDegreeMinutes(0), '0.00 °C·min')
})

t.test('non-integers are shown raw, never thrown on', async (t) => {
  t.equal(formatDuration(1.5), '1.5 ms')
  t.equal(formatUtc(Number.NaN), 'NaN ms')
})
