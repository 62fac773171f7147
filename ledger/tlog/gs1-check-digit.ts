/**
 * The GS1 mod-10 check digit (GS1 General Specifications 7.9.1), the one
 * definition for the entry codec and the dashboard's GS1 validation. Pure.
 */

/**
 * The check digit of `body` (the digits before it): from the right, weights
 * 3, 1, 3, 1 ...; the check digit brings the sum up to a multiple of ten.
 */
export function gs1CheckDigit(body: string): number {
  if (!/^[0-9]+$/.test(body)) throw new TypeError(`"body" expected digits, got ${JSON.stringify(body)}`)
  let sum = 0
  let weight = 3
  for (let i = body.length - 1; i >= 0; i--) {
    sum += (body.charCodeAt(i) - 48) * weight
    weight = 4 - weight
  }
  return (10 - (sum % 10)) % 10
}

/** True when the last digit of `digits` is the check digit of the others. */
export function gs1CheckDigitOk(digits: string): boolean {
  return /^[0-9]{2,}$/.test(digits) && gs1CheckDigit(digits.slice(0, -1)) === digits.charCodeAt(digits.length - 1) - 48
}
