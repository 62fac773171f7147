/** The ledger page's summary: size, latest checkpoint, last integrity check. */
import type { IntegrityCheckWire, LedgerSummaryWire } from '../../common/api-schemas.ts'
import type { LedgerView } from '../types.ts'
import { request } from './request.ts'

/** The server reports a failed check as `failure: { code, index, message }` (docs/API.md); the page shows it as one line. */
function integrityFailureText(f: IntegrityCheckWire['failure']): string | undefined {
  if (!f) return undefined
  const at = typeof f.index === 'number' ? ` at entry ${f.index}` : ''
  return [f.code, f.message].filter(Boolean).join(': ') + at || undefined
}

export async function getLedger(): Promise<LedgerView> {
  const j = await request<LedgerSummaryWire>('GET', '/api/ledger')
  return {
    size: j.size,
    checkpoint: j.latestCheckpoint
      ? {
          origin: j.latestCheckpoint.origin,
          size: j.latestCheckpoint.size,
          rootHash: j.latestCheckpoint.rootHash,
          note: j.latestCheckpoint.note,
        }
      : null,
    integrity: j.lastIntegrityCheck
      ? {
          checkedAt: j.lastIntegrityCheck.at,
          ok: j.lastIntegrityCheck.ok,
          size: j.lastIntegrityCheck.size,
          message: integrityFailureText(j.lastIntegrityCheck.failure),
        }
      : null,
    entriesByType: j.entriesByType ?? {},
    quarantined: j.quarantined ?? {},
  }
}
