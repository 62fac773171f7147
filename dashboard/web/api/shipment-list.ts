/** The shipment list and the summary row each shipment has (also what the live stream sends). */
import type { ShipmentSummaryWire } from '../../common/api-schemas.ts'
import type { ShipmentStatus, ShipmentSummary } from '../types.ts'
import { request } from './request.ts'
import { centiToC } from './units.ts'

function mapStatus(s: string): ShipmentStatus {
  return s === 'alarm' ? 'alarm' : s === 'closed' ? 'closed' : 'ok'
}

export function mapShipment(j: ShipmentSummaryWire): ShipmentSummary {
  return {
    shipmentId: j.shipmentId,
    product: j.product,
    productClass: j.productClass,
    route: { from: j.route?.from ?? '', to: j.route?.to ?? '' },
    status: mapStatus(j.status),
    currentTempC: centiToC(j.currentTempCentiC),
    lastReadingAt: j.lastReadingAt ?? null,
    openAlarms: j.openAlarms ?? 0,
    devices: j.devices ?? [],
    startAt: j.startAt,
    closedAt: j.closedAt ?? null,
    range: { minC: centiToC(j.range?.minCentiC), maxC: centiToC(j.range?.maxCentiC) },
  }
}

export async function listShipments(): Promise<ShipmentSummary[]> {
  const r = await request<{ shipments: ShipmentSummaryWire[] }>('GET', '/api/shipments')
  return r.shipments.map(mapShipment)
}
