/** Alarms: the list, the acknowledgement, and the one mapping the stream shares. */
import type { AlarmWire } from '../../common/api-schemas.ts'
import type { AlarmView } from '../types.ts'
import { request } from './request.ts'

export function mapAlarm(j: AlarmWire): AlarmView {
  return {
    alarmId: j.alarmId,
    shipmentId: j.shipmentId,
    deviceId: j.deviceId ?? undefined,
    kind: j.kind,
    rule: j.rule ?? null,
    severity: j.severity ?? null,
    message: j.message,
    at: j.raisedAt,
    endedAt: j.endedAt ?? null,
    state: j.state,
    sensorLost: j.sensorLost === true,
    ack: j.ack ? { by: j.ack.by, reason: j.ack.reason, comment: j.ack.comment, at: j.ack.at } : undefined,
    notifications: j.notifications ?? [],
  }
}

export async function listAlarms(state: 'open' | 'acknowledged' | 'all' = 'all'): Promise<AlarmView[]> {
  const r = await request<{ alarms: AlarmWire[] }>('GET', `/api/alarms?state=${state}`)
  return r.alarms.map(mapAlarm)
}

export async function ackAlarm(
  shipmentId: string,
  alarmId: string,
  reason: string,
  comment: string,
): Promise<AlarmView> {
  const a = await request<AlarmWire>(
    'POST',
    `/api/shipments/${encodeURIComponent(shipmentId)}/alarms/${encodeURIComponent(alarmId)}/ack`,
    { reason, comment },
  )
  return mapAlarm(a)
}
