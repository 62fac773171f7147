/**
 * A rule id of a profile as people read it: zone "above-8" of a 2-8 °C
 * profile is "above 8.00 °C". Looked up in the profile's zones and hard limits
 * (their side and limit), never parsed from the id: ids are free text chosen
 * by the profile author. Pure; used by the API's alarm texts and the PDF.
 */

/** "above 8.00 °C" / "below 2.00 °C" for a zone or hard limit of `profile`; null when the id is not one of them. */
export function describeRule(profile: unknown, ruleId: string | null | undefined): string | null {
  if (!ruleId || typeof profile !== 'object' || profile === null) return null
  const p = profile as { zones?: unknown; hardLimits?: unknown }
  for (const list of [p.zones, p.hardLimits]) {
    if (!Array.isArray(list)) continue
    for (const r of list as { id?: unknown; side?: unknown; limitCentiC?: unknown }[]) {
      if (r && r.id === ruleId && (r.side === 'above' || r.side === 'below') && typeof r.limitCentiC === 'number') {
        return `${r.side} ${(r.limitCentiC / 100).toFixed(2)} °C`
      }
    }
  }
  return null
}
