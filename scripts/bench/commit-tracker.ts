/**
 * Counting commits for the pipeline stages: every committed reading of the
 * ingest, with its wall-clock stamp while recording, and a wait for a target
 * count that fails the stage by name when nothing commits for a minute.
 */
import type { Ingest, ReadingCommitted } from '../../ledger/ingest/index.ts'
import { StageFailed, wallMs } from './figures.ts'

/** What a stage waits on: the wall time (ms) the commit count reached `target`. */
export interface CommitWaiter {
  until(target: number, stage: string): Promise<number>
}

/** Counts committed readings and, while recording, stamps each commit (wall ms). */
export function commitTracker(ingest: Ingest) {
  let count = 0
  let stamps: Map<string, number> | null = null
  ingest.on('reading', (r: ReadingCommitted) => {
    count++
    stamps?.set(`${r.deviceId}/${r.seq}`, wallMs())
  })
  return {
    count: () => count,
    record() {
      stamps = new Map()
    },
    take(): Map<string, number> {
      const s = stamps ?? new Map()
      stamps = null
      return s
    },
    /** Resolves at the wall time the count reached `target`; fails if nothing commits for `stallMs`. */
    until(target: number, stage: string, stallMs = 60_000): Promise<number> {
      return new Promise((resolve, reject) => {
        let last = count
        let lastMove = performance.now()
        const check = () => {
          if (count >= target) return resolve(wallMs())
          if (count !== last) {
            last = count
            lastMove = performance.now()
          }
          if (performance.now() - lastMove > stallMs)
            return reject(
              new StageFailed(
                stage,
                `${target - count} readings were never committed (stalled ${stallMs / 1000} s; quarantined: ${JSON.stringify(ingest.stats().quarantineByReason)})`,
              ),
            )
          setTimeout(check, 2)
        }
        check()
      })
    },
  }
}
