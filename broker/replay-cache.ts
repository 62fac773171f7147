/**
 * Nonces of device tokens already accepted, so a captured token cannot log in
 * twice. An entry is needed only while its token would still pass the clock
 * check (token time + skew); after that the time check refuses it anyway, so
 * the cache stays bounded by the logins of one skew window.
 */
export class ReplayCache {
  readonly #expiry = new Map<string, number>()
  readonly #maxEntries: number

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries
  }

  get size(): number {
    return this.#expiry.size
  }

  /**
   * Records `key` until `expiresAtMs`. Returns 'replayed' if it is already
   * present and unexpired, 'full' if the cache holds maxEntries live entries.
   */
  add(key: string, expiresAtMs: number, nowMs: number): 'added' | 'replayed' | 'full' {
    const seen = this.#expiry.get(key)
    if (seen !== undefined && seen >= nowMs) return 'replayed'
    if (this.#expiry.size >= this.#maxEntries) this.prune(nowMs)
    if (this.#expiry.size >= this.#maxEntries) return 'full'
    this.#expiry.set(key, expiresAtMs)
    return 'added'
  }

  prune(nowMs: number): void {
    for (const [k, exp] of this.#expiry) if (exp < nowMs) this.#expiry.delete(k)
  }
}
