/**
 * Per-device publish rate limit: a token bucket (one per device id, kept
 * across reconnects, so logging in again never refills it) (`burst` tokens, refilled at
 * `perSecond`). A publish over the limit is first held back (the broker stops
 * reading that socket, so TCP slows the client down: a device resending its
 * backlog after an outage is throttled, not locked out, ARCHITECTURE.md decision 11);
 * only a client whose held-back publishes would wait longer than `maxDelayMs`
 * is disconnected.
 */
export interface RateLimitOptions {
  perSecond: number
  burst: number
  maxDelayMs: number
}

export class TokenBucket {
  #tokens: number
  #at: number
  readonly #o: RateLimitOptions

  constructor(o: RateLimitOptions, nowMs: number) {
    if (!(o.perSecond > 0) || !(o.burst >= 1) || !(o.maxDelayMs >= 0)) {
      throw new RangeError(`rate limit expected perSecond > 0, burst >= 1, maxDelayMs >= 0, got ${JSON.stringify(o)}`)
    }
    this.#o = o
    this.#tokens = o.burst
    this.#at = nowMs
  }

  /**
   * Takes one token. Returns the delay in ms before the publish may proceed
   * (0 = now), or -1 if that delay would exceed maxDelayMs (nothing is taken).
   * Tokens may go negative: a held publish reserves its future token.
   */
  /** True when the bucket has refilled to `burst`: it then behaves exactly like a new one. */
  full(nowMs: number): boolean {
    return this.#tokens + (Math.max(0, nowMs - this.#at) * this.#o.perSecond) / 1000 >= this.#o.burst
  }

  take(nowMs: number): number {
    const elapsed = Math.max(0, nowMs - this.#at)
    this.#tokens = Math.min(this.#o.burst, this.#tokens + (elapsed * this.#o.perSecond) / 1000)
    this.#at = nowMs
    const after = this.#tokens - 1
    if (after >= 0) {
      this.#tokens = after
      return 0
    }
    const delay = Math.ceil((-after * 1000) / this.#o.perSecond)
    if (delay > this.#o.maxDelayMs) return -1
    this.#tokens = after
    return delay
  }
}
