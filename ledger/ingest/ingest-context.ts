/**
 * What the ingest's parts share: its settings (defaults filled in, checked),
 * the ledger, counters, predicted device states, the receipt sender, and the
 * one queue that keeps judging and gap declarations in arrival order.
 */
import type { EventEmitter } from 'node:events'
import type { IngestOptions, IngestStats } from './ingest.ts'
import type { DeviceNotices } from './ingest-receipts.ts'
import type { WorkingStates } from './ingest-working.ts'
import type { Ledger } from '../store/index.ts'
import type { VerifyPool } from './verify-pool.ts'
import { defaultVerifyThreads } from './verify-pool.ts'

export interface IngestSettings {
  clientId: string
  resendIntervalMs: number
  maxQuarantineBytes: number
  overflowGraceMs: number
  resendDeadlineMs: number
  gapCheckIntervalMs: number
  maxHeldPerDevice: number
  maxHeldAhead: number
  verifyThreads: number
}

/** Fills in the defaults (documented on IngestOptions) and throws a RangeError naming a bad option. */
export function ingestSettings(opts: IngestOptions): IngestSettings {
  const { clientId = 'coldproof-ingest', resendIntervalMs = 2000, maxQuarantineBytes = 4096 } = opts
  const {
    overflowGraceMs = 60_000,
    resendDeadlineMs = 24 * 3_600_000,
    gapCheckIntervalMs = 5000,
    maxHeldPerDevice = 1000,
    maxHeldAhead = 10_000,
  } = opts
  for (const [k, v] of [
    ['maxHeldPerDevice', maxHeldPerDevice],
    ['maxHeldAhead', maxHeldAhead],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 1)
      throw new RangeError(`ingest option ${k} must be a positive integer, got ${v}`)
  }
  const verifyThreads = opts.verifyThreads ?? defaultVerifyThreads()
  if (!Number.isSafeInteger(verifyThreads) || verifyThreads < 0)
    throw new RangeError(`ingest option verifyThreads must be a non-negative integer, got ${verifyThreads}`)
  return {
    clientId,
    resendIntervalMs,
    maxQuarantineBytes,
    overflowGraceMs,
    resendDeadlineMs,
    gapCheckIntervalMs,
    maxHeldPerDevice,
    maxHeldAhead,
    verifyThreads,
  }
}

const ignore = (): undefined => undefined

/** Runs tasks one after another in submit order; a failed task does not stop the next. */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve()
  run<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(task)
    this.#tail = run.catch(ignore)
    return run
  }
  /** Settles once everything submitted so far has run. */
  idle(): Promise<unknown> {
    return this.#tail
  }
}

export interface IngestContext {
  ledger: Ledger
  s: IngestSettings
  clock: () => number
  stats: IngestStats
  emitter: EventEmitter
  pool: VerifyPool
  working: WorkingStates
  notices: DeviceNotices
  queue: SerialQueue
}
