/**
 * Backoff after failed sign-ins, per account and per client address: the
 * first `freeFailures` failures cost nothing; after that each further try
 * must wait `baseMs`, doubled per failure, up to `maxMs`. A try inside the
 * wait is refused before the password is hashed, so a flood of wrong
 * passwords costs no scrypt work and cannot stall the server. A success
 * clears the account's count (not the address's: one good account must not
 * reset an address that guesses others). Memory is bounded: at most
 * `maxEntries` keys, the least recently failed forgotten first, and a key is
 * forgotten `forgetAfterMs` after its last failure.
 */
export interface LoginBackoffOptions {
  clock?: () => number
  freeFailures?: number
  baseMs?: number
  maxMs?: number
  forgetAfterMs?: number
  maxEntries?: number
}

export interface LoginBackoff {
  /** Milliseconds the caller must still wait (0 = may try now). */
  waitMs(username: string, address: string): number
  failure(username: string, address: string): void
  success(username: string): void
  size(): number
}

interface Entry {
  failures: number
  last: number
  until: number
}

export function createLoginBackoff(o: LoginBackoffOptions = {}): LoginBackoff {
  const clock = o.clock ?? Date.now
  const free = o.freeFailures ?? 5
  const base = o.baseMs ?? 1000
  const max = o.maxMs ?? 60_000
  const forgetAfter = o.forgetAfterMs ?? 15 * 60_000
  const maxEntries = o.maxEntries ?? 10_000
  const entries = new Map<string, Entry>()
  const live = (key: string, now: number): Entry | undefined => {
    const e = entries.get(key)
    if (e && now - e.last > forgetAfter) {
      entries.delete(key)
      return undefined
    }
    return e
  }
  const bump = (key: string, now: number) => {
    const e = live(key, now) ?? { failures: 0, last: now, until: 0 }
    e.failures++
    e.last = now
    e.until = e.failures > free ? now + Math.min(max, base * 2 ** Math.min(30, e.failures - free - 1)) : 0
    entries.delete(key) // re-insert: Map order is then least recently failed first
    entries.set(key, e)
    while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string)
  }
  return {
    waitMs(username, address) {
      const now = clock()
      const a = live(`u:${username}`, now)?.until ?? 0
      const b = live(`a:${address}`, now)?.until ?? 0
      return Math.max(0, Math.max(a, b) - now)
    },
    failure(username, address) {
      const now = clock()
      bump(`u:${username}`, now)
      bump(`a:${address}`, now)
    },
    success(username) {
      entries.delete(`u:${username}`)
    },
    size() {
      return entries.size
    },
  }
}
