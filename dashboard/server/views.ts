/**
 * Ledger entries and compliance results as the API shows them (docs/API.md).
 * Pure mapping; no I/O.
 */
import { createHash } from 'node:crypto'
import { decodeReading, STATUS, EVENT } from '../../ledger/protocol/index.ts'
import type { StoredEntry } from '../../ledger/tlog/index.ts'
import type { DeviceState } from '../../ledger/store/index.ts'
import type { ShipmentResult, RuleProfile, ComplianceEvent } from '../compliance/index.ts'
import { describeRule } from '../reports/rule-text.ts'
import type { DeviceWire, ExcursionWire, LoggerFiguresWire, ReadingWire, ResultWire } from '../common/api-schemas.ts'

/** A reading as the API shows it (the shape: ReadingSchema in dashboard/common/api-schemas.ts). */
export type ReadingView = ReadingWire

// The bit tables, listed once (not an entries array per reading).
const STATUS_BITS = Object.entries(STATUS)
const EVENT_BITS = Object.entries(EVENT)

/** Names of the STATUS and EVENT bits set in a reading (docs/PROTOCOL.md). */
export function readingFlags(status: number, events: number): string[] {
  const out: string[] = []
  for (const [name, bit] of STATUS_BITS) if (status & bit) out.push(name)
  for (const [name, bit] of EVENT_BITS) if (events & bit) out.push(name)
  return out
}

/** What a reading entry says, decoded: the API view (ReadingView) less its flags and lateness. */
export type ReadingFacts = Omit<ReadingView, 'flags' | 'late' | 'delayMs'>

/** Decodes a reading entry's payload; the fold needs no more (the view's flags are built when shown). */
export function readingFacts(e: StoredEntry<'reading'>): ReadingFacts {
  const { fields } = decodeReading(Buffer.from(e.entry.body.payload, 'base64'))
  return {
    deviceId: fields.deviceId,
    seq: fields.seq,
    deviceTimeMs: fields.deviceTimeMs,
    receivedAt: e.entry.time,
    tempCentiC: fields.tempCentiC,
    humidityCentiPct: fields.humidityCentiPct ?? null,
    batteryPct: fields.batteryPct ?? null,
    status: fields.status ?? 0,
    events: fields.events ?? 0,
    index: e.entry.index,
  }
}

/** The API view of decoded facts (keys in the order the API has always sent them). */
export function viewOfFacts(f: ReadingFacts, late: boolean, delayMs: number | null): ReadingView {
  return {
    deviceId: f.deviceId,
    seq: f.seq,
    deviceTimeMs: f.deviceTimeMs,
    receivedAt: f.receivedAt,
    tempCentiC: f.tempCentiC,
    humidityCentiPct: f.humidityCentiPct,
    batteryPct: f.batteryPct,
    status: f.status,
    events: f.events,
    flags: readingFlags(f.status, f.events),
    late,
    delayMs,
    index: f.index,
  }
}

/**
 * Decodes a reading entry. `late`: the ledger received it more than
 * `lateAfterMs` after its device time (a buffer emptying after a dead zone).
 */
export function readingView(e: StoredEntry<'reading'>, lateAfterMs: number): ReadingView {
  const f = readingFacts(e)
  return viewOfFacts(f, f.receivedAt - f.deviceTimeMs > lateAfterMs, null)
}

/** First 16 hex digits of SHA-256 over the raw 32-byte public key. */
export function keyFingerprint(publicKeyHex: string): string {
  return createHash('sha256').update(Buffer.from(publicKeyHex, 'hex')).digest('hex').slice(0, 16)
}

export type ExcursionView = ExcursionWire

/** One logger's figures over its judged time (the PDF's and the UI's per-logger table). */
export type LoggerFigures = LoggerFiguresWire

export type ResultView = ResultWire

/** The excursions of a result: every ended excursion, those still open at the end of data marked ongoing while the shipment is open. */
export function excursionsOf(result: ShipmentResult, profile: RuleProfile, closed: boolean): ExcursionView[] {
  const side = new Map(profile.zones.map((z) => [z.id, z.side]))
  const out: ExcursionView[] = []
  for (const s of result.sensors) {
    for (const e of s.events) {
      if (e.kind !== 'excursion_ended') continue
      const ongoing = !closed && e.endReason === 'end_of_data'
      out.push({
        deviceId: e.deviceId,
        kind: side.get(e.rule) ?? 'excursion',
        ruleId: e.rule || null,
        startAt: e.startMs ?? e.atMs,
        endAt: ongoing ? null : (e.endMs ?? null),
        durationMs: e.durationMs ?? 0,
        peakCentiC: e.peakCentiC ?? null,
      })
    }
  }
  return out.sort((a, b) => a.startAt - b.startAt)
}

/**
 * Shipment-level figures from the per-logger results: the worst logger for
 * each (highest MKT, longest time above / below, shortest time in range), so
 * a good logger never hides a bad one.
 */
