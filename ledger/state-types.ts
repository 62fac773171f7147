/**
 * The ledger's derived state as the read API returns it: latest state per
 * device, shipments, quarantine records and counters. Derived from the log
 * (and rebuilt in the same atomic batch as the entries that change it).
 */
import type { LoggerWindow } from './logger-windows.ts'
import type { CalibrationInfo, ChainAnchor, CloseSignature, Gs1Ids, ReceiveSignature } from './entry-types.ts'
import type { SeqState } from './device-chain.ts'

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

/** Why the ingest rejected a message (ARCHITECTURE.md decision 6; table in docs/ARCHITECTURE.md, "Ingest"). */
export const QUARANTINE_REASONS = {
  ERR_OVERSIZED: 'the payload is larger than any valid reading',
  ERR_MALFORMED: 'the payload does not decode as a v1 reading (details.protocolCode names the field)',
  ERR_TOPIC_INVALID: 'the topic is not a ColdProof v1 readings topic',
  ERR_TOPIC_MISMATCH: 'the reading names a different device than its topic',
  ERR_UNKNOWN_DEVICE: 'the device is not registered',
  ERR_REVOKED: 'the device is revoked',
  ERR_BAD_SIGNATURE: 'the Ed25519 signature does not verify under the registered key',
  ERR_FUTURE_TIME: 'the device time is further in the future than the allowed clock skew',
  ERR_CHAIN_FORK: 'a different validly signed reading is already chained or held at this sequence, and the device\'s first fork is logged already (reading.fork entry)',
  ERR_CHAIN_PREV_MISMATCH: 'the reading is the next seq above the chain head but its prevHash is not the head\'s hash',
  ERR_HELD_UNLINKED: 'a reading held above a gap does not link to the reading that filled the gap below it (fork or forgery)',
  ERR_SEQ_DECLARED_LOST: 'the sequence lies inside a declared gap: the chain has moved past it',
  ERR_HELD_LIMIT: 'the reading would raise the device\'s highest seq, but the device already has the maximum of readings held above gaps (maxHeldPerDevice); nothing held is evicted, the device re-sends it once the gap fills',
  ERR_HELD_TOO_FAR: 'the reading is further above the chain head than any device buffer reaches (maxHeldAhead) and does not report BUFFER_OVERFLOW',
} as const
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
export interface QuarantineCaps { maxRecords: number; maxBytes: number; maxPerDevice: number }
export const DEFAULT_QUARANTINE_CAPS: QuarantineCaps = Object.freeze({ maxRecords: 10_000, maxBytes: 32 * 1024 * 1024, maxPerDevice: 1_000 })
