/**
 * What the compliance fold reads and what it says: the reading subset, the
 * event kinds, the events and fault episodes (docs/COMPLIANCE.md, "Events").
 * engine.ts holds the fold itself and re-exports these names.
 */

/** The reading fields the engine reads (a subset of ledger/protocol ReadingFields). */
export interface EngineReading {
  deviceId: string
  seq: number
  deviceTimeMs: number
  tempCentiC: number
  status?: number
}

export type EventKind =
  | 'excursion_started'
  | 'excursion_alarm'
  | 'excursion_ended'
  | 'single_event_exceeded'
  | 'consecutive_readings_exceeded'
  | 'cumulative_allowance_exceeded'
  | 'degree_minutes_exceeded'
  | 'hard_limit_breached'
  | 'stability_budget_exceeded'
  | 'data_gap'
  | 'missing_readings'
  | 'sensor_fault'
  /** Raised by the dashboard, never by the fold: a reading above a closed shipment's close anchor with a device time in its window. */
  | 'post_close_reading'

/** Event kinds that are alarms: an operator is told and may acknowledge them. */
export const ALARM_KINDS: ReadonlySet<EventKind> = new Set<EventKind>([
  'excursion_alarm',
  'single_event_exceeded',
  'consecutive_readings_exceeded',
  'cumulative_allowance_exceeded',
  'degree_minutes_exceeded',
  'hard_limit_breached',
  'stability_budget_exceeded',
  'data_gap',
  'missing_readings',
  'sensor_fault',
])

export type EndReason = 'returned' | 'data_gap' | 'not_judged' | 'end_of_data'
export type FaultReason = 'status_fault' | 'impossible_value' | 'clock_backwards' | 'clock_jump'

/**
 * One event. `id` is stable across re-evaluation: `${deviceId}:${kind}:${rule}:${anchor}`
 * (or `${deviceId}:${kind}:${anchor}` when no rule applies), where the anchor is the
 * excursion start for excursion events, the first sequence number of the episode for
 * sensor faults, the sequence number before the hole for missing readings, and the
 * event time otherwise. Fields beyond the first six depend on the kind (docs/COMPLIANCE.md, "Events").
 */
export interface ComplianceEvent {
  id: string
  kind: EventKind
  deviceId: string
  alarm: boolean
  /** ms, device time at which the engine knew: the reading (or judged-time boundary) that revealed it. */
  atMs: number
  /** zone or hard-limit id, or the fault reason for sensor_fault; '' when none. */
  rule: string
  startMs?: number
  endMs?: number
  durationMs?: number
  beyondMs?: number
  judgedMs?: number
  peakCentiC?: number
  tempCentiC?: number
  limitCentiC?: number
  areaCentiCMs?: number
  allowanceMs?: number
  allowanceCentiCMs?: number
  totalMs?: number
  priorMs?: number
  count?: number
  seq?: number
  afterSeq?: number
  endReason?: EndReason
  outcomeKnown?: boolean
}

/**
 * A run of consecutive readings of one sensor with the same fault reason
 * (docs/COMPLIANCE.md, "Sensor faults"): one event and one reason for the run,
 * not one per reading. `eventId` is the id of the run's sensor_fault event.
 */
export interface FaultEpisode {
  eventId: string
  rule: FaultReason
  firstSeq: number
  lastSeq: number
  firstMs: number
  lastMs: number
  /** readings in the episode */
  count: number
}