export function resultView(result: ShipmentResult, profile: RuleProfile, closed: boolean): ResultView {
  const stats = result.sensors.map((s) => s.stats)
  const pick = (f: (x: (typeof stats)[number]) => number | null, agg: (a: number, b: number) => number) => {
    const vs = stats.map(f).filter((v): v is number => v !== null)
    return vs.length ? vs.reduce((a, b) => agg(a, b)) : null
  }
  return {
    verdict: result.verdict,
    reasons: result.reasons.map((r) => r.message),
    deciding: result.verdict === 'PASS' ? 0 : result.reasons.filter((r) => r.verdict === result.verdict).length,
    loggers: result.sensors.map((s) => ({
      deviceId: s.deviceId,
      verdict: s.verdict,
      minCentiC: s.stats.minCentiC,
      maxCentiC: s.stats.maxCentiC,
      meanCentiC: s.stats.meanCentiC,
      mktCentiC: s.stats.mktCentiC,
      readings: s.readings.accepted,
    })),
    mktCentiC: pick((s) => s.mktCentiC, Math.max),
    timeInRangeMs: pick((s) => s.inRangeMs, Math.min),
    timeAboveMs: pick((s) => s.aboveMs, Math.max),
    timeBelowMs: pick((s) => s.belowMs, Math.max),
    excursions: excursionsOf(result, profile, closed),
    readingCount: result.sensors.reduce((n, s) => n + s.readings.received, 0),
  }
}

const c2 = (c: number | undefined) => (c === undefined ? '?' : `${(c / 100).toFixed(2)} °C`)

/** One line for an operator, from a compliance event. */
/**
 * An alarm as people read it. The zone or hard limit is named by its side and
 * limit from the profile ("above 8.00 °C"), not by its internal id, which the
 * API still carries as `rule` (the UI shows it as a tooltip).
 */
export function alarmMessage(e: ComplianceEvent, profile?: RuleProfile | null): string {
  const described = describeRule(profile, e.rule)
  const where = described ?? (e.limitCentiC !== undefined ? `beyond ${c2(e.limitCentiC)}` : 'beyond the limit')
  switch (e.kind) {
    case 'excursion_alarm':
      return (
        `Excursion ${where} past the alarm delay` + (e.peakCentiC !== undefined ? `; peak ${c2(e.peakCentiC)}` : '')
      )
    case 'hard_limit_breached':
      return `Hard limit (${where}) breached: ${c2(e.tempCentiC)}`
    case 'single_event_exceeded':
      return `A single excursion ${where} exceeded its allowed duration`
    case 'consecutive_readings_exceeded':
      return `${e.count ?? ''} consecutive readings ${where}`
    case 'cumulative_allowance_exceeded':
      return `Cumulative time ${where} exceeds the allowance`
    case 'degree_minutes_exceeded':
      return `Degree-minutes ${where} exceed the allowance`
    case 'stability_budget_exceeded':
      return 'Stability budget exceeded'
    case 'data_gap':
      return `No readings for ${Math.round((e.durationMs ?? 0) / 60_000)} min (data gap)`
    case 'missing_readings':
      return `${e.count ?? ''} reading(s) missing after seq ${e.afterSeq ?? '?'}`
    // For a sensor fault `rule` is the fault reason (e.g. "status_fault"), not a profile rule.
    case 'sensor_fault':
      return `Sensor fault${e.rule ? ` (${e.rule.replace(/_/g, ' ')})` : ''} at seq ${e.seq ?? '?'}`
    case 'post_close_reading':
      return `${e.count ?? 1} reading(s) logged after the close with device times inside the closed window, from seq ${e.seq ?? '?'}: post-close evidence for QA, not part of the verdict`
    default:
      return e.kind.replace(/_/g, ' ')
  }
}

const SEVERITY: Record<string, string> = {
  hard_limit_breached: 'critical',
  single_event_exceeded: 'critical',
  consecutive_readings_exceeded: 'critical',
  cumulative_allowance_exceeded: 'critical',
  degree_minutes_exceeded: 'critical',
  stability_budget_exceeded: 'critical',
  excursion_alarm: 'major',
  data_gap: 'major',
  missing_readings: 'major',
  sensor_fault: 'minor',
  post_close_reading: 'major',
}
export const alarmSeverity = (kind: string): string | null => SEVERITY[kind] ?? null

export type DeviceView = DeviceWire

export function deviceView(d: DeviceState, shipmentId: string | null): DeviceView {
  // Sequence numbers the ledger knows exist (below the highest stored) but has not received:
  // still in the device's store-and-forward buffer, or lost.
  const missing = d.gaps.reduce((n, [a, b]) => n + (b - a + 1), 0)
  return {
    deviceId: d.deviceId,
    publicKey: d.publicKey,
    fingerprint: keyFingerprint(d.publicKey),
    model: d.model ?? null,
    calibration: d.calibration ?? null,
    state: d.revoked ? 'revoked' : 'active',
    registeredAt: d.registeredAt,
    registeredBy: d.registeredBy,
    revokedAt: d.revokedAt ?? null,
    revokeReason: d.revokeReason ?? null,
    lastSeq: d.highest > 0 ? d.highest : null,
    lastReadingAt: d.lastDeviceTime ?? null,
    lastReceivedAt: d.lastSeenAt ?? null,
    batteryPct: d.batteryPct ?? null,
    buffered: d.highest > 0 ? missing : null,
    shipmentId,
  }
}
