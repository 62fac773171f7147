/**
 * What the views draw. The modules of api/ map the server's JSON (docs/API.md) onto these
 * shapes, one module a resource, so a change in the API touches the client in one place.
 */
import type { Gs1Wire, NotificationWire, RoleWire, ShipmentDetailWire, UserWire } from '../common/api-schemas.ts'

export type Role = RoleWire

export type Me = Pick<UserWire, 'username' | 'role'>

export type ShipmentStatus = 'ok' | 'alarm' | 'closed'

export interface ShipmentSummary {
  shipmentId: string
  product: string
  /** The storage class label, e.g. "2–8 °C" or "refrigerated". */
  productClass: string
  route: { from: string; to: string }
  status: ShipmentStatus
  /** °C, latest reading of any sensor (null before the first reading). */
  currentTempC: number | null
  /** Ledger receive time of the latest reading, ms UTC. */
  lastReadingAt: number | null
  /**
   * Ledger receive time of the newest reading of its devices, ms UTC (from
   * the device list): how long since the shipment was last heard from, which
   * a device clock (possibly skewed or simulated) cannot say.
   */
  lastReceivedAt?: number | null
  openAlarms: number
  devices: string[]
  startAt?: number
  closedAt?: number | null
  /** The labelled range, °C; null = no limit on that side. */
  range: { minC: number | null; maxC: number | null }
}

export interface ProfileView {
  name?: string
  labelStatement?: string
  expectedIntervalMs?: number
  minC: number | null
  maxC: number | null
  /** Longest allowed interval between readings, ms. */
  maxGapMs?: number
  /** The profile as logged, shown verbatim for the record. */
  raw?: unknown
}

export interface ReadingView {
  deviceId: string
  seq: number
  /** Device time, ms UTC */
  t: number
  tempC: number
  receivedAt?: number
  late?: boolean
  /** How long it waited in the device's buffer, as the server's lateness rule measured it (docs/API.md). */
  delayMs?: number
  fault?: boolean
  batteryPct?: number
  flags?: string[]
}

export interface ExcursionView {
  /** "above" | "below" */
  kind: string
  /** The profile's zone id, e.g. "above-8". */
  ruleId?: string
  deviceId?: string
  from: number
  /** null while still going on */
  to: number | null
  durationMs: number
  /** Most extreme temperature during the excursion, °C */
  peakC?: number | null
  limitC?: number | null
}

export type AlarmState = 'open' | 'acknowledged' | 'resolved'

export interface AlarmView {
  alarmId: string
  shipmentId: string
  deviceId?: string
  kind: string
  /** Internal rule id (zone / hard limit, or fault reason): shown as a tooltip, the message names the rule in words. */
  rule?: string | null
  severity?: string | null
  message: string
  /** Device time the alarm condition started, ms UTC. */
  at: number
  endedAt?: number | null
  state: AlarmState
  /** The sensor stopped reporting: the alarm stands for a lost sensor, not a measured excursion. */
  sensorLost?: boolean
  ack?: { by: string; reason: string; comment: string; at?: number }
  /** E-mails and webhooks sent (or failed) for this alarm, escalations included. */
  notifications?: AlarmNotification[]
}

export type AlarmNotification = NotificationWire

export interface SensorState {
  deviceId: string
  lastSeenAt: number | null
  /** Device time of the newest reading */
  lastReadingT?: number | null
  silentForMs?: number | null
  currentTempC?: number | null
  batteryPct?: number | null
  /** The newest reading arrived late (from the device's buffer). */
  late?: boolean
  lost?: boolean
}

export interface ComplianceSummary {
  verdict: string
  mktC: number | null
  timeInRangeMs: number | null
  timeAboveMs: number | null
  timeBelowMs: number | null
  readingCount?: number | null
  /** Human-readable reasons behind the verdict, deciding ones first. */
  reasons: string[]
  /** The first `deciding` reasons alone give the verdict; the rest are noted. */
  deciding: number
  /** Per logger, °C over its judged time. */
  loggers: { deviceId: string; minC: number | null; maxC: number | null; meanC: number | null; readings: number }[]
}

export interface ShipmentDetail extends ShipmentSummary {
  gs1?: Gs1Wire
  profile: ProfileView
  profileHash?: string
  readings: ReadingView[]
  excursions: ExcursionView[]
  alarms: AlarmView[]
  sensors: SensorState[]
  /** The reason given when the shipment was closed with its evidence ending early. */
  endsEarly: string | null
  /** The close's electronic signature; null while open or when closed without one. */
  closeSignature: CloseSignatureView | null
  /** Readings logged above a close anchor with device times in the window: shown apart, never part of the verdict. */
  postClose: ReadingView[]
  /** The built-in profile's id (null: a custom profile). */
  profileId: string | null
  /** Who logged the shipment, and when (ledger time). */
  createdBy: string | null
  createdAt: number | null
  /** The signed receipt at the destination; null until received. */
  receipt: ({ receivedAt: number } & NonNullable<ShipmentDetailWire['receiveSignature']>) | null
  /** Every logger the shipment had and the device times it counts for (until null: assigned now). */
  loggers: ShipmentDetailWire['loggers']
  compliance: ComplianceSummary | null
  downloads: { label: string; href: string; kind: 'pdf' | 'csv' | 'epcis' | 'bundle' | 'bundle-post-close' }[]
}

export interface DeviceView {
  deviceId: string
  model?: string
  state: 'registered' | 'revoked'
  publicKey?: string
  fingerprint?: string
  revokeReason?: string | null
  lastSeenAt: number | null
  batteryPct: number | null
  buffered: number | null
  calibrationDueAt: number | null
  calibrationCertificate?: string
  shipmentId?: string | null
}

export interface LedgerView {
  size: number | null
  checkpoint: { origin: string; size: number; rootHash: string; note?: string; time?: number } | null
  integrity: { checkedAt: number | null; ok: boolean | null; message?: string; size?: number } | null
  entriesByType: Record<string, number>
  quarantined: Record<string, number>
}

/** What the live stream delivers, after mapping. */
export type StreamEvent =
  | { type: 'reading'; shipmentIds: string[]; reading: ReadingView }
  | { type: 'alarm'; alarm: AlarmView }
  | { type: 'ack'; alarm: AlarmView }
  | { type: 'shipment'; shipment: ShipmentSummary }
  | { type: 'device'; device: DeviceView }
  | { type: 'checkpoint' }
  | { type: 'hello'; serverTime: number | null }
  | { type: 'other'; name: string }

export type CloseSignatureView = NonNullable<ShipmentDetailWire['closeSignature']>
