/**
 * Device alarms: alarms about a logger rather than about its temperatures.
 * Today one kind, `device_compromised`: the ledger logged a `reading.fork`
 * entry (two different validly signed readings with one seq), so the logger's
 * evidence from that seq on is untrustworthy (docs/PROTOCOL.md, "Forks").
 * Each shipment listing the logger gets the alarm (acknowledged per shipment,
 * like any alarm); a logger in no shipment gets one with an empty shipment id.
 */
import type { AlarmView } from './live-views.ts'

export interface ForkEvidence {
  deviceId: string
  seq: number
  index: number
  at: number
}
type Ack = AlarmView['ack']

export function forkAlarmId(f: ForkEvidence): string {
  return `${f.deviceId}:device_compromised:${f.seq}`
}

export interface DeviceAlarms {
  /** Records a fork (the first per device counts) for the given shipments ('' when none). */
  addFork(f: ForkEvidence, shipmentIds: string[]): string[]
  /** Also raises a known fork for a shipment created later. */
  forShipment(shipmentId: string, devices: readonly string[]): string[]
  view(shipmentId: string, alarmId: string, ack: Ack): AlarmView | undefined
  /** [shipmentId, alarmId] of every device alarm. */
  keys(): [string, string][]
}

export function createDeviceAlarms(): DeviceAlarms {
  const forks = new Map<string, ForkEvidence>()
  /** shipmentId -> alarmId -> fork */
  const raised = new Map<string, Map<string, ForkEvidence>>()
  const raise = (shipmentId: string, f: ForkEvidence): string => {
    let m = raised.get(shipmentId)
    if (!m) raised.set(shipmentId, (m = new Map()))
    const id = forkAlarmId(f)
    m.set(id, f)
    return id
  }
  return {
    addFork(f, shipmentIds) {
      if (forks.has(f.deviceId)) return []
      forks.set(f.deviceId, f)
      return (shipmentIds.length ? shipmentIds : ['']).map((s) => raise(s, f))
    },
    forShipment(shipmentId, devices) {
      return devices.flatMap((d) => {
        const f = forks.get(d)
        return f ? [raise(shipmentId, f)] : []
      })
    },
    view(shipmentId, alarmId, ack) {
      const f = raised.get(shipmentId)?.get(alarmId)
      if (!f) return undefined
      return {
        alarmId,
        shipmentId,
        deviceId: f.deviceId,
        kind: 'device_compromised',
        rule: null,
        severity: 'critical',
        message: `logger ${f.deviceId} signed two different readings with seq ${f.seq} (fork logged at entry ${f.index}): its evidence from seq ${f.seq} on is untrustworthy until it is revoked`,
        raisedAt: f.at,
        endedAt: null,
        state: ack ? 'acknowledged' : 'open',
        sensorLost: false,
        ack,
      }
    },
    keys() {
      return [...raised].flatMap(([s, m]) => [...m.keys()].map((a) => [s, a] as [string, string]))
    },
  }
}
