/**
 * The device's own clock, as it drifts and jumps against true (simulated)
 * time. A real logger's crystal drifts by tens of ppm; a jump is what a bad
 * RTC resync or a brown-out reset looks like. Device time is what the reading
 * carries (integer ms UTC, ARCHITECTURE.md decision 1).
 */
import type { ClockJump } from './scenario/index.ts'

export interface DeviceClockOptions {
  /** True time at which the drift is zero (the shipment start). */
  originMs: number
  driftPpm: number
  /** Jumps at `atMin` minutes after the origin, each shifting the clock by `offsetMin`. */
  jumps: readonly ClockJump[]
}

export function deviceTimeAt(trueMs: number, o: DeviceClockOptions): number {
  let t = trueMs + ((trueMs - o.originMs) * o.driftPpm) / 1e6
  for (const j of o.jumps) if (trueMs >= o.originMs + j.atMin * 60_000) t += j.offsetMin * 60_000
  return Math.max(0, Math.round(t))
}
