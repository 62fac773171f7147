/** The chaos suite's result as a plain padded table (no table package needed). */
import type { ChaosReport } from './run.ts'

function table(title: string, rows: [string, string | number][]): string {
  const w = Math.max(...rows.map(([k]) => k.length), 10)
  return [`${title}`, ...rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`)].join('\n')
}

export function formatReport(r: ChaosReport): string {
  const a = r.audit
  const gapRows: [string, string | number][] = a.gaps.length
    ? a.gaps.map((g) => [`${g.deviceId} seq ${g.fromSeq}..${g.toSeq}`, `${g.cause}${g.detail ? ` (${g.detail})` : ''}`])
    : [['(none)', '']]
  const sortE = (o: Record<string, number>) => Object.entries(o).sort((x, y) => y[1] - x[1]) as [string, number][]
  return [
    table('Faults injected', [...Object.entries(r.faults), ['disk full', r.diskFull]]),
    table('Readings', [
      ['produced (signed by the devices)', a.produced],
      ['stored exactly once', a.stored],
      ['inside declared gaps', a.inGaps],
      ['lost (neither)', a.lost.length],
      ['stored twice / altered / unknown', `${a.duplicates.length} / ${a.mismatched.length} / ${a.unknownStored}`],
      ['ledger entries', a.entries],
    ]),
    table('Gaps declared (cause)', gapRows),
    table('Rejected messages', [
      ...sortE(a.rejected.quarantinedByReason).map(([k, v]) => [`quarantined ${k}`, v] as [string, number]),
      ...sortE(a.rejected.refusedByKind).map(([k, v]) => [`refused by the broker: ${k}`, v] as [string, number]),
      ['counted at a quarantine cap', a.rejected.countedAtCap],
      ['replays answered as duplicates', a.rejected.duplicatesAnswered],
      ['unaccounted (must be 0)', a.rejected.unaccounted.length],
      ['rejected payloads in the log (must be 0)', a.rejected.inLog],
    ]),
    table('HTTP responses by status', [
      ...Object.entries(r.http.byStatus).sort(),
      ['5xx (must be 0)', r.http.serverErrors.length],
      ['served beyond a role (must be 0)', r.http.roleBreaches.length],
      ['fuzz/access cases', r.httpCases],
    ]),
    table(
      "Compliance verdicts (ledger = devices' records)",
      a.verdicts.map((v) => [v.shipmentId, `${v.ledger} ${v.equal ? '=' : '≠'} ${v.reference}`]),
    ),
    table(
      'Damaged files (clear error naming the file)',
      r.fileCases.map((c) => [c.name, c.ok ? `ok: ${c.stderr.slice(0, 90)}` : `FAIL: ${c.why}`]),
    ),
    table('Verification', [
      [
        'coldproof verify-ledger',
        r.verifyLedger.exitCode === 0
          ? `passed (${r.verifyLedger.summary})`
          : `FAILED (exit ${r.verifyLedger.exitCode})`,
      ],
    ]),
    table('Peak memory (RSS)', [
      ['system process', `${r.peakMemoryMiB.system} MiB`],
      ['fleet process', `${r.peakMemoryMiB.fleet} MiB`],
      ['suite process', `${r.peakMemoryMiB.suite} MiB`],
    ]),
    ...(r.events.length
      ? [
          table(
            'Events',
            r.events.map((e, i) => [String(i + 1), e]),
          ),
        ]
      : []),
    `Result: ${r.ok ? 'PASS — nothing lost' : `FAIL (${r.failures.length})`}  seed ${r.seed}, ${r.durationS} s`,
    ...r.failures.map((f) => `  - ${f}`),
  ].join('\n\n')
}
