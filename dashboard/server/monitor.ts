/**
 * FleetMonitor: the dashboard's live state, kept by following the ledger's
 * committed entries. Per open shipment it runs the compliance engine's
 * incremental per-sensor evaluators, so a live alarm is exactly an alarm
 * event of the same fold that gives the final verdict (DESIGN.md decision 8).
 * It also keeps acknowledgements, the current temperature and last reading
 * per device, and marks late readings (see `lateness` below). Listeners get named events for the live stream.
 */
import type { Ledger } from '../../ledger/ledger.ts'
import type { StoredEntry, ShipmentCreateBody } from '../../ledger/entry-types.ts'
import type { ShipmentState } from '../../ledger/state-types.ts'
import { createSensorEvaluator, validateProfile, type RuleProfile, type SensorEvaluator, type ComplianceEvent, type EngineReading, type AddOutcome } from '../compliance/index.ts'
import { createLateness } from './lateness.ts'
import { readingView, deviceView, alarmMessage, alarmSeverity, type ReadingView, type DeviceView } from './views.ts'

export interface AlarmView {
  alarmId: string
  shipmentId: string
  deviceId: string | null
  kind: string
  severity: string | null
  message: string
  raisedAt: number
  endedAt: number | null
  state: 'open' | 'acknowledged'
  sensorLost: boolean
  ack: { by: string; reason: string; comment: string; at: number; index: number } | null
}

export type ShipmentStatus = 'in_range' | 'alarm' | 'closed'

export interface ShipmentSummaryView {
  shipmentId: string
  product: string
  productClass: string
  profileId: string | null
  route: { from: string; to: string }
  devices: string[]
  gs1: ShipmentState['gs1'] | null
  status: ShipmentStatus
  startAt: number
  closedAt: number | null
  createdBy: string
  currentTempCentiC: number | null
  lastReadingAt: number | null
  openAlarms: number
  range: { minCentiC: number | null; maxCentiC: number | null }
}

export interface DeviceStateView {
  deviceId: string
  lastSeq: number | null
  lastReadingAt: number | null
  lastReceivedAt: number | null
  currentTempCentiC: number | null
  silentForMs: number | null
  late: boolean
  batteryPct: number | null
  lost: boolean
}

export interface CheckpointEvent { origin: string; size: number; rootHash: string; note: string; publicKey: string | null; verifierKey: string | null }

export type MonitorEvent =
  | { event: 'reading'; data: ReadingView & { shipmentIds: string[] } }
  | { event: 'alarm'; data: AlarmView }
  | { event: 'ack'; data: AlarmView }
  | { event: 'shipment'; data: ShipmentSummaryView }
  | { event: 'device'; data: DeviceView }
  | { event: 'checkpoint'; data: CheckpointEvent }

interface LastReading { seq: number; deviceTimeMs: number; receivedAt: number; tempCentiC: number; late: boolean; batteryPct: number | null }

interface StoredAlarm {
  event: ComplianceEvent
  endedAt: number | null
}

interface LiveShipment {
  id: string
  body: ShipmentCreateBody
  profile: RuleProfile | null
  closedAt: number | null
  /** In-window readings per device, kept to rebuild the evaluators when the window closes. */
  readings: Map<string, EngineReading[]>
  evaluators: Map<string, SensorEvaluator>
  alarms: Map<string, StoredAlarm>
  acks: Map<string, AlarmView['ack'] & {}>
  last: Map<string, LastReading>
}

export interface FleetMonitorOptions {
  ledger: Ledger
  clock?: () => number
  /** A reading received more than this after its device time is late. Default: 2 × the profile's sampling interval. */
  lateAfterMs?: number
  /** Called with the seconds between the ledger receiving a reading and the monitor seeing it committed. */
  onIngestLatency?: (seconds: number) => void
  /** How often to look for a newly signed checkpoint, ms (default 1000). */
  checkpointPollMs?: number
  /** Told about an entry the monitor could not apply (it never throws into the ledger). */
  onError?: (err: unknown, index: number) => void
}

export interface FleetMonitor {
  start(): Promise<void>
  stop(): void
  subscribe(listener: (e: MonitorEvent) => void): () => void
  summary(shipmentId: string): ShipmentSummaryView | undefined
  summaries(): ShipmentSummaryView[]
  alarms(filter?: { state?: 'open' | 'acknowledged' | 'all'; shipmentId?: string }): AlarmView[]
  alarm(shipmentId: string, alarmId: string): AlarmView | undefined
  deviceStates(shipmentId: string): DeviceStateView[]
  openAlarmCount(): number
  /** The profile logged with the shipment (null when it does not validate). */
  profile(shipmentId: string): RuleProfile | null
  lateAfterMs(shipmentId?: string): number
  /** Whether the monitor judged this reading late when it was committed. */
  isLate(deviceId: string, seq: number): boolean
  /** The open shipment a device currently belongs to, if any. */
  shipmentOfDevice(deviceId: string): string | null
  device(deviceId: string): DeviceView | undefined
}

