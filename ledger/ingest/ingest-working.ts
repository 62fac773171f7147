/**
 * The ingest's predicted per-device sequence state: what the store will hold
 * once everything judged so far is durable, so judging never waits for a commit.
 */
import { chainNext, classifySeq, EMPTY_SEQ_STATE, unholdSeq, type SeqState } from '../store/index.ts'
import type { StoredEntry } from '../tlog/index.ts'
import type { IngestStats } from './ingest.ts'
import { countQuarantined } from './ingest-stats.ts'
import type { Ledger } from '../store/index.ts'
import { decodeReading, fromBase64, GENESIS_PREV_HASH, STATUS, toHex, type DecodedReading } from '../protocol/index.ts'

export const GENESIS_HEX = toHex(GENESIS_PREV_HASH)

/** The reading reports that its device's buffer overflowed (some readings before it are gone for good). */
export const overflows = (r: DecodedReading): boolean => ((r.fields.status ?? 0) & STATUS.BUFFER_OVERFLOW) !== 0

/** A reading's link and exact bytes (base64). */
export interface Link {
  h: string
  p: string
  payload: string
  overflow?: boolean
}

/**
 * A device's sequence state as judged so far (durable + pending, as the store
 * will apply it): chained readings not yet durable, its held readings, the
 * head's hash (so an in-order reading needs no database read), held readings
 * refused as unlinked (kept in memory to prove a fork when another reading of
 * that seq is chained), and whether a fork was logged for it.
 */
export interface Working {
  seq: SeqState
  pending: Map<number, Link>
  held: Map<number, Link>
  headHash: string
  unlinked: Map<number, Link>
  forked: boolean
}

/** Each device's Working state, loaded from the ledger on first use and forgotten when it may be stale. */
export class WorkingStates {
  readonly #byDevice = new Map<string, Working>()
  constructor(private readonly ledger: Ledger) {}

  /** Forgets a device's state (a commit failed, or its head moved outside the ingest): the next judgement reloads it. */
  forget(deviceId: string): void {
    this.#byDevice.delete(deviceId)
  }

  /** The device's state if it is loaded already: judging then needs no await (and no promise per reading). */
  loaded(deviceId: string): Working | undefined {
    return this.#byDevice.get(deviceId)
  }

  async of(deviceId: string): Promise<Working> {
    let w = this.#byDevice.get(deviceId)
    if (!w) {
      const d = this.ledger.device(deviceId)
      w = {
        seq: d ? { contiguous: d.contiguous, highest: d.highest, gaps: d.gaps } : EMPTY_SEQ_STATE,
        pending: new Map(),
        held: new Map(),
        headHash: d && d.contiguous > 0 && d.contiguousHash ? d.contiguousHash : GENESIS_HEX,
        unlinked: new Map(),
        forked: d?.compromised !== undefined,
      }
      if (d && d.highest > d.contiguous)
        for (const r of await this.ledger.heldReadings(deviceId))
          w.held.set(r.seq, {
            h: r.h,
            p: r.p,
            payload: r.payload,
            overflow: overflows(decodeReading(fromBase64(r.payload))),
          })
      this.#byDevice.set(deviceId, w)
    }
    return w
  }

  /** The stored or pending link at a chained seq. */
  async linkAt(
    deviceId: string,
    w: Working,
    seq: number,
  ): Promise<{ h: string; p: string; payload: () => Promise<string> } | undefined> {
    const pending = w.pending.get(seq)
    if (pending) return { ...pending, payload: async () => pending.payload }
    const ledger = this.ledger
    const row = await ledger.readingLink(deviceId, seq)
    return (
      row && {
        h: row.h,
        p: row.p,
        payload: async () => ((await ledger.getEntry(row.i)) as StoredEntry<'reading'>).entry.body.payload,
      }
    )
  }
}

/**
 * Predicts what the store does after the head moved (reading-entries.ts, followHeld):
 * held readings that link are chained, the first that does not is refused.
 * Returns the seqs chained from the held store.
 */
export function followHeld(w: Working, stats: IngestStats): readonly number[] {
  // Usually nothing is held: the shared empty list then, not a new array per reading.
  let chained: number[] | undefined
  for (;;) {
    const next = w.seq.contiguous + 1
    const held = w.held.get(next)
    if (!held || classifySeq(w.seq, next) !== 'held') return chained ?? NONE_CHAINED
    w.held.delete(next)
    if (held.p !== w.headHash) {
      w.seq = unholdSeq(w.seq, next)
      w.unlinked.set(next, held)
      countQuarantined(stats, 'ERR_HELD_UNLINKED')
      return chained ?? NONE_CHAINED
    }
    w.seq = chainNext(w.seq, next)
    w.pending.set(next, held)
    w.headHash = held.h
    chained ??= []
    chained.push(next)
  }
}
const NONE_CHAINED: readonly number[] = Object.freeze([])
