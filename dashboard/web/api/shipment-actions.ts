/** What a user does to an open shipment: receive it and close it (both signed), change its loggers. */
import { request } from './request.ts'

export interface CloseSigning {
  password: string
  meaning: string
  reason: string
}

export const CLOSE_MEANINGS = ['received and reviewed', 'closed without receipt', 'rejected on receipt'] as const

/**
 * Closes with an electronic signature. Refused with ERR_EVIDENCE_ENDS_EARLY (details.devices) when a logger's
 * chain does not reach now, unless `endsEarlyReason` confirms it; with ERR_CLOSE_OPEN_ALARMS (details.alarms)
 * while critical alarms are open, unless `overrideReason` is given; with ERR_SIGNATURE_PASSWORD for a wrong password.
 */
export async function closeShipment(
  shipmentId: string,
  signature: CloseSigning,
  endsEarlyReason?: string,
  overrideReason?: string,
): Promise<void> {
  await request<unknown>('POST', `/api/shipments/${encodeURIComponent(shipmentId)}/close`, {
    signature,
    ...(endsEarlyReason === undefined ? {} : { endsEarly: { reason: endsEarlyReason } }),
    ...(overrideReason === undefined ? {} : { override: { reason: overrideReason } }),
  })
}

export const RECEIVE_MEANINGS = [
  'received at destination',
  'received with damage noted',
  'received and quarantined',
] as const

/** Signs the receipt at the destination (before the close). Refused with ERR_SIGNATURE_PASSWORD for a wrong password. */
export async function receiveShipment(shipmentId: string, signature: CloseSigning, receivedAt?: number): Promise<void> {
  await request<unknown>('POST', `/api/shipments/${encodeURIComponent(shipmentId)}/receive`, {
    signature,
    ...(receivedAt === undefined ? {} : { receivedAt }),
  })
}

/** Assigns loggers to, or removes them from, an open shipment from device time `at` (default now). */
export async function changeShipmentDevices(
  shipmentId: string,
  add: string[],
  remove: string[],
  at?: number,
): Promise<void> {
  await request<unknown>('POST', `/api/shipments/${encodeURIComponent(shipmentId)}/devices`, {
    add,
    remove,
    ...(at === undefined ? {} : { at }),
  })
}
