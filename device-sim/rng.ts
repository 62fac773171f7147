/**
 * Seeded pseudo-random numbers for reproducible simulations. Not for keys.
 *
 * mulberry32 (Tommy Ettinger's 32-bit generator, public domain): one 32-bit
 * state word, period 2^32, good enough statistical quality for noise and
 * door-opening events, and trivially portable.
 */
import { sha256 } from '@noble/hashes/sha2.js'

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number
  /** Standard normal (mean 0, sd 1). */
  gaussian(): number
}

export function createRng(seed: number): Rng {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    gaussian() {
      // Box–Muller; 1 - u keeps the logarithm's argument in (0, 1].
      const u = 1 - next()
      const v = next()
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
    },
  }
}

/** A 32-bit seed for a named stream (a device, a shipment) derived from the run's seed. */
export function deriveSeed(seed: number, name: string): number {
  const h = sha256(new TextEncoder().encode(`${seed >>> 0}:${name}`))
  return ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0
}
