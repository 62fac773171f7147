/**
 * Formatting for people: temperatures, durations, "3 min ago", timestamps.
 * Pure (no DOM), so it is tested in Node beside this file.
 */

/** 5.234 -> "5.2 °C"; null/undefined -> "—". Temperatures arrive in °C (centi-degrees / 100). */
export function formatTemp(c: number | null | undefined, digits = 1): string {
  if (c === null || c === undefined || !Number.isFinite(c)) return '—'
  // Avoid "-0.0 °C" for a value that rounds to zero.
  const s = (Math.abs(c) < 0.5 * 10 ** -digits ? 0 : c).toFixed(digits)
  return `${s.replace('-', '−')} °C`
}

/** A compact duration: "45 s", "3 min", "2 h 05 min", "3 d 4 h". Negative counts as 0. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—'
  const s = Math.max(0, Math.floor(ms / 1000))
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min`
  const hrs = Math.floor(m / 60)
  if (hrs < 24) return `${hrs} h ${String(m % 60).padStart(2, '0')} min`
  const d = Math.floor(hrs / 24)
  return `${d} d ${hrs % 24} h`
}

/** "just now", "12 s ago", "3 min ago", "2 h 05 min ago"; a time ahead of `now` (clock skew) reads "just now". */
export function timeAgo(then: number | null | undefined, now: number): string {
  if (then === null || then === undefined || !Number.isFinite(then)) return 'never'
  const d = now - then
  if (d < 5000) return 'just now'
  return `${formatDuration(d)} ago`
}

const pad = (n: number) => String(n).padStart(2, '0')

/** "14:05:09" in UTC: device times are UTC and shipments cross time zones. */
export function formatClock(ms: number): string {
  const d = new Date(ms)
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
}

/** "2026-11-25 14:05 UTC" */
export function formatDateTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—'
  const d = new Date(ms)
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`
}

/** "2026-11-25 14:05:09 UTC" */
export function formatDateTimeSec(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—'
  const d = new Date(ms)
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${formatClock(ms)} UTC`
}

const MIN = 60_000
/** Tick steps a person reads easily, from 10 s to a week. */
const TICK_STEPS = [
  10_000,
  30_000,
  MIN,
  2 * MIN,
  5 * MIN,
  10 * MIN,
  15 * MIN,
  30 * MIN,
  60 * MIN,
  2 * 60 * MIN,
  3 * 60 * MIN,
  6 * 60 * MIN,
  12 * 60 * MIN,
  24 * 60 * MIN,
  2 * 24 * 60 * MIN,
  7 * 24 * 60 * MIN,
]

/**
 * The smallest readable step that gives at most `maxTicks` ticks over `spanMs`.
 * Multiples of these steps since the epoch fall on whole UTC minutes/hours/days.
 */
export function timeTickStep(spanMs: number, maxTicks = 8): number {
  for (const s of TICK_STEPS) if (spanMs / s <= maxTicks) return s
  return Math.ceil(spanMs / maxTicks / TICK_STEPS[TICK_STEPS.length - 1]) * TICK_STEPS[TICK_STEPS.length - 1]
}

/** "2026-11-25" */
export function formatDate(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—'
  const d = new Date(ms)
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`
}

/**
 * Tick label for a time axis in ms: the clock time, plus the date when the
 * visible span is longer than a day (so a multi-day shipment stays readable).
 */
export function formatTimeTick(ms: number, spanMs: number): string {
  const d = new Date(ms)
  if (spanMs > 36 * 3600_000)
    return `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`
  if (spanMs > 10 * 60_000) return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`
  return formatClock(ms)
}

/** 1234567 -> "1 234 567" (thin spaces keep large counts readable in any locale). */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—'
  return Math.trunc(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f')
}

/** Shortens a long hex string for display: "a1b2c3d4…e5f6". The full value goes in a title attribute. */
export function shortHash(hex: string, head = 8, tail = 4): string {
  return hex.length <= head + tail + 1 ? hex : `${hex.slice(0, head)}…${hex.slice(-tail)}`
}
