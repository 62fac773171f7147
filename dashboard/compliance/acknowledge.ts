/**
 * Acknowledgements of alarms (EU GMP Annex 11: attributable, audited changes).
 * An operator's acknowledgement is a log entry (ledger entry type 'alarm.ack');
 * attaching it to a result documents the deviation and never changes the
 * verdict or the reasons: the returned object is the same result plus an
 * `acknowledgements` list and the alarms still unacknowledged.
 */
import { ComplianceError } from './errors.ts'
import type { ShipmentResult } from './shipment.ts'
import type { Entry } from '../../ledger/tlog/index.ts'

export interface Acknowledgement {
  alarmId: string
  /** who acknowledged (operator id) */
  by: string
  /** ms UTC, the log entry's time */
  atMs: number
  reason: string
  comment: string
}

export type AcknowledgedResult = ShipmentResult & {
  acknowledgements: Acknowledgement[]
  unacknowledgedAlarmIds: string[]
}

/**
 * Returns `result` with the acknowledgements attached (sorted by time, then alarm id).
 * Throws ERR_ACK_UNKNOWN_ALARM for an id that is not an alarm of this result,
 * ERR_INPUT_INVALID for a malformed record. The verdict is copied, never recomputed.
 */
export function attachAcknowledgements(result: ShipmentResult, acks: readonly Acknowledgement[]): AcknowledgedResult {
  const alarmIds = new Set<string>()
  for (const s of result.sensors) for (const e of s.events) if (e.alarm) alarmIds.add(e.id)
  const list = acks
    .map((a, i) => {
      const path = `$[${i}]`
      for (const f of ['alarmId', 'by', 'reason', 'comment'] as const) {
        if (typeof a?.[f] !== 'string')
          throw new ComplianceError(
            'ERR_INPUT_INVALID',
            `${path}.${f}`,
            `expected a string, got ${JSON.stringify(a?.[f])}`,
            { value: a?.[f] },
          )
      }
      if (!a.by || !a.reason)
        throw new ComplianceError(
          'ERR_INPUT_INVALID',
          `${path}.${a.by ? 'reason' : 'by'}`,
          'an acknowledgement names who and why',
          { value: a },
        )
      if (!Number.isSafeInteger(a.atMs))
        throw new ComplianceError(
          'ERR_INPUT_INVALID',
          `${path}.atMs`,
          `expected integer ms, got ${JSON.stringify(a.atMs)}`,
          { value: a.atMs },
        )
      if (!alarmIds.has(a.alarmId))
        throw new ComplianceError(
          'ERR_ACK_UNKNOWN_ALARM',
          `${path}.alarmId`,
          `no alarm "${a.alarmId}" in this result`,
          { alarmId: a.alarmId },
        )
      return { alarmId: a.alarmId, by: a.by, atMs: a.atMs, reason: a.reason, comment: a.comment }
    })
    .sort((x, y) => x.atMs - y.atMs || (x.alarmId < y.alarmId ? -1 : x.alarmId > y.alarmId ? 1 : 0))
  const acked = new Set(list.map((a) => a.alarmId))
  return {
    ...result,
    acknowledgements: list,
    unacknowledgedAlarmIds: [...alarmIds].filter((id) => !acked.has(id)).sort(),
  }
}

/** The acknowledgement an 'alarm.ack' log entry records: who, when (the entry's time), which alarm, why. */
export function acknowledgementFromEntry(entry: Entry<'alarm.ack'>): Acknowledgement {
  const b = entry.body
  return { alarmId: b.alarmId, by: b.by, atMs: entry.time, reason: b.reason, comment: b.comment }
}
