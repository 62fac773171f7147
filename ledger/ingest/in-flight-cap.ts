/**
 * At most `cap` messages in flight in the ingest (handed over, outcome not
 * durable yet, so not acknowledged). Beyond it a message waits here, and
 * because mqtt.js reads its next packet only after the current one's
 * `handleMessage` callback, the ingest stops reading its socket: the backlog
 * stays in the broker's flow control (TCP backpressure, then each publishing
 * device's connection) instead of in the ingest's heap.
 */
export class InFlightCap {
  readonly cap: number
  #inFlight = 0
  #peak = 0
  #waits = 0
  #parked: (() => Promise<unknown> | undefined)[] = []

  constructor(cap: number) {
    if (!Number.isSafeInteger(cap) || cap < 1)
      throw new RangeError(`ingest option maxInFlight must be a positive integer, got ${cap}`)
    this.cap = cap
  }

  /** Messages in flight now. */
  get inFlight(): number {
    return this.#inFlight
  }
  /** The most in flight at once so far. */
  get peak(): number {
    return this.#peak
  }
  /** How many messages had to wait for room. */
  get waits(): number {
    return this.#waits
  }

  /**
   * Runs `start` now if there is room, else once there is (in arrival order).
   * `start` returns the message's outcome promise, which holds its place until
   * it settles, or undefined when it took no message in.
   */
  admit(start: () => Promise<unknown> | undefined): void {
    if (this.#inFlight < this.cap && this.#parked.length === 0) {
      this.#launch(start)
    } else {
      this.#waits++
      this.#parked.push(start)
    }
  }

  #launch(start: () => Promise<unknown> | undefined): void {
    // Counted before `start` runs: its handleMessage callback can make mqtt.js hand over the next
    // message synchronously, and that one must see this one in flight.
    this.#inFlight++
    let outcome: Promise<unknown> | undefined
    try {
      outcome = start()
    } finally {
      if (!outcome) this.#settle()
    }
    if (!outcome) return
    if (this.#inFlight > this.#peak) this.#peak = this.#inFlight
    const settle = () => this.#settle()
    outcome.then(settle, settle)
  }

  #settle(): void {
    this.#inFlight--
    while (this.#parked.length > 0 && this.#inFlight < this.cap) this.#launch(this.#parked.shift()!)
  }
}
