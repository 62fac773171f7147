/** The registered loggers: list, register, revoke. */
import type { CalibrationWire, DeviceWire } from '../../common/api-schemas.ts'
import type { DeviceView } from '../types.ts'
import { request } from './request.ts'

export function mapDevice(j: DeviceWire): DeviceView {
  return {
    deviceId: j.deviceId,
    model: j.model ?? undefined,
    state: j.state === 'revoked' ? 'revoked' : 'registered',
    publicKey: j.publicKey,
    fingerprint: j.fingerprint,
    lastSeenAt: j.lastReceivedAt ?? j.lastReadingAt ?? null,
    batteryPct: j.batteryPct ?? null,
    buffered: j.buffered ?? null,
    calibrationDueAt: j.calibration?.dueAt ?? null,
    calibrationCertificate: j.calibration?.certificate,
    shipmentId: j.shipmentId ?? null,
    revokeReason: j.revokeReason ?? null,
  }
}

export async function listDevices(): Promise<DeviceView[]> {
  const r = await request<{ devices: DeviceWire[] }>('GET', '/api/devices')
  return r.devices.map(mapDevice)
}

export async function registerDevice(body: {
  deviceId: string
  publicKey: string
  model?: string
  calibration?: CalibrationWire
}): Promise<DeviceView> {
  return mapDevice(await request<DeviceWire>('POST', '/api/devices', body))
}

export async function revokeDevice(deviceId: string, reason: string): Promise<DeviceView> {
  return mapDevice(await request<DeviceWire>('POST', `/api/devices/${encodeURIComponent(deviceId)}/revoke`, { reason }))
}
