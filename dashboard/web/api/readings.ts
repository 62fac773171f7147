/** One reading as the pages show it (°C, the sensor-fault flag picked out). */
import type { ReadingWire } from '../../common/api-schemas.ts'
import type { ReadingView } from '../types.ts'

export function mapReading(j: ReadingWire): ReadingView {
  const flags = j.flags ?? []
  return {
    deviceId: j.deviceId,
    seq: j.seq,
    t: j.deviceTimeMs,
    tempC: j.tempCentiC / 100,
    receivedAt: j.receivedAt,
    late: j.late,
    ...(typeof j.delayMs === 'number' ? { delayMs: j.delayMs } : {}),
    fault: flags.includes('SENSOR_FAULT'),
    batteryPct: j.batteryPct ?? undefined,
    flags,
  }
}
