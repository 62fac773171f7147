/**
 * Failure reporting for the simulator's persisted files; the writes themselves
 * are ledger/protocol/atomic-file.ts's writeFileAtomicSync.
 */

/**
 * Reports failed writes of one persisted file once per failure episode (a
 * full disk fails every write until space returns) and once on recovery.
 */
export type WriteErrorLog = (level: 'warn' | 'info', message: string) => void

export function writeFailureReporter(what: string, log: WriteErrorLog): { failed(e: unknown): void; ok(): void } {
  let failing = false
  return {
    failed(e) {
      if (failing) return
      failing = true
      log('warn', `${what}: write failed (${(e as Error).message}); kept in memory, retried on the next write`)
    },
    ok() {
      if (!failing) return
      failing = false
      log('info', `${what}: written again`)
    },
  }
}
