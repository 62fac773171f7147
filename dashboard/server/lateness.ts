/**
 * Which readings arrived late: a small pure helper of the FleetMonitor.
 */
/** Recent readings whose receive offset forms the fleet's baseline. */
const BASELINE_WINDOW = 256

/**
 * Lateness. A reading's receive offset is (ledger receive time − device time).
 * The fleet's baseline is the smallest offset among the last readings received
 * (≈ transmission latency with UTC-synced loggers). A reading is late when its
 * offset exceeds the baseline by more than the threshold (2 sampling
 * intervals): it sat in a device buffer. Measuring against the baseline rather
 * than against zero keeps this right when device time runs on a simulated,
 * accelerated clock (the demo): there the live offset shrinks steadily, and a
 * buffered reading's excess over it is exactly its delay in device time.
 */
export function createLateness(window = BASELINE_WINDOW) {
  const ring = new Float64Array(window)
  let n = 0
  return {
    /** The reading's delay beyond the baseline, ms (0 when it sets a new baseline); records its offset. */
    excess(receivedAt: number, deviceTimeMs: number): number {
      const offset = receivedAt - deviceTimeMs
      let base = offset
      for (let i = 0; i < Math.min(n, window); i++) if (ring[i] < base) base = ring[i]
      ring[n % window] = offset
      n++
      return offset - base
    },
  }
}
