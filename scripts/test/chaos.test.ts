/**
 * The chaos suite's CI version (`coldproof chaos --quick`): 5 SIGKILLs of the
 * system while a fleet publishes, a device 12 simulated hours offline, a
 * buffer overflow, drifting and jumping clocks, hostile MQTT and HTTP, damaged
 * files, and a full disk for the ledger (as root, on a tmpfs). Nothing here depends on timing: kills land at random moments and
 * every wait is for a condition (docs/RELIABILITY.md).
 */
import t from 'tap'
import { runChaos } from '../chaos/run.ts'
import { formatReport } from '../chaos/report.ts'

// A ceiling, not an expectation: the run waits on conditions, and each of its
// six system starts costs a Node start (4–19 s on a loaded 2-core machine).
t.setTimeout(600_000)

t.test('chaos --quick: nothing measured is lost, every rejection accounted for', async (t) => {
  const r = await runChaos({ quick: true, seed: 17 })
  t.comment(formatReport(r).split('\n').join('\n# '))
  t.same(r.failures, [], 'no failure')
  t.ok(Number(r.faults['system (broker + ingest) SIGKILL']) >= 5, 'the system was killed at least 5 times')
  t.ok(r.audit.produced > 1000, `the fleet signed ${r.audit.produced} readings`)
  t.equal(r.audit.lost.length, 0, 'no reading lost')
  t.equal(r.audit.stored + r.audit.inGaps, r.audit.produced, 'stored once or in a declared gap, each')
  t.ok(
    r.audit.gaps.some((g) => g.deviceId === 'chaos-overflow' && g.cause === 'buffer-overflow'),
    'the overflow is a declared gap with its cause',
  )
  t.ok(
    r.audit.verdicts.length >= 3 && r.audit.verdicts.every((v) => v.equal),
    "verdicts equal those from the devices' records",
  )
  t.equal(r.verifyLedger.exitCode, 0, 'coldproof verify-ledger passes')
  t.equal(r.http.serverErrors.length, 0, 'no HTTP 5xx')
  t.equal(r.http.roleBreaches.length, 0, 'no access beyond a role')
  t.equal(r.audit.rejected.unaccounted.length, 0, 'every rejected message quarantined, counted or refused')
  t.equal(r.audit.rejected.inLog, 0, 'no rejected payload in the log')
  t.ok(Object.keys(r.audit.rejected.quarantinedByReason).length >= 4, 'several quarantine reasons exercised')
  t.ok(r.fileCases.length >= 6 && r.fileCases.every((c) => c.ok), 'damaged files give clear errors naming the file')
})
