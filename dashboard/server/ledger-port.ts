/**
 * The part of the ledger the dashboard uses (ledger/ledger.ts implements it).
 * Written down here so the server depends on these few methods, not on the
 * ledger's internals.
 */
import type { DeviceRegisterBody, DeviceRevokeBody, ShipmentCreateBody, ShipmentCloseBody, AlarmAckBody, StoredEntry, EntryType } from '../../ledger/entry-types.ts'
import type { DeviceState, ShipmentState, QuarantineRecord, LedgerStats } from '../../ledger/state-types.ts'

export interface CheckpointView { note: string; size: number; rootHash: string }

export interface DashboardLedger {
  size(): number
  getEntry(index: number): Promise<StoredEntry>
  device(id: string): DeviceState | undefined
  devices(): DeviceState[]
  shipment(id: string): ShipmentState | undefined
  shipments(): ShipmentState[]
  /** The shipment's reading entries, by device time within its window. */
  readingsByShipment(shipmentId: string): Promise<StoredEntry<'reading'>[]>
  entriesByType<T extends EntryType>(type: T): Promise<StoredEntry<T>[]>
  latestCheckpoint(): Promise<CheckpointView | undefined>
  inclusionProof(index: number, size: number): Promise<Uint8Array[]>
  consistencyProof(oldSize: number, newSize: number): Promise<Uint8Array[]>
  quarantine(opts?: { limit?: number; reverse?: boolean }): Promise<QuarantineRecord[]>
  stats(): LedgerStats
  registerDevice(body: DeviceRegisterBody): Promise<StoredEntry<'device.register'>>
  revokeDevice(body: DeviceRevokeBody): Promise<StoredEntry<'device.revoke'>>
  createShipment(body: ShipmentCreateBody): Promise<StoredEntry<'shipment.create'>>
  closeShipment(body: ShipmentCloseBody): Promise<StoredEntry<'shipment.close'>>
  acknowledgeAlarm(body: AlarmAckBody): Promise<StoredEntry<'alarm.ack'>>
  /** Calls `fn` for every entry committed from now on, in log order; returns an unsubscribe function. */
  subscribe(fn: (e: StoredEntry) => void): () => void
  /** The ledger's verifier key (C2SP note), when known. */
  verifierKey?(): string | undefined
}
