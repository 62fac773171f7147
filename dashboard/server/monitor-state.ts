/**
 * The fleet monitor's state: live shipments (and which loggers they hold),
 * device alarms (forks), lateness marks and delays, and the listeners of the
 * live stream; with the lookups the monitor answers from it.
 */
import type { Ledger } from '../../ledger/store/index.ts'
import { createDeviceAlarms } from './device-alarms.ts'
import { createLateness } from './lateness.ts'
import { openCount, type LiveShipment } from './live-shipment.ts'
import { alarmView, type AlarmView } from './live-views.ts'
import type { EventFilter, MonitorEvent } from './monitor.ts'

/** 2 × the built-in profiles' 5-minute sampling interval, for a device in no shipment. */
const DEFAULT_LATE_MS = 2 * 5 * 60_000

export class MonitorState {
  readonly shipments = new Map<string, LiveShipment>()
  /** Shipments by logger: a reading is looked up in its logger's shipments only, not in every shipment. */
  readonly #byDevice = new Map<string, LiveShipment[]>()
  /** Live-stream listeners, each with the kinds of event it wants (null: every kind). */
  readonly listeners = new Map<(e: MonitorEvent) => void, EventFilter | null>()
  readonly deviceAlarms = createDeviceAlarms()
  readonly lateness = createLateness()
  /** `${deviceId}:${seq}` of every reading judged late (the report and CSV show the same marks). */
  readonly lateReadings = new Set<string>()
  /** Per device, by seq − 1: the delay the lateness rule measured (ms beyond the fleet's baseline offset); one number per reading. */
  readonly delays = new Map<string, number[]>()

  constructor(
    readonly ledger: Ledger,
    readonly clock: () => number,
    private readonly fixedLateAfterMs: number | undefined,
  ) {}

  /**
   * Whether any listener wants this kind of event now: the hot path (one reading) builds an
   * event's view only then, so a server with no live-stream watcher builds none.
   */
  wants(event: MonitorEvent['event']): boolean {
    for (const want of this.listeners.values()) if (want === null || want(event)) return true
    return false
  }

  emit(e: MonitorEvent): void {
    for (const [l, want] of this.listeners) {
      if (want !== null && !want(e.event)) continue
      try {
        l(e)
      } catch {
        /* a broken listener must not stop the others */
      }
    }
  }

  shipmentsOf(deviceId: string): LiveShipment[] {
    return this.#byDevice.get(deviceId) ?? []
  }

  /** Files the shipment under each of these loggers. */
  addLoggers(s: LiveShipment, deviceIds: readonly string[]): void {
    for (const d of deviceIds) {
      const list = this.#byDevice.get(d)
      if (list) list.push(s)
      else this.#byDevice.set(d, [s])
    }
  }

  deviceAlarmView(shipmentId: string, alarmId: string): AlarmView | undefined {
    return this.deviceAlarms.view(shipmentId, alarmId, this.shipments.get(shipmentId)?.acks.get(alarmId) ?? null)
  }

  /** A compliance alarm of the shipment, or a device alarm (fork). */
  anyAlarm(shipmentId: string, alarmId: string): AlarmView | undefined {
    const s = this.shipments.get(shipmentId)
    return (s && alarmView(s, alarmId, this.clock)) ?? this.deviceAlarmView(shipmentId, alarmId)
  }

  lateAfter(s?: LiveShipment): number {
    return this.fixedLateAfterMs ?? (s?.profile ? 2 * s.profile.expectedIntervalMs : DEFAULT_LATE_MS)
  }

  /** The open shipment a device currently belongs to, if any. */
  shipmentOfDevice(deviceId: string): string | null {
    for (const s of this.shipmentsOf(deviceId))
      if (s.closedAt === null && s.windows.some((w) => w.deviceId === deviceId && w.until === null)) return s.id
    return null
  }

  alarms({
    state = 'all',
    shipmentId,
  }: {
    state?: 'open' | 'acknowledged' | 'all'
    shipmentId?: string
  } = {}): AlarmView[] {
    const out: AlarmView[] = []
    for (const s of this.shipments.values()) {
      if (shipmentId !== undefined && s.id !== shipmentId) continue
      for (const id of s.alarms.keys()) {
        const a = alarmView(s, id, this.clock)!
        if (state === 'all' || a.state === state) out.push(a)
      }
    }
    for (const [sid, id] of this.deviceAlarms.keys()) {
      if (shipmentId !== undefined && sid !== shipmentId) continue
      const a = this.deviceAlarmView(sid, id)!
      if (state === 'all' || a.state === state) out.push(a)
    }
    return out.sort((a, b) => b.raisedAt - a.raisedAt)
  }

  openAlarmCount(): number {
    let n = 0
    for (const s of this.shipments.values()) n += openCount(s)
    for (const [sid, id] of this.deviceAlarms.keys()) if (this.deviceAlarmView(sid, id)!.state === 'open') n++
    return n
  }
}
