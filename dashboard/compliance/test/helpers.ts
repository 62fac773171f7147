/** Helpers shared by the compliance tests: profiles with overrides and synthetic traces. */
import { BUILTIN_PROFILES } from '../builtin-profiles.ts'
import { validateProfile, profileHash, type RuleProfile, type Zone } from '../profile.ts'
import type { EngineReading } from '../engine.ts'

export const MIN = 60_000
export const HOUR = 60 * MIN
/** 2026-01-01T00:00:00Z */
export const T0 = Date.UTC(2026, 0, 1)

export function zone(over: Partial<Zone> & Pick<Zone, 'id' | 'side' | 'limitCentiC'>): Zone {
  return {
    limitInclusive: true,
    alarmDelayMs: 0,
    maxSingleEventMs: null,
    cumulativeAllowanceMs: null,
    maxConsecutiveReadings: null,
    allowanceDegreeMinutes: null,
    ...over,
  }
}

/** The 2–8 °C built-in with fields replaced (validated). */
export function profileWith(
  over: Partial<RuleProfile>,
  base: RuleProfile = BUILTIN_PROFILES['refrigerated-2-8'],
): RuleProfile {
  return validateProfile({ ...structuredClone(base), ...over })
}

/** Readings every `stepMs` from `startMs`, seq from `firstSeq`. */
export function trace(
  deviceId: string,
  temps: readonly number[],
  { startMs = T0, stepMs = 5 * MIN, firstSeq = 1 } = {},
): EngineReading[] {
  return temps.map((tempCentiC, i) => ({ deviceId, seq: firstSeq + i, deviceTimeMs: startMs + i * stepMs, tempCentiC }))
}

export function shipmentInput(
  profile: RuleProfile,
  readings: EngineReading[],
  window: { startMs: number; endMs?: number | null } = { startMs: T0 },
) {
  return { profile, profileHash: profileHash(profile), window, readings }
}
