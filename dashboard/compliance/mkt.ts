/**
 * Mean kinetic temperature and time-weighted statistics.
 *
 * MKT (USP <1079.2>, ICH Q1A(R2) glossary), time-weighted for irregular intervals:
 *
 *   MKT = (ΔH/R) / ( -ln( Σ wᵢ·exp(-ΔH/(R·Tᵢ)) / Σ wᵢ ) )      Tᵢ in kelvin, wᵢ the duration at Tᵢ
 *
 * with ΔH = 83.144 kJ/mol and R = 8.3144621 J/(mol·K), so ΔH/R ≈ 10 000 K.
 *
 * Determinism: ECMAScript leaves Math.exp and Math.log implementation-defined
 * (engines may differ in the last bit), which could flip a rounded centi-degree
 * between the server and a regulator's browser. So exp and ln here are built
 * from +, -, *, / only, which IEEE 754 rounds identically everywhere, and the
 * sum runs over temperatures in ascending order. The result is rounded to
 * integer centi-degrees, half to even.
 */

/** ΔH in J/mol (USP <1079.2>: 83.144 kJ/mol). */
export const MKT_DELTA_H = 83_144
/** Gas constant R in J/(mol·K) used with ΔH above. */
export const MKT_GAS_CONSTANT = 8.3144621
const K_OVER_R = MKT_DELTA_H / MKT_GAS_CONSTANT
const KELVIN_OFFSET = 273.15

// ln 2 split in a high part with trailing zero bits and a low correction (Cody-Waite), so k*LN2_HI is exact.
const LN2_HI = 0.6931471803691238
const LN2_LO = 1.9082149292705877e-10
const LN2 = Math.LN2

/** e^x from basic arithmetic only: x = k·ln2 + r, |r| <= ln2/2, Taylor series for e^r, then exact scaling by 2^k. */
export function expDeterministic(x: number): number {
  if (Number.isNaN(x)) return NaN
  if (x > 709.7) return Infinity
  if (x < -745.2) return 0
  const k = Math.round(x / LN2)
  const r = x - k * LN2_HI - k * LN2_LO
  let term = 1
  let sum = 1
  for (let n = 1; n <= 27; n++) {
    term = (term * r) / n
    sum += term
  }
  return scale2(sum, k)
}

function scale2(v: number, k: number): number {
  // Multiplication by a power of two is exact while the result stays normal; split to avoid overflow of 2^k itself.
  while (k > 500) {
    v *= 2 ** 500
    k -= 500
  }
  while (k < -500) {
    v *= 2 ** -500
    k += 500
  }
  return v * 2 ** k
}

/** ln(y) for y > 0 from basic arithmetic only: y = m·2^e with m in [√½, √2), ln m = 2·atanh((m-1)/(m+1)). */
export function lnDeterministic(y: number): number {
  if (Number.isNaN(y) || y < 0) return NaN
  if (y === 0) return -Infinity
  if (y === Infinity) return Infinity
  let e = 0
  let m = y
  while (m >= 2) {
    m /= 2
    e++
  }
  while (m < 1) {
    m *= 2
    e--
  }
  if (m > Math.SQRT2) {
    m /= 2
    e++
  }
  const s = (m - 1) / (m + 1)
  const s2 = s * s
  let term = s
  let sum = 0
  for (let n = 1; n <= 61; n += 2) {
    sum += term / n
    term *= s2
  }
  return 2 * sum + e * LN2_HI + e * LN2_LO
}

/** Rounds to the nearest integer, halves to even (banker's rounding), so the rule has no bias. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x)
  const d = x - f
  if (d > 0.5) return f + 1
  if (d < 0.5) return f
  return f % 2 === 0 ? f : f + 1
}

/** One temperature held for a duration. */
export interface TimedSample {
  tempCentiC: number
  durationMs: number
}

function collect(samples: readonly TimedSample[]): Map<number, number> {
  const m = new Map<number, number>()
  for (const s of samples) {
    if (!Number.isSafeInteger(s.tempCentiC) || !Number.isSafeInteger(s.durationMs) || s.durationMs < 0) {
      throw new RangeError(`sample expected integer tempCentiC and durationMs >= 0, got ${JSON.stringify(s)}`)
    }
    if (s.durationMs > 0) m.set(s.tempCentiC, (m.get(s.tempCentiC) ?? 0) + s.durationMs)
  }
  return m
}

/**
 * MKT in kelvin (unrounded) of a histogram temperature (centi-°C) -> total ms.
 * Null when the total duration is zero.
 */
export function mktKelvinOfHistogram(hist: ReadonlyMap<number, number>): number | null {
  const temps = [...hist.keys()].filter((t) => (hist.get(t) ?? 0) > 0).sort((a, b) => a - b)
  if (temps.length === 0) return null
  // Factor out the hottest term so every exponent is <= 0 and the sum stays in range.
  const tRef = temps[temps.length - 1] / 100 + KELVIN_OFFSET
  let num = 0
  let den = 0
  for (const c of temps) {
    const w = hist.get(c)!
    const tk = c / 100 + KELVIN_OFFSET
    num += w * expDeterministic(K_OVER_R / tRef - K_OVER_R / tk)
    den += w
  }
  return K_OVER_R / (K_OVER_R / tRef - lnDeterministic(num / den))
}

/** MKT of a histogram in integer centi-°C, rounded half to even; null when empty. */
export function mktCentiCOfHistogram(hist: ReadonlyMap<number, number>): number | null {
  const k = mktKelvinOfHistogram(hist)
  return k === null ? null : roundHalfEven((k - KELVIN_OFFSET) * 100)
}

/**
 * Mean kinetic temperature of timed samples, integer centi-°C (half to even), or null when
 * the total duration is zero. Example: mkt([{tempCentiC: 500, durationMs: 6*3600e3}, ...]).
 */
export function mkt(samples: readonly TimedSample[]): number | null {
  return mktCentiCOfHistogram(collect(samples))
}

/** Exact time-weighted mean of a histogram in integer centi-°C (BigInt sums, half to even); null when empty. */
export function meanCentiCOfHistogram(hist: ReadonlyMap<number, number>): number | null {
  let num = 0n
  let den = 0n
  for (const [c, w] of hist) {
    num += BigInt(c) * BigInt(w)
    den += BigInt(w)
  }
  if (den === 0n) return null
  // floor division for negatives, then half-even on the exact remainder
  let q = num / den
  let r = num % den
  if (r < 0n) {
    q -= 1n
    r += den
  }
  const twice = 2n * r
  if (twice > den || (twice === den && q % 2n !== 0n)) q += 1n
  return Number(q)
}

/** Time-weighted mean of timed samples, integer centi-°C, exact, rounded half to even. */
export function timeWeightedMean(samples: readonly TimedSample[]): number | null {
  return meanCentiCOfHistogram(collect(samples))
}
