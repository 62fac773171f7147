/**
 * Publishes held back by the rate limit. Those of one client are released
 * strictly in arrival order (one timer per client; separate timers could fire
 * out of order on a tie), so throttling never reorders a device's readings.
 * Due times use the monotonic clock: the broker's `clock` may be a test's frozen clock.
 */
import type { Client } from 'aedes'

type Held = { queue: { due: number; release: () => void }[]; timer?: NodeJS.Timeout }

export class HeldPublishes {
  readonly #byClient = new WeakMap<Client, Held>()
  /** Clients with a timer pending, so close() can clear them. */
  readonly #waiting = new Set<Held>()

  /** True while the client has publishes waiting: a new one must queue behind them. */
  has(client: Client): boolean {
    return !!this.#byClient.get(client)?.queue.length
  }

  /** True once the client has been held back on this connection. */
  seen(client: Client): boolean {
    return this.#byClient.has(client)
  }

  hold(client: Client, delayMs: number, release: () => void): void {
    let h = this.#byClient.get(client)
    if (!h) this.#byClient.set(client, (h = { queue: [] }))
    const last = h.queue.length ? h.queue[h.queue.length - 1].due : 0
    h.queue.push({ due: Math.max(performance.now() + delayMs, last), release })
    if (!h.timer) this.#schedule(h)
  }

  /** Drops every pending release (on close). */
  clear(): void {
    for (const h of this.#waiting) clearTimeout(h.timer)
    this.#waiting.clear()
  }

  #schedule(h: Held): void {
    h.timer = setTimeout(
      () => {
        h.timer = undefined
        this.#waiting.delete(h)
        const now = performance.now()
        while (h.queue.length && h.queue[0].due <= now) h.queue.shift()!.release()
        if (h.queue.length) this.#schedule(h)
      },
      Math.max(0, Math.ceil(h.queue[0].due - performance.now())),
    )
    this.#waiting.add(h)
  }
}
