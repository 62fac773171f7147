/**
 * What a report is made of: plain data gathered by the server (shipment
 * record, decoded readings, the compliance result, devices, checkpoint).
 * The report writers are pure functions of this; none reads the ledger.
 */
import type { Gs1Ids } from '../../ledger/tlog/index.ts'
import type { NotificationView } from '../notify/view.ts'

export interface ReportReading {
  deviceId: string
  seq: number
  /** Device clock, ms UTC. */
  deviceTimeMs: number
  /** Ledger receive time, ms UTC. */
  receivedAt: number
  tempCentiC: number
  /** Names of the status/event bits set (SENSOR_FAULT, DOOR_OPEN, ...). */
  flags: string[]
  /** Received long after its device time (buffered through a dead zone): delayMs above the threshold. */
  late: boolean
  /** ms it waited in the device's buffer: receive offset beyond the fleet's baseline offset (docs/API.md, "late"); null or absent when unknown. */
  delayMs?: number | null
}

export interface ReportExcursion {
  deviceId: string | null
  kind: string
  ruleId?: string | null
  startAt: number
  endAt: number | null
  durationMs: number
  peakCentiC: number | null
}

export interface ReportResult {
  verdict: string
  reasons?: string[]
  /** The first `deciding` reasons alone give the verdict. */
  deciding?: number
  /** Per logger: min, max, mean over its judged time. */
  loggers?: {
    deviceId: string
    minCentiC: number | null
    maxCentiC: number | null
    meanCentiC: number | null
    readings: number
  }[]
  mktCentiC: number | null
  timeInRangeMs: number | null
  timeAboveMs: number | null
  timeBelowMs: number | null
  excursions: ReportExcursion[]
}

/** An alarm raised during the shipment and, when acknowledged, its alarm.ack (EU GDP 9.2: deviations handled and recorded). */
export interface ReportAlarm {
  alarmId: string
  kind: string
  /** The sensor (logger) it concerns; null for a shipment-wide alarm. */
  deviceId: string | null
  /** Human-readable description, e.g. "Excursion beyond 8.00 °C (above 8.00 °C) past the alarm delay". */
  message: string
  severity: string | null
  /** Device time the alarm condition started, ms UTC. */
  raisedAt: number
  endedAt: number | null
  state: 'open' | 'acknowledged'
  ack: { by: string; reason: string; comment: string; at: number } | null
  /** Notifications sent or failed for it (absent: none configured). */
  notifications?: ReportNotification[]
}

/** One alarm notification: e-mail or webhook, to whom, when, and whether it went out. */
export type ReportNotification = NotificationView

export interface ReportDevice {
  deviceId: string
  publicKey: string
  /** First 16 hex digits of SHA-256(public key). */
  fingerprint: string
  model: string | null
  calibration: { certificate: string; calibratedAt: number; dueAt: number } | null
  revoked: boolean
}

export interface ReportInput {
  shipment: {
    shipmentId: string
    product: string
    route: { from: string; to: string }
    devices: string[]
    gs1: Gs1Ids | null
    startAt: number
    closedAt: number | null
    createdBy: string
    /** When the shipment (and so its rule profile) was logged, ms UTC. */
    createdAt?: number
    profileHash: string
    /** The rule profile as logged. */
    profile: Record<string, unknown>
    range: { minCentiC: number | null; maxCentiC: number | null }
  }
  readings: ReportReading[]
  /** Readings logged above a close anchor with device times in the window: shown apart, never part of the verdict. */
  postClose?: ReportReading[]
  /** Why the evidence ends before the close, when the person closing confirmed so. */
  endsEarly?: string | null
  /** Each logger's window, when loggers were assigned or removed after the creation (until null: to the close). */
  loggers?: { deviceId: string; from: number; until: number | null }[]
  /** The signed receipt at the destination (shipment.receive entry), when there is one. */
  receipt?: { receivedAt: number; signature: { by: string; meaning: string; reason: string; at: number } } | null
  /** Who closed the shipment, and their electronic signature when the close carried one. */
  close?: {
    by: string
    signature: {
      by: string
      meaning: string
      reason: string
      at: number
      override?: { reason: string; alarms: string[] }
    } | null
  } | null
  result: ReportResult
  devices: ReportDevice[]
  /** Alarms and their acknowledgements, oldest first (absent: none known). */
  alarms?: ReportAlarm[]
  checkpoint: { origin: string; size: number; rootHash: string; note: string } | null
  /** hex SHA-256 of the evidence bundle, when the bundle module is installed. */
  bundleSha256: string | null
  /** The tree size of the checkpoint the named bundle was built against, and when the report read it (ms UTC). */
  bundleBuiltAt?: { size: number; at: number }
  /** Why there is no bundle hash, when there is none (default: the bundle module is not installed). */
  bundleNote?: string
  /** ms UTC */
  generatedAt: number
}
