/**
 * The ledger's derived state as the read API returns it: latest state per
 * device, shipments, quarantine records and counters. Derived from the log
 * (and rebuilt in the same atomic batch as the entries that change it).
 */
import type { LoggerWindow } from '../tlog/index.ts'
import type { CalibrationInfo, ChainAnchor, CloseSignature, Gs1Ids, ReceiveSignature } from '../tlog/index.ts'
import type { SeqState } from './device-chain.ts'
import { READING_REFUSAL_REASONS } from '../protocol/index.ts'

export interface DeviceState extends SeqState {
  deviceId: string
  /** hex, 32 bytes */
  publicKey: string
  model?: string
  calibration?: CalibrationInfo
  registeredBy: string
  /** Ledger time and index of the registration entry. */
  registeredAt: number
  registerIndex: number
  revoked: boolean
  revokedAt?: number
  revokeIndex?: number
  revokeReason?: string
  /** hex SHA-256 of the reading at `contiguous` (what the receipt carries); absent while contiguous = 0. */
  contiguousHash?: string
  /** hex SHA-256 of the reading at `highest` (chained or held). */
  highestHash?: string
  /** Number of readings stored. */
  readings: number
  /** Ledger receive time of the latest stored reading. */
  lastSeenAt?: number
  /** Device time of the newest chained reading. */
  lastDeviceTime?: number
  lastTempCentiC?: number
  batteryPct?: number
  /** STATUS bits of the newest chained reading that carried a status. */
  status?: number
  /**
   * Set by the device's first `reading.fork` entry: two different validly
   * signed readings of one seq prove its key signed two histories, so its
   * evidence from `seq` on is untrustworthy (docs/PROTOCOL.md, "Forks").
   */
  compromised?: { seq: number; forkIndex: number }
}

export interface ShipmentState {
  shipmentId: string
  product: string
  route: { from: string; to: string }
  devices: string[]
  profileHash: string
  startAt: number
  createdBy: string
  createdAt: number
  createIndex: number
  gs1?: Gs1Ids
  /** Each logger's chain head when the shipment was created (absent in ledgers written before anchors). */
  createAnchors?: ChainAnchor[]
  /**
   * Every logger the shipment ever had, with the device times its readings count for; set by the
   * first shipment.devices entry (absent: the create's `devices`, each from startAt). `devices` lists those assigned now.
   */
  loggers?: LoggerWindow[]
  /** Set by the shipment.receive entry: when the goods were received, by whom, its index and signature. */
  receivedAt?: number
  receivedBy?: string
  receiveIndex?: number
  receiveSignature?: ReceiveSignature
  closedAt?: number
  closedBy?: string
  closeIndex?: number
  /** Each logger's chain head at the close: readings above it are post-close evidence, never the shipment's. */
  closeAnchors?: ChainAnchor[]
  /** Why the evidence ends before closedAt, when the person closing confirmed so. */
  endsEarly?: string
  /** The electronic signature of the close, when it carried one. */
  closeSignature?: CloseSignature
}

/**
 * Why the ingest rejected a message: the wire format's one catalogue
 * (ledger/protocol/reason-codes.ts; tables in docs/PROTOCOL.md and docs/ARCHITECTURE.md).
 */
export const QUARANTINE_REASONS = READING_REFUSAL_REASONS
export type QuarantineReason = keyof typeof QUARANTINE_REASONS

export interface QuarantineRecord {
  /** Sequential id within this ledger; -1 when the record was counted but not kept (a cap was reached). */
  id: number
  reason: QuarantineReason
  message: string
  /** Ledger receive time, ms UTC. */
  time: number
  topic: string
  /** base64 of the raw payload as received (possibly truncated to maxRawBytes; see rawLength). */
  raw: string
  rawLength: number
  deviceId?: string
  seq?: number
  details?: Record<string, unknown>
}

export interface LedgerStats {
  batches: number
  entries: number
  largestBatch: number
  entriesByType: Record<string, number>
  /** Messages rejected, kept or not (see quarantineDropped). */
  quarantined: number
  quarantineByReason: Partial<Record<QuarantineReason, number>>
  /** What the bounded quarantine holds: records, their stored bytes, records per registered device ('' for the rest). */
  quarantineKept?: { records: number; bytes: number; byDevice: Record<string, number> }
  /** Rejections counted but not stored because a quarantine cap was reached (docs/ARCHITECTURE.md, "Quarantine"). */
  quarantineDropped?: number
  quarantineDroppedByReason?: Partial<Record<QuarantineReason, number>>
}

/** Bounds of the quarantine: in total (records and bytes) and per device. */
export interface QuarantineCaps {
  maxRecords: number
  maxBytes: number
  maxPerDevice: number
}
export const DEFAULT_QUARANTINE_CAPS: QuarantineCaps = Object.freeze({
  maxRecords: 10_000,
  maxBytes: 32 * 1024 * 1024,
  maxPerDevice: 1_000,
})
