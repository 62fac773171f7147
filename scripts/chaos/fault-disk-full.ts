/**
 * The disk-full fault: fill the ledger's filesystem (a tmpfs) while the fleet
 * publishes, hold it, free it, then see whether the ingest stores again
 * without a restart.
 */
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import type { ChaosRun } from './run-state.ts'
import { sleep, until } from './wait.ts'

/** Injects the fault; returns what happened, as the report's disk-full line. */
export async function diskFullFault(run: ChaosRun): Promise<string> {
  const { quick, sys, http, sess } = run
  const ballast = join(run.sysDir, 'ballast')
  const fd = openSync(ballast, 'w')
  const chunk = Buffer.alloc(1 << 20, 0xab)
  let full = false
  try {
    for (;;) writeSync(fd, chunk)
  } catch (e) {
    full = (e as NodeJS.ErrnoException).code === 'ENOSPC'
  } finally {
    closeSync(fd)
  }
  const holdMs = quick ? 2000 : 8000
  const errBefore = sys.stderr().length
  const died = await Promise.race([sys.exited.then((x) => x), sleep(holdMs).then(() => undefined)])
  unlinkSync(ballast)
  // What the system said while the disk was full (its stderr), if anything.
  const said = sys.stderr().slice(errBefore).trim().split('\n').filter(Boolean).slice(-1)[0]?.slice(0, 200)
  let diskFull = full
    ? `injected for ${holdMs / 1000} s: ${died ? `the system exited (code ${died.code})` : 'the system kept running'}${said ? `; it said: ${said}` : '; nothing on its stderr'}`
    : 'could not fill the filesystem'
  // Without a restart, does the ingest store again? Either the log grows or every logger's buffer empties.
  if (!died) {
    const size = async () =>
      ((await http.req('GET', '/api/ledger', { cookie: sess.admin })).json as { size?: number } | undefined)?.size ?? 0
    const s0 = await size()
    const recoverMs = quick ? 10_000 : 30_000
    try {
      const how = await until(
        'the ledger to store again after the disk was freed',
        recoverMs,
        async () => {
          if ((await size()) > s0) return 'the log grew again'
          const st = await run.fleet.ask({ type: 'status' }, 'status')
          return st.devices.every((d) => d.buffered === 0) ? 'every logger buffer drained' : false
        },
        500,
      )
      diskFull += `; recovered without a restart (${how})`
    } catch {
      diskFull += `; KNOWN FAILURE: the ingest stored nothing in the ${recoverMs / 1000} s after the disk was freed (it recovers at the next restart, and nothing is lost since the loggers keep their buffers)`
    }
  }
  run.bump('disk full, then freed')
  return diskFull
}
