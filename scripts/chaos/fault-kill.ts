/**
 * The kill fault: SIGKILL of the system process, so broker (its in-memory
 * queue), ingest, ledger and dashboard go down together; then a restart on
 * the same data and ports, with fresh sessions.
 */
import { peakRssMiB } from './peak-rss.ts'
import { signIn, type ChaosRun } from './run-state.ts'
import { spawnSystem } from './system-proc.ts'

/** Kill number `k` of the run. */
export async function killAndRestart(run: ChaosRun, k: number): Promise<void> {
  run.peak.system = Math.max(run.peak.system, peakRssMiB(run.sys.child.pid))
  const alive = run.sys.child.exitCode === null && run.sys.child.signalCode === null
  if (alive) {
    run.sys.child.kill('SIGKILL')
    run.bump('system (broker + ingest) SIGKILL')
  } else
    run.events.push(`kill ${k}: the system had already exited: ${run.sys.stderr().trim().split('\n').slice(-1)[0]}`)
  await run.sys.exited
  const tk = Date.now()
  run.sys = await spawnSystem(run.sysDir, run.ports.http, run.ports.mqtt, run.graceMs)
  run.log(`restart took ${Date.now() - tk} ms`)
  ;({ http: run.http, sess: run.sess } = await signIn(run.sys.url, run.tally, run.logins))
  run.bump('system restarted')
}
