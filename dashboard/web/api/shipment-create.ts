/** A new shipment: created from the form, optionally started from a previous shipment as its template. */
import type { Gs1Wire, ShipmentDetailWire } from '../../common/api-schemas.ts'
import { request } from './request.ts'

export interface NewShipment {
  shipmentId: string
  product: string
  route: { from: string; to: string }
  devices: string[]
  profileId?: string
  profile?: unknown
  gs1?: Gs1Wire
  startAt?: number
}

/** What a previous shipment gives a new one to start from: product, profile, route, loggers, GS1 product data. */
export interface ShipmentTemplate {
  shipmentId: string
  product: string
  profileId: string | null
  profile: Record<string, unknown> | null
  route: { from: string; to: string }
  devices: string[]
  gs1: Omit<Gs1Wire, 'sscc'> | null
}

export async function shipmentTemplate(id: string): Promise<ShipmentTemplate> {
  const j = await request<ShipmentDetailWire>('GET', `/api/shipments/${encodeURIComponent(id)}`)
  return {
    shipmentId: j.shipmentId,
    product: j.product,
    profileId: j.profileId ?? null,
    profile: j.profile ?? null,
    route: { from: j.route.from, to: j.route.to },
    devices: j.devices,
    // The SSCC names one logistics unit: a new shipment needs its own.
    gs1: j.gs1 ? { gtin: j.gs1.gtin, lot: j.gs1.lot, expiry: j.gs1.expiry } : null,
  }
}

/** Creates a shipment (POST /api/shipments); a refusal names the field (ApiError.field, e.g. "body.gs1.sscc"). */
export async function createShipment(body: NewShipment): Promise<string> {
  const r = await request<{ shipmentId: string }>('POST', '/api/shipments', body)
  return r.shipmentId
}
