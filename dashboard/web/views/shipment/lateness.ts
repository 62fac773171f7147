/** When a reading counts as late and a sensor as silent, by the shipment's profile. */
import { lateThreshold } from '../../series.ts'
import type { SensorState, ShipmentDetail } from '../../types.ts'

/** docs/API.md: the server marks a reading late after two sampling intervals (default 60 s each). */
export function lateAfter(d: ShipmentDetail): number {
  return d.profile.expectedIntervalMs ? 2 * d.profile.expectedIntervalMs : lateThreshold(d.profile.maxGapMs)
}

/** A sensor is silent when nothing has been stored from it for longer than the allowed gap. */
export function silentFor(s: SensorState, d: ShipmentDetail, now: number): number | null {
  if (d.status === 'closed') return null
  // Silence is wall-clock time since the ledger last stored a reading from it; it grows between fetches.
  const since = s.lastSeenAt !== null ? now - s.lastSeenAt : (s.silentForMs ?? null)
  const limit = d.profile.maxGapMs ?? 10 * 60_000
  return since !== null && since > limit ? since : null
}
