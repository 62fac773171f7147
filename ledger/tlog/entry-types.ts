/**
 * The typed entries of the one global log (ARCHITECTURE.md decision 4) and the read
 * surface the other parts use. The ledger implements these; the dashboard,
 * the bundle builder and the broker's registry adapter consume them.
 *
 * Entry bytes are canonical JSON (UTF-8, object keys sorted, no whitespace;
 * see ledger/tlog/canonical-json.ts): readable by a regulator, deterministic, and
 * byte-identical when recomputed in a browser. Reading payloads are carried as
 * base64 of the exact signed bytes received, never re-serialised.
 */

export type EntryType =
  | 'device.register'
  | 'device.revoke'
  | 'shipment.create'
  | 'shipment.close'
  | 'shipment.receive'
  | 'shipment.devices'
  | 'reading'
  | 'alarm.ack'
  | 'checkpoint'
  | 'gap'
  | 'reading.fork'

export interface CalibrationInfo {
  /** Calibration certificate reference. */
  certificate: string
  /** ms UTC */
  calibratedAt: number
  /** ms UTC; GDP 3.3.1 / 9.3: at least yearly. */
  dueAt: number
}

export interface DeviceRegisterBody {
  deviceId: string
  /** hex, 32 bytes, checked by checkDevicePublicKey */
  publicKey: string
  model?: string
  calibration?: CalibrationInfo
  by: string
}
export interface DeviceRevokeBody {
  deviceId: string
  reason: string
  by: string
}

export interface Gs1Ids {
  /** 18-digit SSCC of the logistics unit, with check digit */
  sscc: string
  /** 14-digit GTIN of the product, with check digit */
  gtin: string
  lot: string
  /** YYYY-MM-DD */
  expiry: string
}

/**
 * A logger's chain head when a shipment entry was written: its highest seq
 * such that every seq up to it is chained in the log or inside a declared gap,
 * and the hex SHA-256 of the payload stored at that seq (64 zeros for seq 0).
 * Anchors bound the readings a shipment's evidence must hold (docs/BUNDLE.md).
 */
export interface ChainAnchor {
  deviceId: string
  seq: number
  hash: string
  /**
   * Close anchors only: the index of the logger's first reading.fork entry when it was compromised
   * by the close, so that a bundle cannot leave the fork out (docs/BUNDLE.md, "Anchors").
   */
  fork?: number
}

export interface ShipmentCreateBody {
  shipmentId: string
  product: string
  gs1?: Gs1Ids
  route: { from: string; to: string }
  /** Device ids of the shipment's loggers. */
  devices: string[]
  /** The full rule profile, as a JSON object (dashboard/compliance validates it). */
  profile: unknown
  /** hex SHA-256 of the profile's canonical JSON: binds the rules at creation (decision 7). */
  profileHash: string
  /** ms UTC: readings from this device time on belong to the shipment. */
  startAt: number
  by: string
  /** Each logger's chain head at creation, in `devices` order (absent only in ledgers written before anchors). */
  anchors?: ChainAnchor[]
  /**
   * Cluster mode only (docs/SCALING.md, "Shipments in the cluster mode"): the shipment spans
   * partition logs. `devices` (and the anchors) are this partition's loggers; this names every
   * logger of the shipment and the partition count, so a bundle cannot leave a partition out.
   */
  cluster?: ClusterShipment
}

/** A cluster shipment's full logger list: logger d lives in ingest partition partitionOf(d) mod `partitions`. */
export interface ClusterShipment {
  partitions: number
  devices: string[]
}
export interface ShipmentCloseBody {
  shipmentId: string
  closedAt: number
  by: string
  /** Each logger's chain head at the close, in the shipment's `devices` order (absent only in old ledgers). */
  anchors?: ChainAnchor[]
  /** Set when the person closing confirmed that a logger's evidence ends before closedAt, and why. */
  endsEarly?: { reason: string }
  /** The electronic signature of the person closing (absent in ledgers written before signatures, and on closes not made through the dashboard). */
  signature?: CloseSignature
}

