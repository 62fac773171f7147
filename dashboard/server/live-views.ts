/**
 * What the API and the live stream show of a followed shipment: its alarms
 * (with acknowledgement and sensor-lost state), its summary and its devices'
 * states. Pure mapping of the monitor's state; the clock is passed in.
 */
import type { AlarmWire, DeviceStateWire, ShipmentStatusWire, ShipmentSummaryWire } from '../common/api-schemas.ts'
import { currentLoggers, openCount, type LastReading, type LiveShipment } from './live-shipment.ts'
import { alarmMessage, alarmSeverity } from './views.ts'

/** An alarm as the monitor keeps it: the API's Alarm without its notifications (added by the routes). */
export type AlarmView = Omit<AlarmWire, 'notifications'>

export type ShipmentStatus = ShipmentStatusWire

export type ShipmentSummaryView = ShipmentSummaryWire

export type DeviceStateView = DeviceStateWire

export function alarmView(s: LiveShipment, id: string, clock: () => number): AlarmView | undefined {
  const a = s.alarms.get(id)
  if (!a) return undefined
  const ack = s.acks.get(id) ?? null
  const e = a.event
  const last = s.last.get(e.deviceId)
  const gap = s.profile?.maxDataGapMs ?? 30 * 60_000
  const sensorLost =
    !ack && a.endedAt === null && s.closedAt === null && last !== undefined && clock() - last.receivedAt > gap
  return {
    alarmId: id,
    shipmentId: s.id,
    deviceId: e.deviceId || null,
    kind: e.kind,
    rule: e.rule || null,
    severity: alarmSeverity(e.kind),
    message:
      alarmMessage(e, s.profile) +
      (sensorLost ? ' — sensor lost: no reading since ' + new Date(last!.receivedAt).toISOString() : ''),
    raisedAt: e.atMs,
    endedAt: a.endedAt,
    state: ack ? 'acknowledged' : 'open',
    sensorLost,
    ack,
  }
}

export function summaryOf(s: LiveShipment): ShipmentSummaryView {
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
    devices: currentLoggers(s),
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

/** Each logger's last reading and whether it is late or lost, at `now`. */
export function deviceStates(s: LiveShipment, now: number): DeviceStateView[] {
  const gap = s.profile?.maxDataGapMs ?? 30 * 60_000
  return currentLoggers(s).map((deviceId) => {
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
}
