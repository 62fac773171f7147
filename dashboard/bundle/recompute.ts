/**
 * The compliance engine's input from a shipment's evidence, in one place, so
 * that the bundle builder's claimed result and the verifier's recomputed one
 * (and the dashboard's, dashboard/server/shipment-data.ts) come from the same
 * readings the same way: the readings whose device time lies in the shipment
 * window [startAt, closedAt], the shipment's loggers, the logged profile and
 * its logged hash (DESIGN.md decisions 7 and 8). Pure.
 */
import type { ShipmentCloseBody, ShipmentCreateBody } from '../../ledger/entry-types.ts'
import type { ReadingFields } from '../../ledger/protocol/reading.ts'
import { evaluateShipment, type ShipmentInput, type ShipmentResult } from '../compliance/index.ts'

/** True when device time `t` is inside the shipment window (both ends inclusive, as the ledger's shipment index). */
export function inWindow(t: number, startAt: number, closedAt: number | null): boolean {
  return t >= startAt && (closedAt === null || t <= closedAt)
}

export function engineInput(create: ShipmentCreateBody, close: ShipmentCloseBody | null, readings: readonly ReadingFields[]): ShipmentInput {
  const closedAt = close ? close.closedAt : null
  return {
    profile: create.profile,
    profileHash: create.profileHash,
    window: { startMs: create.startAt, endMs: closedAt },
    readings: readings.filter((f) => inWindow(f.deviceTimeMs, create.startAt, closedAt)).map((f) => {
      const r: { deviceId: string; seq: number; deviceTimeMs: number; tempCentiC: number; status?: number } = { deviceId: f.deviceId, seq: f.seq, deviceTimeMs: f.deviceTimeMs, tempCentiC: f.tempCentiC }
      r.status = f.status ?? 0
      return r
    }),
    devices: create.devices,
  }
}

/** The engine's result over the evidence (throws ComplianceError for an invalid profile or input). */
export function recomputeResult(create: ShipmentCreateBody, close: ShipmentCloseBody | null, readings: readonly ReadingFields[]): ShipmentResult {
  return evaluateShipment(engineInput(create, close, readings))
}
