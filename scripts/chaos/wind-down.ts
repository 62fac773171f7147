/**
 * The end of a chaos run: the fleet finishes and every buffer drains (overflow
 * gaps declared by the ingest), the regulator reads each shipment, the system
 * stops cleanly, and `coldproof verify-ledger` checks what it left.
 */
import { runCli } from './file-errors.ts'
import { peakRssMiB } from './peak-rss.ts'
import type { ChaosRun } from './run-state.ts'
import { sleep, until } from './wait.ts'

/** Waits for every device to finish and every buffer to drain; what does not is a failure. */
export async function drainFleet(run: ChaosRun): Promise<void> {
  run.log('waiting for the fleet to finish and drain…')
  try {
    await until(
      'every device to finish and every buffer to drain',
      run.quick ? 120_000 : 600_000,
      async () => {
        const st = await run.fleet.ask({ type: 'status' }, 'status')
        return st.devices.every((d) => d.finished && d.buffered === 0)
      },
      500,
    )
  } catch (e) {
    const st = await run.fleet.ask({ type: 'status' }, 'status')
    run.failures.push(
      `${(e as Error).message}: ${st.devices
        .filter((d) => d.buffered > 0 || !d.finished)
        .map((d) => `${d.deviceId} ${d.buffered} buffered${d.finished ? '' : ', unfinished'}`)
        .join('; ')}`,
    )
  }
}

/** Verdicts as the dashboard shows them, as the regulator would read them. */
export async function readVerdicts(run: ChaosRun, shipmentIds: string[]): Promise<void> {
  for (const id of shipmentIds) {
    const res = await run.http.req('GET', `/api/shipments/${id}`, { cookie: run.sess.regulator })
    if (res.status !== 200) run.failures.push(`GET /api/shipments/${id} answered ${res.status}`)
  }
}

/** Records the peak memory, then stops the system (SIGTERM) and the fleet; a stop that hangs is a finding, then forced. */
export async function stopAll(run: ChaosRun): Promise<void> {
  const { sys } = run
  run.peak.system = Math.max(run.peak.system, peakRssMiB(sys.child.pid))
  run.peak.fleet = peakRssMiB(run.fleet.child.pid)
  sys.child.kill('SIGTERM')
  const stopped = await Promise.race([sys.exited, sleep(30_000).then(() => undefined)])
  if (!stopped) {
    run.events.push('the system did not stop within 30 s of SIGTERM; killed')
    sys.child.kill('SIGKILL')
    await sys.exited
  }
  await run.fleet.ask({ type: 'stop' }, 'stopped')
}

/** Runs `coldproof verify-ledger` on the ledger the faults left; a non-zero exit is a failure. */
export async function verifyLedger(
  ledgerDir: string,
  failures: string[],
): Promise<{ exitCode: number | null; summary: string }> {
  const v = await runCli(['verify-ledger', ledgerDir, '--no-progress'], 600_000)
  if (v.code !== 0)
    failures.push(`coldproof verify-ledger exited ${v.code}: ${(v.stdout + v.stderr).trim().slice(0, 400)}`)
  return {
    exitCode: v.code,
    summary: (v.stdout + v.stderr)
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /verif/i.test(l))
      .slice(0, 1)
      .join('')
      .slice(0, 160),
  }
}