/** What a close signature means (EU GMP Annex 11 §14, 21 CFR 11.50: the meaning is part of the signature). */
export const CLOSE_MEANINGS = ['received and reviewed', 'closed without receipt', 'rejected on receipt'] as const
export type CloseMeaning = (typeof CLOSE_MEANINGS)[number]

/**
 * An electronic signature of a close: who signed (their password re-checked at signing),
 * what it means, why, when (ms UTC); `override` when open critical alarms were closed over.
 */
export interface CloseSignature {
  by: string
  meaning: CloseMeaning
  reason: string
  at: number
  override?: { reason: string; alarms: string[] }
}

/** What a receipt signature means: the consignment arrived at the route's destination, and in what state. */
export const RECEIVE_MEANINGS = [
  'received at destination',
  'received with damage noted',
  'received and quarantined',
] as const
export type ReceiveMeaning = (typeof RECEIVE_MEANINGS)[number]

/** The electronic signature of a receipt: the receiving user (password re-checked), its meaning, why, when (ms UTC). */
export interface ReceiveSignature {
  by: string
  meaning: ReceiveMeaning
  reason: string
  at: number
}

/**
 * The consignment was received at the destination (before the close, which ends the compliance
 * window). Signed like the close; at most one per shipment, only while it is open.
 */
export interface ShipmentReceiveBody {
  shipmentId: string
  /** ms UTC: when the goods were received (the signer's statement; the entry time is when it was logged). */
  receivedAt: number
  by: string
  signature: ReceiveSignature
}

/**
 * Loggers assigned to or removed from an open shipment (ledger/tlog/logger-windows.ts): an added
 * logger's readings count from `at` (device time), a removed one's up to `at` and none logged
 * after this entry. The ledger writes `anchors`: each named logger's chain head, in [...add, ...remove] order.
 */
export interface ShipmentDevicesBody {
  shipmentId: string
  add: string[]
  remove: string[]
  /** ms UTC (device time) the change takes effect. */
  at: number
  by: string
  anchors?: ChainAnchor[]
}

/** Why readings of a device will never arrive (docs/PROTOCOL.md, "Declared gaps"). */
export type GapCause = 'buffer-overflow' | 'resend-abandoned' | 'operator'

/** Readings fromSeq..toSeq (inclusive) of a device are declared lost; its chain continues above them. */
export interface GapBody {
  deviceId: string
  fromSeq: number
  toSeq: number
  cause: GapCause
  by: string
  detail?: string
}

/** Two different validly signed payloads of one device with the same seq: evidence of a compromised logger. */
export interface ReadingForkBody {
  deviceId: string
  seq: number
  /** base64 of both exact payloads, ordered by the hex SHA-256 of their bytes. */
  payloads: [string, string]
}

export interface ReadingBody {
  /** base64 of the exact MQTT payload: record || signature. */
  payload: string
  deviceId: string
  seq: number
}

export interface AlarmAckBody {
  shipmentId: string
  /** Stable id of the alarm being acknowledged (from the compliance engine). */
  alarmId: string
  reason: string
  comment: string
  by: string
}

export interface CheckpointBody {
  /** Tree size the checkpoint commits to. */
  size: number
  /** base64 root hash */
  rootHash: string
  /** The full signed note text. */
  note: string
}

export interface EntryBodies {
  'device.register': DeviceRegisterBody
  'device.revoke': DeviceRevokeBody
  'shipment.create': ShipmentCreateBody
  'shipment.close': ShipmentCloseBody
  'shipment.receive': ShipmentReceiveBody
  'shipment.devices': ShipmentDevicesBody
  reading: ReadingBody
  'alarm.ack': AlarmAckBody
  checkpoint: CheckpointBody
  gap: GapBody
  'reading.fork': ReadingForkBody
}

export interface Entry<T extends EntryType = EntryType> {
  v: 1
  index: number
  type: T
  /** Ledger receive time, ms UTC. */
  time: number
  /** hex SHA-256 of the previous entry's bytes; 64 zeros for index 0. */
  prev: string
  body: EntryBodies[T]
}

export interface StoredEntry<T extends EntryType = EntryType> {
  entry: Entry<T>
  /** The exact canonical bytes that are hashed and Merkle-leafed. */
  bytes: Uint8Array
  /** hex SHA-256(bytes) */
  hash: string
}
