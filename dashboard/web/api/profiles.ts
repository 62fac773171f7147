/** The built-in rule profiles. */
import type { ProfileListWire } from '../../common/api-schemas.ts'
import { request } from './request.ts'
import { centiToC } from './units.ts'

/** A profile's range in °C (the profile is passed through whole: its own schema is the compliance engine's). */
function rangeC(range: unknown): { minC: number | null; maxC: number | null } {
  const r = (range ?? {}) as { lowCentiC?: number | null; highCentiC?: number | null }
  return { minC: centiToC(r.lowCentiC), maxC: centiToC(r.highCentiC) }
}

/** The built-in rule profiles a new shipment can use. */
export async function listProfiles(): Promise<
  { id: string; name: string; minC: number | null; maxC: number | null }[]
> {
  const r = await request<ProfileListWire>('GET', '/api/profiles')
  return r.profiles.map((p) => ({
    id: p.id,
    name: p.name,
    ...rangeC(p.profile.range),
  }))
}
