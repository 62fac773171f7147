/**
 * Password logins (service accounts) under attack. Each check is a scrypt run
 * (~0.1 s and 32 MiB on the libuv threadpool, which LevelDB and the file
 * system share), so a flood of wrong passwords must not be able to start as
 * many as it likes:
 *
 * - Backoff per account and per remote address: after `freeFailures` failed
 *   logins in a row, the next try is refused until
 *   min(maxDelayMs, baseDelayMs × 2^(failures − freeFailures)) has passed since
 *   the last failure, without running scrypt. A success clears both.
 *   An address that logged in to an account successfully (within `trustMs`)
 *   is not held back by that account's backoff, only by its own, so a flood
 *   from elsewhere cannot lock the ingest out of its own account.
 * - At most `concurrency` checks run at once and at most `maxPending` wait or
 *   run; over that a login is refused at once (no queue without bound).
 *
 * Device logins (Ed25519 tokens, ~50 µs) never pass through here.
 */
export interface LoginGuardOptions {
  /** Failures in a row allowed before backoff starts (default 3). */
  freeFailures?: number
  /** First backoff delay, ms (default 1000); doubles with each further failure. */
  baseDelayMs?: number
  /** Longest backoff delay, ms (default 60000). */
  maxDelayMs?: number
  /** Scrypt checks running at once (default 1: service logins are rare). */
  concurrency?: number
  /** Checks running or waiting; above it a login is refused at once (default 8). */
  maxPending?: number
  /** How long a successful address stays exempt from its account's backoff, ms (default 24 h). */
  trustMs?: number
  /** Addresses and accounts tracked at most; the oldest are forgotten first (default 10000). */
  maxTracked?: number
}

export type GuardVerdict = { ok: true } | { ok: false; scope: 'account' | 'address'; retryInMs: number }

interface Failures {
  count: number
  until: number
  last: number
}

export class LoginGuard {
  readonly o: Required<LoginGuardOptions>
  #failures = new Map<string, Failures>()
  #trusted = new Map<string, number>()
  #running = 0
  #waiting: (() => void)[] = []
  /** scrypt checks started, for metrics and tests. */
  checks = 0

  constructor(o: LoginGuardOptions = {}) {
    this.o = {
      freeFailures: 3,
      baseDelayMs: 1000,
      maxDelayMs: 60_000,
      concurrency: 1,
      maxPending: 8,
      trustMs: 24 * 3_600_000,
      maxTracked: 10_000,
      ...o,
    }
    const { freeFailures, baseDelayMs, maxDelayMs, concurrency, maxPending, trustMs, maxTracked } = this.o
    if (
      !(Number.isInteger(freeFailures) && freeFailures >= 0) ||
      !(baseDelayMs > 0) ||
      !(maxDelayMs >= baseDelayMs) ||
      !(Number.isInteger(concurrency) && concurrency >= 1) ||
      !(maxPending >= concurrency) ||
      !(trustMs >= 0) ||
      !(maxTracked >= 1)
    ) {
      throw new RangeError(
        `loginGuard expected freeFailures >= 0, 0 < baseDelayMs <= maxDelayMs, concurrency >= 1, maxPending >= concurrency, got ${JSON.stringify(o)}`,
      )
    }
  }

  /** May this login run its password check now? */
  admit(account: string, address: string, now: number): GuardVerdict {
    const addr = this.#failures.get(`a:${address}`)
    if (addr && addr.until > now) return { ok: false, scope: 'address', retryInMs: addr.until - now }
    const trusted = (this.#trusted.get(`${account}\n${address}`) ?? -Infinity) > now
    const acct = this.#failures.get(`u:${account}`)
    if (!trusted && acct && acct.until > now) return { ok: false, scope: 'account', retryInMs: acct.until - now }
    return { ok: true }
  }

  failed(account: string, address: string, now: number): void {
    for (const key of [`u:${account}`, `a:${address}`]) {
      const f = this.#failures.get(key) ?? { count: 0, until: 0, last: 0 }
      f.count++
      f.last = now
      const over = f.count - this.o.freeFailures
      f.until = over > 0 ? now + Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** Math.min(over - 1, 40)) : 0
      this.#remember(this.#failures, key, f)
    }
  }

  succeeded(account: string, address: string, now: number): void {
    this.#failures.delete(`u:${account}`)
    this.#failures.delete(`a:${address}`)
    this.#remember(this.#trusted, `${account}\n${address}`, now + this.o.trustMs)
  }

  /** Runs `check` within the concurrency bound; 'busy' (and `check` not run) when maxPending are already queued or running. */
  run<T>(check: () => Promise<T>): Promise<T> | 'busy' {
    if (this.pending >= this.o.maxPending) return 'busy'
    // A finishing check hands its slot straight to the next waiting one, so the bound holds exactly.
    let slot: Promise<void>
    if (this.#running < this.o.concurrency) {
      this.#running++
      slot = Promise.resolve()
    } else slot = new Promise<void>((r) => this.#waiting.push(r))
    return slot.then(async () => {
      this.checks++
      try {
        return await check()
      } finally {
        const next = this.#waiting.shift()
        if (next) next()
        else this.#running--
      }
    })
  }

  get pending(): number {
    return this.#running + this.#waiting.length
  }

  #remember<V>(map: Map<string, V>, key: string, v: V): void {
    map.delete(key) // re-insert: Map order is then least recently updated first
    map.set(key, v)
    if (map.size > this.o.maxTracked) map.delete(map.keys().next().value!)
  }
}
