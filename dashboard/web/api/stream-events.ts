/** The live stream's events (docs/API.md "Live stream") as the pages take them. */
import type { AlarmWire, DeviceWire, ShipmentSummaryWire, StreamReadingWire } from '../../common/api-schemas.ts'
import type { StreamEvent } from '../types.ts'
import { mapAlarm } from './alarms.ts'
import { mapDevice } from './devices.ts'
import { mapReading } from './readings.ts'
import { mapShipment } from './shipment-list.ts'

/** Maps one named SSE event (docs/API.md "Live stream") onto a StreamEvent. */
export function mapStreamEvent(name: string, data: unknown): StreamEvent {
  const d = data as Record<string, unknown>
  switch (name) {
    case 'reading': {
      const j = d as unknown as StreamReadingWire
      return { type: 'reading', shipmentIds: Array.isArray(j.shipmentIds) ? j.shipmentIds : [], reading: mapReading(j) }
    }
    case 'alarm':
      return { type: 'alarm', alarm: mapAlarm(d as unknown as AlarmWire) }
    case 'ack':
      return { type: 'ack', alarm: mapAlarm(d as unknown as AlarmWire) }
    case 'shipment':
      return { type: 'shipment', shipment: mapShipment(d as unknown as ShipmentSummaryWire) }
    case 'device':
      return { type: 'device', device: mapDevice(d as unknown as DeviceWire) }
    case 'checkpoint':
      return { type: 'checkpoint' }
    case 'hello':
      return { type: 'hello', serverTime: typeof d.serverTime === 'number' ? d.serverTime : null }
    default:
      return { type: 'other', name }
  }
}