/** 2 × the built-in profiles' 5-minute sampling interval, for a device in no shipment. */
const DEFAULT_LATE_MS = 2 * 5 * 60_000

export function createFleetMonitor(opts: FleetMonitorOptions): FleetMonitor {
  const { ledger, clock = Date.now } = opts
  const shipments = new Map<string, LiveShipment>()
  const listeners = new Set<(e: MonitorEvent) => void>()
  let unsubscribe: (() => void) | null = null
  let timer: NodeJS.Timeout | null = null
  let lastCheckpointSize = -1
  let started = false

  const emit = (e: MonitorEvent) => {
    for (const l of listeners) {
      try { l(e) } catch { /* a broken listener must not stop the others */ }
    }
  }

  const lateness = createLateness()
  /** `${deviceId}:${seq}` of every reading judged late (the report and CSV show the same marks). */
  const lateReadings = new Set<string>()
  const lateAfter = (s?: LiveShipment) => opts.lateAfterMs ?? (s?.profile ? 2 * s.profile.expectedIntervalMs : DEFAULT_LATE_MS)

  function newShipment(body: ShipmentCreateBody, closedAt: number | null): LiveShipment {
    let profile: RuleProfile | null = null
    try { profile = validateProfile(body.profile) } catch { profile = null }
    const s: LiveShipment = { id: body.shipmentId, body, profile, closedAt, readings: new Map(), evaluators: new Map(), alarms: new Map(), acks: new Map(), last: new Map() }
    buildEvaluators(s)
    return s
  }

  function buildEvaluators(s: LiveShipment): void {
    s.evaluators.clear()
    if (!s.profile) return
    for (const d of s.body.devices) {
      s.evaluators.set(d, createSensorEvaluator({ profile: s.profile, deviceId: d, window: { startMs: s.body.startAt, endMs: s.closedAt } }))
    }
  }

  const inWindow = (s: LiveShipment, deviceId: string, t: number) =>
    s.body.devices.includes(deviceId) && t >= s.body.startAt && (s.closedAt === null || t <= s.closedAt)

  /** Applies an evaluator outcome to the alarm list; returns the alarms that changed. */
  function applyOutcome(s: LiveShipment, out: AddOutcome): string[] {
    const changed: string[] = []
    for (const id of out.retracted) if (s.alarms.delete(id)) changed.push(id)
    for (const e of out.added) {
      if (e.alarm) {
        s.alarms.set(e.id, { event: e, endedAt: s.alarms.get(e.id)?.endedAt ?? null })
        changed.push(e.id)
      } else if (e.kind === 'excursion_ended' && e.endReason !== 'end_of_data') {
        // The excursion's alarm is anchored at its start: `${deviceId}:excursion_alarm:${rule}:${startMs}`.
        for (const [id, a] of s.alarms) {
          if (a.event.kind === 'excursion_alarm' && a.event.deviceId === e.deviceId && a.event.rule === e.rule && a.event.startMs === e.startMs) {
            a.endedAt = e.endMs ?? e.atMs
            changed.push(id)
          }
        }
      }
    }
    return changed
  }

  function addReading(s: LiveShipment, r: ReadingView): string[] {
    const er: EngineReading = { deviceId: r.deviceId, seq: r.seq, deviceTimeMs: r.deviceTimeMs, tempCentiC: r.tempCentiC, status: r.status }
    let list = s.readings.get(r.deviceId)
    if (!list) s.readings.set(r.deviceId, (list = []))
    list.push(er)
    const prev = s.last.get(r.deviceId)
    if (!prev || r.seq > prev.seq) {
      s.last.set(r.deviceId, { seq: r.seq, deviceTimeMs: r.deviceTimeMs, receivedAt: r.receivedAt, tempCentiC: r.tempCentiC, late: r.late, batteryPct: r.batteryPct })
    }
    const ev = s.evaluators.get(r.deviceId)
    return ev ? applyOutcome(s, ev.add(er)) : []
  }

  function closeShipment(s: LiveShipment, closedAt: number): void {
    s.closedAt = closedAt
    // The window's end is part of the fold (stop delay, missing end): refold with it.
    buildEvaluators(s)
    s.alarms.clear()
    for (const [d, list] of s.readings) {
      const kept = list.filter((r) => r.deviceTimeMs <= closedAt)
      s.readings.set(d, kept)
      const ev = s.evaluators.get(d)
      if (ev) for (const r of kept) applyOutcome(s, ev.add(r))
    }
  }

  function alarmView(s: LiveShipment, id: string): AlarmView | undefined {
    const a = s.alarms.get(id)
    if (!a) return undefined
    const ack = s.acks.get(id) ?? null
    const e = a.event
    const last = s.last.get(e.deviceId)
    const gap = s.profile?.maxDataGapMs ?? 30 * 60_000
    const sensorLost = !ack && a.endedAt === null && s.closedAt === null && last !== undefined && clock() - last.receivedAt > gap
    return {
      alarmId: id,
      shipmentId: s.id,
      deviceId: e.deviceId || null,
      kind: e.kind,
      severity: alarmSeverity(e.kind),
      message: alarmMessage(e) + (sensorLost ? ' — sensor lost: no reading since ' + new Date(last!.receivedAt).toISOString() : ''),
      raisedAt: e.atMs,
      endedAt: a.endedAt,
      state: ack ? 'acknowledged' : 'open',
      sensorLost,
      ack,
    }
  }

  function openCount(s: LiveShipment): number {
    let n = 0
    for (const id of s.alarms.keys()) if (!s.acks.has(id)) n++
    return n
  }

  function summaryOf(s: LiveShipment): ShipmentSummaryView {
    let newest: LastReading | null = null
    for (const l of s.last.values()) if (!newest || l.deviceTimeMs > newest.deviceTimeMs) newest = l
    const open = openCount(s)
    const p = s.profile
    return {
      shipmentId: s.id,
      product: s.body.product,
      productClass: p?.storageClass ?? 'custom',
      profileId: p?.id ?? null,
      route: s.body.route,
      devices: s.body.devices,
      gs1: s.body.gs1 ?? null,
      status: s.closedAt !== null ? 'closed' : open > 0 ? 'alarm' : 'in_range',
      startAt: s.body.startAt,
      closedAt: s.closedAt,
      createdBy: s.body.by,
      currentTempCentiC: newest?.tempCentiC ?? null,
      lastReadingAt: newest?.deviceTimeMs ?? null,
      openAlarms: open,
      range: { minCentiC: p?.range.lowCentiC ?? null, maxCentiC: p?.range.highCentiC ?? null },
    }
  }

  function checkCheckpoint(): void {
    const cp = ledger.latestCheckpoint()
    if (!cp || cp.size === lastCheckpointSize) return
    lastCheckpointSize = cp.size
    emit({ event: 'checkpoint', data: { origin: ledger.origin, size: cp.size, rootHash: cp.rootHash, note: cp.note, publicKey: null, verifierKey: ledger.verifierKey } })
  }

  /** Applies one committed entry; `live` = emit events. */
  function apply(se: StoredEntry, live: boolean): void {
    const { entry } = se
    switch (entry.type) {
      case 'shipment.create': {
        const body = entry.body as ShipmentCreateBody
        const s = newShipment(body, null)
        shipments.set(s.id, s)
        if (live) emit({ event: 'shipment', data: summaryOf(s) })
        return
      }
      case 'shipment.close': {
        const body = (se as StoredEntry<'shipment.close'>).entry.body
        const s = shipments.get(body.shipmentId)
        if (!s) return
        closeShipment(s, body.closedAt)
        if (live) emit({ event: 'shipment', data: summaryOf(s) })
        return
      }
      case 'reading': {
        const v = readingView(se as StoredEntry<'reading'>, Number.MAX_SAFE_INTEGER)
        const mine = [...shipments.values()].filter((s) => inWindow(s, v.deviceId, v.deviceTimeMs))
        const excess = lateness.excess(v.receivedAt, v.deviceTimeMs)
        const late = excess > (mine.length ? Math.min(...mine.map(lateAfter)) : lateAfter())
        if (late) lateReadings.add(`${v.deviceId}:${v.seq}`)
        const view: ReadingView = { ...v, late }
        for (const s of mine) {
          const changed = addReading(s, view)
          if (live) for (const id of changed) { const a = alarmView(s, id); if (a) emit({ event: 'alarm', data: a }) }
        }
        if (live) {
          opts.onIngestLatency?.(Math.max(0, clock() - entry.time) / 1000)
          emit({ event: 'reading', data: { ...view, shipmentIds: mine.map((s) => s.id) } })
          for (const s of mine) emit({ event: 'shipment', data: summaryOf(s) })
        }
        return
      }
      case 'alarm.ack': {
        const body = (se as StoredEntry<'alarm.ack'>).entry.body
        const s = shipments.get(body.shipmentId)
        if (!s) return
        s.acks.set(body.alarmId, { by: body.by, reason: body.reason, comment: body.comment, at: entry.time, index: entry.index })
        if (live) {
          const a = alarmView(s, body.alarmId)
          if (a) emit({ event: 'ack', data: a })
          emit({ event: 'shipment', data: summaryOf(s) })
        }
        return
      }
      case 'device.register':
      case 'device.revoke': {
        if (!live) return
        const id = (entry.body as { deviceId: string }).deviceId
        const d = ledger.device(id)
        if (d) emit({ event: 'device', data: deviceView(d, shipmentOfDevice(id)) })
        return
      }
      default:
    }
  }

  function safeApply(e: StoredEntry): void {
    try {
      apply(e, true)
    } catch (err) {
      opts.onError?.(err, e.entry.index)
    }
  }

  function shipmentOfDevice(deviceId: string): string | null {
    for (const s of shipments.values()) if (s.closedAt === null && s.body.devices.includes(deviceId)) return s.id
    return null
  }

  return {
    async start() {
      if (started) return
      started = true
      const queue: StoredEntry[] = []
      let loading = true
      unsubscribe = ledger.subscribe((e) => {
        if (loading) queue.push(e)
        else safeApply(e)
      })
      const size0 = ledger.size()
      const before = (e: StoredEntry) => e.entry.index < size0
      const creates = (await ledger.entriesByType('shipment.create')).filter(before)
      const closes = (await ledger.entriesByType('shipment.close')).filter(before)
      const acks = (await ledger.entriesByType('alarm.ack')).filter(before)
      for (const c of creates) apply(c, false)
      for (const c of closes) {
        const s = shipments.get(c.entry.body.shipmentId)
        if (s) s.closedAt = c.entry.body.closedAt
      }
      // Every reading of every shipment, once, in log order: the same fold (and the same
      // lateness baseline) as if the monitor had watched them arrive.
      const readings = new Map<number, StoredEntry>()
      for (const s of shipments.values()) {
        buildEvaluators(s)
        for (const r of await ledger.readingsByShipment(s.id)) if (before(r)) readings.set(r.entry.index, r)
      }
      for (const r of [...readings.values()].sort((a, b) => a.entry.index - b.entry.index)) apply(r, false)
      for (const a of acks) apply(a, false)
      loading = false
      for (const e of queue.splice(0)) if (!before(e)) safeApply(e)
      lastCheckpointSize = ledger.latestCheckpoint()?.size ?? -1
      timer = setInterval(checkCheckpoint, opts.checkpointPollMs ?? 1000)
      timer.unref()
    },
    stop() {
      unsubscribe?.()
      unsubscribe = null
      if (timer) clearInterval(timer)
      timer = null
      listeners.clear()
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    summary(id) {
      const s = shipments.get(id)
      return s ? summaryOf(s) : undefined
    },
    summaries() {
      return [...shipments.values()].map(summaryOf)
    },
    alarms({ state = 'all', shipmentId } = {}) {
      const out: AlarmView[] = []
      for (const s of shipments.values()) {
        if (shipmentId !== undefined && s.id !== shipmentId) continue
        for (const id of s.alarms.keys()) {
          const a = alarmView(s, id)!
          if (state === 'all' || a.state === state) out.push(a)
        }
      }
      return out.sort((a, b) => b.raisedAt - a.raisedAt)
    },
    alarm(shipmentId, alarmId) {
      const s = shipments.get(shipmentId)
      return s ? alarmView(s, alarmId) : undefined
    },
    deviceStates(shipmentId) {
      const s = shipments.get(shipmentId)
      if (!s) return []
      const gap = s.profile?.maxDataGapMs ?? 30 * 60_000
      const now = clock()
      return s.body.devices.map((deviceId) => {
        const l = s.last.get(deviceId)
        const silentForMs = l ? Math.max(0, now - l.receivedAt) : null
        return {
          deviceId,
          lastSeq: l?.seq ?? null,
          lastReadingAt: l?.deviceTimeMs ?? null,
          lastReceivedAt: l?.receivedAt ?? null,
          currentTempCentiC: l?.tempCentiC ?? null,
          silentForMs,
          late: l?.late ?? false,
          batteryPct: l?.batteryPct ?? null,
          lost: s.closedAt === null && silentForMs !== null && silentForMs > gap,
        }
      })
    },
    openAlarmCount() {
      let n = 0
      for (const s of shipments.values()) n += openCount(s)
      return n
    },
    profile(id) {
      return shipments.get(id)?.profile ?? null
    },
    lateAfterMs(id) {
      return lateAfter(id === undefined ? undefined : shipments.get(id))
    },
    shipmentOfDevice,
    isLate(deviceId, seq) {
      return lateReadings.has(`${deviceId}:${seq}`)
    },
    device(deviceId) {
      const d = ledger.device(deviceId)
      return d ? deviceView(d, shipmentOfDevice(deviceId)) : undefined
    },
  }
}
