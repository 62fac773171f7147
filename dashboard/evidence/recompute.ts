/**
 * The compliance engine's input from a shipment's evidence, in one place, so
 * that the bundle builder's claimed result and the verifier's recomputed one
 * (and the dashboard's, dashboard/server/shipment-data.ts) come from the same
 * readings the same way: the readings whose device time lies in the shipment
 * window [startAt, closedAt], the shipment's loggers, the logged profile and
 * its logged hash (ARCHITECTURE.md decisions 7 and 8), and the evidence notices of
 * the log: an early end confirmed at the close, declared gaps, forks. Pure.
 */
import type { GapBody, ReadingForkBody, ShipmentCloseBody, ShipmentCreateBody } from '../../ledger/tlog/index.ts'
import type { ReadingFields } from '../../ledger/protocol/index.ts'
import { inLoggerWindow, loggerWindows, type DevicesChange } from '../../ledger/tlog/index.ts'
import { evaluateShipment, type EvidenceNotice, type ShipmentInput, type ShipmentResult } from '../compliance/index.ts'

/** The reading fields the engine reads. */
export type EvidenceReading = Pick<ReadingFields, 'deviceId' | 'seq' | 'deviceTimeMs' | 'tempCentiC' | 'status'>

/** The log entries besides readings that change what the evidence proves. */
export interface EvidenceEntries {
  /** `gap` entries the shipment's chains skip over (those inside each logger's chain range). */
  gaps: readonly GapBody[]
  /** `reading.fork` entries of the shipment's loggers logged before the close. */
  forks: readonly ReadingForkBody[]
  /** `shipment.devices` entries of the shipment (loggers assigned or removed), logged before the close. */
  assignments?: readonly DevicesChange[]
}

export const NO_EVIDENCE_ENTRIES: EvidenceEntries = { gaps: [], forks: [] }

/** True when device time `t` is inside the shipment window (both ends inclusive, as the ledger's shipment index). */
export function inWindow(t: number, startAt: number, closedAt: number | null): boolean {
  return t >= startAt && (closedAt === null || t <= closedAt)
}

/** The first forked seq of each logger: its readings from there on are not evidence. */
function compromisedFrom(forks: readonly ReadingForkBody[]): Map<string, number> {
  const m = new Map<string, number>()
  for (const f of forks) m.set(f.deviceId, Math.min(f.seq, m.get(f.deviceId) ?? Infinity))
  return m
}

/** The notices, in one canonical order (device, seq, code) so that every caller gets the same result. */
export function evidenceNotices(
  close: Pick<ShipmentCloseBody, 'closedAt' | 'endsEarly'> | null,
  { gaps, forks }: EvidenceEntries,
): EvidenceNotice[] {
  const out: EvidenceNotice[] = []
  if (close?.endsEarly)
    out.push({
      deviceId: '',
      code: 'EVIDENCE_ENDS_EARLY',
      atSeq: 0,
      message: `the evidence ends before the close at ${new Date(close.closedAt).toISOString()}, as confirmed at closing: ${close.endsEarly.reason}`,
    })
  for (const g of gaps) {
    out.push({
      deviceId: g.deviceId,
      code: 'DECLARED_GAP',
      atSeq: g.fromSeq,
      message: `readings seq ${g.fromSeq}${g.toSeq > g.fromSeq ? `..${g.toSeq}` : ''} declared lost (${g.cause}${g.detail ? `: ${g.detail}` : ''}), by ${g.by}`,
    })
  }
  for (const [deviceId, seq] of compromisedFrom(forks)) {
    out.push({
      deviceId,
      code: 'DEVICE_COMPROMISED',
      atSeq: seq,
      message: `two different signed readings with seq ${seq}: the logger's key is compromised, its readings from seq ${seq} on are not evidence`,
    })
  }
  const key = (n: EvidenceNotice) => `${n.deviceId}\u0000${String(n.atSeq).padStart(10, '0')}\u0000${n.code}`
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
}

export function engineInput(
  create: ShipmentCreateBody,
  close: Pick<ShipmentCloseBody, 'closedAt' | 'endsEarly'> | null,
  readings: readonly EvidenceReading[],
  entries: EvidenceEntries = NO_EVIDENCE_ENTRIES,
): ShipmentInput {
  const closedAt = close ? close.closedAt : null
  const cut = compromisedFrom(entries.forks)
  // Each logger counts over its own window when loggers were assigned or removed (ledger/tlog/logger-windows.ts).
  const changes = entries.assignments ?? []
  const windows = loggerWindows(create, changes)
  const counts = (f: EvidenceReading) =>
    changes.length
      ? inLoggerWindow(windows, f.deviceId, f.deviceTimeMs, closedAt)
      : inWindow(f.deviceTimeMs, create.startAt, closedAt)
  return {
    profile: create.profile,
    profileHash: create.profileHash,
    window: { startMs: create.startAt, endMs: closedAt },
    ...(changes.length
      ? {
          deviceWindows: Object.fromEntries(
            windows.map((w) => [w.deviceId, { startMs: w.from, endMs: w.until ?? closedAt }]),
          ),
        }
      : {}),
    readings: readings
      .filter((f) => counts(f) && f.seq < (cut.get(f.deviceId) ?? Infinity))
      .map((f) => {
        const r: { deviceId: string; seq: number; deviceTimeMs: number; tempCentiC: number; status?: number } = {
          deviceId: f.deviceId,
          seq: f.seq,
          deviceTimeMs: f.deviceTimeMs,
          tempCentiC: f.tempCentiC,
        }
        r.status = f.status ?? 0
        return r
      }),
    devices: changes.length ? windows.map((w) => w.deviceId) : create.devices,
    evidence: evidenceNotices(close, entries),
  }
}

/** The engine's result over the evidence (throws ComplianceError for an invalid profile or input). */
export function recomputeResult(
  create: ShipmentCreateBody,
  close: Pick<ShipmentCloseBody, 'closedAt' | 'endsEarly'> | null,
  readings: readonly EvidenceReading[],
  entries: EvidenceEntries = NO_EVIDENCE_ENTRIES,
): ShipmentResult {
  return evaluateShipment(engineInput(create, close, readings, entries))
}
