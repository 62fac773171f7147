/**
 * Human text for reason and event messages. Pure integer arithmetic, no Date,
 * no Intl, no toLocaleString: a message must read the same in Node and in every
 * browser, because it is part of the result a verifier compares byte for byte.
 *
 *   formatDuration(ms)       "45 s", "5 min", "6 h 10 min", "1 d 2 h"; exact (every non-zero unit shown)
 *   formatCentiC(c)          "8.01 °C", "-0.50 °C"
 *   formatUtc(ms)            "2026-11-24 22:06 UTC" (":ss" / ".mmm" only when non-zero)
 *   formatDegreeMinutes(a)   centi-°C·ms as "12.50 °C·min" (rounded half to even)
 */

const UNITS: readonly [number, string][] = [
  [86_400_000, 'd'],
  [3_600_000, 'h'],
  [60_000, 'min'],
  [1_000, 's'],
  [1, 'ms'],
]

/** A duration in ms as its non-zero units, largest first, so no rounding hides an exceeded allowance. */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms)) return `${ms} ms`
  if (ms === 0) return '0 s'
  let rest = Math.abs(ms)
  const parts: string[] = []
  for (const [size, unit] of UNITS) {
    const n = Math.floor(rest / size)
    rest -= n * size
    if (n > 0) parts.push(`${n} ${unit}`)
  }
  return (ms < 0 ? '-' : '') + parts.join(' ')
}

/** Integer centi-degrees Celsius as degrees with two decimals. ASCII '-' (PDF standard fonts have no U+2212). */
export function formatCentiC(c: number): string {
  if (!Number.isSafeInteger(c)) return `${c} centi-°C`
  const a = Math.abs(c)
  return `${c < 0 ? '-' : ''}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')} °C`
}

/**
 * Days since 1970-01-01 -> proleptic Gregorian civil date (UTC), integers only.
 * The algorithm counts 400-year eras of 146 097 days starting on 1 March
 * (so the leap day is the last day of a year); see H. Hinnant, "chrono-Compatible
 * Low-Level Date Algorithms", civil_from_days.
 */
function civilFromDays(z: number): [number, number, number] {
  z += 719_468
  const era = Math.floor(z / 146_097)
  const doe = z - era * 146_097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1
  const m = mp < 10 ? mp + 3 : mp - 9
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d]
}

const p2 = (n: number) => String(n).padStart(2, '0')

/** Epoch ms as "YYYY-MM-DD HH:MM UTC", with seconds and milliseconds only when they are not zero. */
export function formatUtc(ms: number): string {
  if (!Number.isSafeInteger(ms)) return `${ms} ms`
  const days = Math.floor(ms / 86_400_000)
  let rest = ms - days * 86_400_000
  const [y, m, d] = civilFromDays(days)
  const hh = Math.floor(rest / 3_600_000)
  rest -= hh * 3_600_000
  const mm = Math.floor(rest / 60_000)
  rest -= mm * 60_000
  const ss = Math.floor(rest / 1000)
  const milli = rest - ss * 1000
  const year =
    y >= 0 && y <= 9999 ? String(y).padStart(4, '0') : (y < 0 ? '-' : '+') + String(Math.abs(y)).padStart(6, '0')
  const sec = ss === 0 && milli === 0 ? '' : `:${p2(ss)}${milli === 0 ? '' : `.${String(milli).padStart(3, '0')}`}`
  return `${year}-${p2(m)}-${p2(d)} ${p2(hh)}:${p2(mm)}${sec} UTC`
}

/** An area in centi-°C·ms as °C·min with two decimals (1 °C·min = 6 000 000 centi-°C·ms), half to even. */
export function formatDegreeMinutes(centiCMs: number): string {
  if (!Number.isSafeInteger(centiCMs)) return `${centiCMs} centi-°C·ms`
  // hundredths of °C·min: 1 = 60 000 centi-°C·ms
  const a = Math.abs(centiCMs)
  let q = Math.floor(a / 60_000)
  const r = a - q * 60_000
  if (r > 30_000 || (r === 30_000 && q % 2 === 1)) q++
  return `${centiCMs < 0 && q > 0 ? '-' : ''}${Math.floor(q / 100)}.${p2(q % 100)} °C·min`
}
