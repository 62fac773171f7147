/** The run's findings from the audit, the HTTP tally and the kill count: each one a line of the report's failures. */
import type { AuditResult } from './audit.ts'
import type { HttpTally } from './http.ts'

export function auditFailures(
  a: AuditResult,
  tally: HttpTally,
  faults: Record<string, string | number>,
  kills: number,
): string[] {
  const failures: string[] = []
  if (a.lost.length)
    failures.push(
      `LOSS: ${a.lost.length} reading(s) neither stored nor in a declared gap: ${a.lost
        .slice(0, 10)
        .map((l) => `${l.deviceId}#${l.seq}`)
        .join(', ')}`,
    )
  if (a.duplicates.length)
    failures.push(
      `${a.duplicates.length} reading(s) stored more than once: ${a.duplicates
        .slice(0, 5)
        .map((d) => `${d.deviceId}#${d.seq}×${d.count}`)
        .join(', ')}`,
    )
  if (a.mismatched.length) failures.push(`${a.mismatched.length} stored reading(s) differ from what the device signed`)
  if (a.unknownStored) failures.push(`${a.unknownStored} reading(s) in the log that no device signed as sent`)
  for (const vd of a.verdicts)
    if (!vd.equal)
      failures.push(
        `compliance result of ${vd.shipmentId} differs: ledger ${vd.ledger}, devices' records ${vd.reference}`,
      )
  if (a.rejected.unaccounted.length)
    failures.push(
      `${a.rejected.unaccounted.length} rejected message(s) accepted by the broker but neither quarantined nor counted: ${[...new Set(a.rejected.unaccounted.map((u) => u.kind))].join(', ')}`,
    )
  if (a.rejected.inLog) failures.push(`${a.rejected.inLog} rejected payload(s) found in the log`)
  if (tally.serverErrors.length)
    failures.push(
      `${tally.serverErrors.length} HTTP 5xx: ${tally.serverErrors
        .slice(0, 3)
        .map((e) => `${e.method} ${e.path} → ${e.status} ${e.body.slice(0, 100)}`)
        .join('; ')}`,
    )
  if (tally.roleBreaches.length)
    failures.push(
      `${tally.roleBreaches.length} request(s) served beyond the role: ${tally.roleBreaches
        .slice(0, 5)
        .map((b) => `${b.role} ${b.method} ${b.path} → ${b.status}`)
        .join('; ')}`,
    )
  if (Number(faults['system (broker + ingest) SIGKILL'] ?? 0) < kills)
    failures.push(`only ${faults['system (broker + ingest) SIGKILL'] ?? 0} of ${kills} kills hit a running system`)
  return failures
}
