/**
 * One shipment as the FleetMonitor follows it: the compliance engine's
 * incremental per-sensor evaluators over its in-window readings, and the
 * alarm list those evaluators' outcomes keep (ARCHITECTURE.md decision 8: a live
 * alarm is an alarm event of the same fold that gives the final verdict).
 * Pure state; the monitor does the I/O.
 */
import type { ShipmentCreateBody } from '../../ledger/tlog/index.ts'
import {
  applyChange,
  initialWindows,
  inLoggerWindow,
  type DevicesChange,
  type LoggerWindow,
} from '../../ledger/tlog/index.ts'
import {
  createSensorEvaluator,
  validateProfile,
  type RuleProfile,
  type SensorEvaluator,
  type ComplianceEvent,
  type EngineReading,
  type AddOutcome,
} from '../compliance/index.ts'
import type { ReadingView } from './views.ts'

export interface LastReading {
  seq: number
  deviceTimeMs: number
  receivedAt: number
  tempCentiC: number
  late: boolean
  batteryPct: number | null
}

export interface StoredAlarm {
  event: ComplianceEvent
  endedAt: number | null
}

/** An acknowledgement of an alarm, as logged (alarm.ack entry). */
export interface AlarmAck {
  by: string
  reason: string
  comment: string
  at: number
  index: number
}

export interface LiveShipment {
  id: string
  body: ShipmentCreateBody
  profile: RuleProfile | null
  /** Every logger it had and the device times it counts for (ledger/tlog/logger-windows.ts). */
  windows: LoggerWindow[]
  closedAt: number | null
  /** In-window readings per device, kept to rebuild the evaluators when the window closes. */
  readings: Map<string, EngineReading[]>
  evaluators: Map<string, SensorEvaluator>
  alarms: Map<string, StoredAlarm>
  acks: Map<string, AlarmAck>
  last: Map<string, LastReading>
  /** Each logger's close anchor seq once closed (absent for shipments closed before anchors). */
  closeAnchors: Map<string, number> | null
  /** Post-close evidence: readings above a close anchor with device times in the window, never part of the verdict. */
  postClose: EngineReading[]
}

export function newShipment(body: ShipmentCreateBody, closedAt: number | null): LiveShipment {
  let profile: RuleProfile | null = null
  try {
    profile = validateProfile(body.profile)
  } catch {
    profile = null
  }
  const s: LiveShipment = {
    id: body.shipmentId,
    body,
    profile,
    windows: initialWindows(body),
    closedAt,
    readings: new Map(),
    evaluators: new Map(),
    alarms: new Map(),
    acks: new Map(),
    last: new Map(),
    closeAnchors: null,
    postClose: [],
  }
  buildEvaluators(s)
  return s
}

export function buildEvaluators(s: LiveShipment): void {
  s.evaluators.clear()
  if (!s.profile) return
  // Each logger over its own window: from its assignment, up to its removal or the close.
  for (const w of s.windows) {
    s.evaluators.set(
      w.deviceId,
      createSensorEvaluator({
        profile: s.profile,
        deviceId: w.deviceId,
        window: { startMs: w.from, endMs: w.until ?? s.closedAt },
      }),
    )
  }
}

/**
 * Whether a reading (device time `t`, log index `index`) counts for the shipment: inside its logger's
 * window, and for a removed logger logged before the removal (as the ledger's shipment index).
 */
export function inWindow(s: LiveShipment, deviceId: string, t: number, index = -1): boolean {
  if (!inLoggerWindow(s.windows, deviceId, t, s.closedAt)) return false
  // A loop, not find(): called once per reading and shipment, with no closure to allocate.
  for (const w of s.windows) if (w.deviceId === deviceId) return w.removeIndex === null || index < w.removeIndex
  return false
}

/** The loggers assigned now. */
export const currentLoggers = (s: LiveShipment): string[] =>
  s.windows.filter((w) => w.until === null).map((w) => w.deviceId)

/** Applies a shipment.devices entry: new windows; a removed logger's readings after its removal time leave the fold (see refoldWith). */
export function changeLoggers(s: LiveShipment, change: DevicesChange): void {
  s.windows = applyChange(s.windows, change)
  for (const id of change.body.remove) {
    const list = s.readings.get(id)
    if (list)
      s.readings.set(
        id,
        list.filter((r) => r.deviceTimeMs <= change.body.at),
      )
  }
}

/** Applies an evaluator outcome to the alarm list; returns the alarms that changed. */
export function applyOutcome(s: LiveShipment, out: AddOutcome): string[] {
  const changed: string[] = []
  for (const id of out.retracted) if (s.alarms.delete(id)) changed.push(id)
  for (const e of out.added) {
    if (e.alarm) {
      s.alarms.set(e.id, { event: e, endedAt: s.alarms.get(e.id)?.endedAt ?? null })
      changed.push(e.id)
    } else if (e.kind === 'excursion_ended' && e.endReason !== 'end_of_data') {
      // The excursion's alarm is anchored at its start: `${deviceId}:excursion_alarm:${rule}:${startMs}`.
      for (const [id, a] of s.alarms) {
        if (
          a.event.kind === 'excursion_alarm' &&
          a.event.deviceId === e.deviceId &&
          a.event.rule === e.rule &&
          a.event.startMs === e.startMs
        ) {
          a.endedAt = e.endMs ?? e.atMs
          changed.push(id)
        }
      }
    }
  }
  return changed
}

