/**
 * The rules of a profile as people read them: the lines that the CLI, the
 * Verify page and the PDF print under "rules that decided the verdict".
 * Exact (integer formatting from format.ts, no rounding): a regulator
 * compares them with the quality agreement. Pure.
 */
import { formatCentiC, formatDuration } from './format.ts'
import type { RuleProfile, Side } from './profile.ts'

/** "T > 8.00 °C": when a reading is beyond a limit on `side` (an inclusive limit is not itself beyond). */
function beyond(side: Side, limitCentiC: number, limitInclusive: boolean): string {
  if (side === 'above') return `T ${limitInclusive ? '>' : '≥'} ${formatCentiC(limitCentiC)}`
  return `T ${limitInclusive ? '<' : '≤'} ${formatCentiC(limitCentiC)}`
}

const atMost = (v: number | null, f: (n: number) => string) => (v === null ? 'no limit' : `at most ${f(v)}`)

export function profileRules(p: RuleProfile): string[] {
  const r = p.range
  const low = r.lowCentiC === null ? '' : `${formatCentiC(r.lowCentiC)} ${r.lowInclusive ? '≤' : '<'} `
  const high = r.highCentiC === null ? '' : ` ${r.highInclusive ? '≤' : '<'} ${formatCentiC(r.highCentiC)}`
  const lines = [`labelled range: ${low}T${high} ("${p.labelStatement}")`]
  for (const z of p.zones) {
    lines.push(
      `zone ${z.id} (${beyond(z.side, z.limitCentiC, z.limitInclusive)}): alarm after ${formatDuration(z.alarmDelayMs)}; ` +
        `cumulative time beyond: ${atMost(z.cumulativeAllowanceMs, formatDuration)}; one excursion: ${atMost(z.maxSingleEventMs, formatDuration)}; ` +
        `consecutive readings beyond: ${atMost(z.maxConsecutiveReadings, String)}; degree-minutes: ${atMost(z.allowanceDegreeMinutes, (n) => `${n} °C·min`)}`,
    )
  }
  for (const h of p.hardLimits)
    lines.push(`hard limit ${h.id}: any reading with ${beyond(h.side, h.limitCentiC, h.limitInclusive)} fails at once`)
  lines.push(`MKT limit: ${p.mktMaxCentiC === null ? 'none' : `at most ${formatCentiC(p.mktMaxCentiC)}`}`)
  const sb = p.stabilityBudget
  lines.push(
    `stability budget: ${sb === null ? 'none' : `${formatDuration(sb.allowanceMs)} outside the label range, ${formatDuration(sb.priorUsage.reduce((n, u) => n + u.usedMs, 0))} used by earlier legs`}`,
  )
  lines.push(
    `data: sampling every ${formatDuration(p.expectedIntervalMs)}; the last reading before a gap or the close holds for one interval; a gap over ${formatDuration(p.maxDataGapMs)} is a data gap, never a clock fault; ` +
      `hysteresis ${formatCentiC(p.hysteresisCentiC)}; not judged ${formatDuration(p.startDelayMs)} after the start and ${formatDuration(p.stopDelayMs)} before the end; ` +
      `plausible ${formatCentiC(p.plausibleCentiC.min)} to ${formatCentiC(p.plausibleCentiC.max)}`,
  )
  return lines
}
