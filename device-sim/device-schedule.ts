/** Where a (re)started device stands: its chain state reconciled with its buffer, and its next sample time. */
import type { ChainState, ChainStateStore } from './chain-state.ts'
import type { ReadingBuffer } from './store-and-forward.ts'

/** The saved chain state, moved forward to the buffer's last reading when a crash came between the two writes. */
export function resumeChainState(
  chain: ChainStateStore,
  buffer: ReadingBuffer,
  startMs: number,
  intervalMs: number,
): ChainState {
  let state: ChainState = chain.load()
  const last = buffer.last()
  if (last && last.seq > state.seq) {
    // Crash between buffer append and state write: the buffer is the truth. Seq 1 is
    // sampled at the start, so with no state saved yet the schedule counts from there.
    const base = state.seq === 0 ? startMs - intervalMs : state.sampledAtMs
    state = { seq: last.seq, head: last.hash, sampledAtMs: base + (last.seq - state.seq) * intervalMs }
    chain.save(state)
  }
  return state
}

/** The schedule resumes after the last sample (a restart continues, never repeats); undefined past the end. */
export function nextSampleTime(
  state: ChainState,
  startMs: number,
  endMs: number,
  intervalMs: number,
): number | undefined {
  let next = startMs
  if (state.sampledAtMs >= startMs)
    next = startMs + (Math.floor((state.sampledAtMs - startMs) / intervalMs) + 1) * intervalMs
  return next > endMs ? undefined : next
}