/** What the fold takes of a reading: its decoded facts and the monitor's lateness mark. */
export type FoldedReading = Pick<
  ReadingView,
  'deviceId' | 'seq' | 'deviceTimeMs' | 'receivedAt' | 'tempCentiC' | 'batteryPct' | 'status'
>

export function addReading(s: LiveShipment, r: FoldedReading, late: boolean): string[] {
  const er: EngineReading = {
    deviceId: r.deviceId,
    seq: r.seq,
    deviceTimeMs: r.deviceTimeMs,
    tempCentiC: r.tempCentiC,
    status: r.status,
  }
  let list = s.readings.get(r.deviceId)
  if (!list) s.readings.set(r.deviceId, (list = []))
  list.push(er)
  const prev = s.last.get(r.deviceId)
  if (!prev) {
    s.last.set(r.deviceId, {
      seq: r.seq,
      deviceTimeMs: r.deviceTimeMs,
      receivedAt: r.receivedAt,
      tempCentiC: r.tempCentiC,
      late,
      batteryPct: r.batteryPct,
    })
  } else if (r.seq > prev.seq) {
    // Updated in place (views copy its fields, never keep it): no new record per reading.
    prev.seq = r.seq
    prev.deviceTimeMs = r.deviceTimeMs
    prev.receivedAt = r.receivedAt
    prev.tempCentiC = r.tempCentiC
    prev.late = late
    prev.batteryPct = r.batteryPct
  }
  const ev = s.evaluators.get(r.deviceId)
  return ev ? applyOutcome(s, ev.add(er)) : []
}

/** True when a reading of a closed shipment's logger lies above its close anchor: post-close evidence, not the shipment's. */
export const isPostClose = (s: LiveShipment, deviceId: string, seq: number): boolean =>
  s.closeAnchors !== null && seq > (s.closeAnchors.get(deviceId) ?? Infinity)

/**
 * Records a post-close reading and raises (or extends) that logger's post-close alarm for QA:
 * one alarm per logger, anchored at its first post-close reading. Returns the alarm id.
 */
export function addPostClose(s: LiveShipment, r: EngineReading): string {
  s.postClose.push(r)
  const id = `${r.deviceId}:post_close_reading`
  const prev = s.alarms.get(id)
  const count = (prev?.event.count ?? 0) + 1
  const first = prev?.event ?? {
    id,
    kind: 'post_close_reading' as const,
    deviceId: r.deviceId,
    alarm: true,
    atMs: r.deviceTimeMs,
    rule: '',
    seq: r.seq,
    tempCentiC: r.tempCentiC,
  }
  s.alarms.set(id, { event: { ...first, count }, endedAt: null })
  return id
}

export function closeShipment(
  s: LiveShipment,
  closedAt: number,
  anchors?: readonly { deviceId: string; seq: number }[],
): void {
  s.closedAt = closedAt
  if (anchors) s.closeAnchors = new Map(anchors.map((a) => [a.deviceId, a.seq]))
  // The window's end is part of the fold (stop delay, missing end): refold with it.
  buildEvaluators(s)
  s.alarms.clear()
  for (const [d, list] of s.readings) {
    // Readings stored above a head (past a hole) before the close are post-close evidence now.
    for (const r of list) if (r.deviceTimeMs <= closedAt && isPostClose(s, d, r.seq)) addPostClose(s, r)
    const kept = list.filter((r) => r.deviceTimeMs <= closedAt && !isPostClose(s, d, r.seq))
    s.readings.set(d, kept)
    const ev = s.evaluators.get(d)
    if (ev) for (const r of kept) applyOutcome(s, ev.add(r))
  }
}

/**
 * Folds readings stored before the monitor saw the shipment (it was created after they
 * arrived) together with those folded since, in each logger's seq order: the same fold
 * as at a restart, so the alarms are current at once. Returns the ids of its alarms.
 */
export function refoldWith(s: LiveShipment, earlier: readonly ReadingView[]): string[] {
  for (const r of earlier) {
    if (!inWindow(s, r.deviceId, r.deviceTimeMs, r.index)) continue
    let list = s.readings.get(r.deviceId)
    if (!list) s.readings.set(r.deviceId, (list = []))
    if (!list.some((x) => x.seq === r.seq))
      list.push({
        deviceId: r.deviceId,
        seq: r.seq,
        deviceTimeMs: r.deviceTimeMs,
        tempCentiC: r.tempCentiC,
        status: r.status,
      })
    const prev = s.last.get(r.deviceId)
    if (!prev || r.seq > prev.seq)
      s.last.set(r.deviceId, {
        seq: r.seq,
        deviceTimeMs: r.deviceTimeMs,
        receivedAt: r.receivedAt,
        tempCentiC: r.tempCentiC,
        late: r.late,
        batteryPct: r.batteryPct,
      })
  }
  buildEvaluators(s)
  s.alarms.clear()
  for (const [d, list] of s.readings) {
    list.sort((a, b) => a.seq - b.seq)
    const ev = s.evaluators.get(d)
    if (ev) for (const r of list) applyOutcome(s, ev.add(r))
  }
  return [...s.alarms.keys()]
}

export function openCount(s: LiveShipment): number {
  let n = 0
  for (const id of s.alarms.keys()) if (!s.acks.has(id)) n++
  return n
}
