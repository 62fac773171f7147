/**
 * Quarantine records and counters written before the ingest used the wire
 * format's reason codes (ledger/protocol/reason-codes.ts) carry the old names
 * ERR_OVERSIZED, ERR_MALFORMED and ERR_BAD_SIGNATURE. They are read under the
 * current names, so an old ledger and a new one answer alike; the stored
 * bytes are left as they are.
 */
import { currentReason, decodeReason } from '../protocol/index.ts'
import type { LedgerStats, QuarantineReason, QuarantineRecord } from './state-types.ts'

const LEGACY = new Set(['ERR_OVERSIZED', 'ERR_MALFORMED', 'ERR_BAD_SIGNATURE'])

/** The record under its current reason name (the old ERR_MALFORMED kept the decoder's code in details.protocolCode). */
export function currentRecord(r: QuarantineRecord): QuarantineRecord {
  const reason = currentReason(r.reason, r.details) as QuarantineReason
  return reason === r.reason ? r : { ...r, reason }
}

export function hasLegacyCounts(stats: LedgerStats): boolean {
  return [stats.quarantineByReason, stats.quarantineDroppedByReason ?? {}].some((m) =>
    Object.keys(m).some((k) => LEGACY.has(k)),
  )
}

/**
 * Renames the old counters in place. An ERR_MALFORMED count is split by the
 * decoder codes of the records kept (`kept`: their codes, one per record);
 * what the kept records do not explain (records dropped over a cap kept no
 * code) counts as ERR_READING_TRUNCATED, the code of a payload that is not a reading.
 */
export function renameLegacyCounts(stats: LedgerStats, keptMalformedCodes: readonly unknown[]): void {
  const rename = (m: Partial<Record<string, number>>, split: readonly unknown[]) => {
    for (const old of LEGACY) {
      const n = m[old]
      if (n === undefined) continue
      delete m[old]
      let left = n
      if (old === 'ERR_MALFORMED') {
        for (const code of split.slice(0, n)) {
          const c = decodeReason(code)
          m[c] = (m[c] ?? 0) + 1
          left--
        }
      }
      if (left > 0) {
        const c = old === 'ERR_MALFORMED' ? 'ERR_READING_TRUNCATED' : currentReason(old)
        m[c] = (m[c] ?? 0) + left
      }
    }
  }
  rename(stats.quarantineByReason as Partial<Record<string, number>>, keptMalformedCodes)
  if (stats.quarantineDroppedByReason) rename(stats.quarantineDroppedByReason as Partial<Record<string, number>>, [])
}
