/**
 * Password hashes: salted scrypt (RFC 7914), the one format for the broker's
 * service accounts and the dashboard's users. Depends on node:crypto only, so
 * the dashboard imports this file without loading the broker.
 *
 * Written: scrypt$<N>$<r>$<p>$<salt base64url>$<key base64url> (16-byte salt,
 * 32-byte key, no padding). The cost is in the string and the salt and key
 * lengths follow from their encodings, so any hash verifies wherever it was made.
 * Also read: the dashboard's earlier form (standard base64 with padding, 64-byte
 * key); `needsRehash` tells a caller that can store a new hash to replace it.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

export interface ScryptCost {
  N: number
  r: number
  p: number
}
/** N = 2^15, r = 8, p = 1: 32 MiB and ~0.1 s per check. */
export const DEFAULT_SCRYPT_COST: ScryptCost = { N: 2 ** 15, r: 8, p: 1 }
export const KEY_LENGTH = 32
const SALT_LENGTH = 16
// Bounds on what a hash string may ask for: a typo must not allocate gigabytes.
const MAX_N = 2 ** 20
const MAX_MEMORY = 1024 ** 3

export class PasswordHashError extends TypeError {
  readonly code = 'ERR_PASSWORD_HASH'
  constructor(message: string) {
    super(message)
    this.name = 'PasswordHashError'
  }
}

export interface ParsedHash {
  cost: ScryptCost
  salt: Buffer
  key: Buffer /** false for the older base64-with-padding form */
  canonical: boolean
}

function scryptAsync(password: Buffer, salt: Buffer, keyLength: number, cost: ScryptCost): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem must cover 128 * N * r bytes (RFC 7914 section 2) with headroom.
    scrypt(password, salt, keyLength, { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    )
  })
}

function checkCost(cost: ScryptCost): string | null {
  const { N, r, p } = cost
  if (!Number.isSafeInteger(N) || N < 2 || N > MAX_N || (N & (N - 1)) !== 0)
    return `N must be a power of two from 2 to 2^20, got ${N}`
  if (!Number.isSafeInteger(r) || r < 1 || r > 32) return `r must be an integer from 1 to 32, got ${r}`
  if (!Number.isSafeInteger(p) || p < 1 || p > 16) return `p must be an integer from 1 to 16, got ${p}`
  if (128 * N * r > MAX_MEMORY)
    return `N=${N} with r=${r} needs ${(128 * N * r) / 1024 ** 2} MiB, more than the 1024 MiB allowed`
  return null
}

export async function hashPassword(password: string, cost: ScryptCost = DEFAULT_SCRYPT_COST): Promise<string> {
  if (typeof password !== 'string') throw new TypeError(`"password" expected a string, got ${typeof password}`)
  const bad = checkCost(cost)
  if (bad) throw new RangeError(`scrypt cost: ${bad}`)
  const salt = randomBytes(SALT_LENGTH)
  const key = await scryptAsync(Buffer.from(password, 'utf8'), salt, KEY_LENGTH, cost)
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64url')}$${key.toString('base64url')}`
}

// Strict: the text must be exactly what encoding the bytes gives back, so a stray or missing character is an error.
function decode(field: string, text: string): { bytes: Buffer; canonical: boolean } {
  if (/^[A-Za-z0-9_-]+$/.test(text)) {
    const bytes = Buffer.from(text, 'base64url')
    if (bytes.toString('base64url') === text) return { bytes, canonical: true }
  } else if (/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    const bytes = Buffer.from(text, 'base64')
    if (bytes.toString('base64') === text) return { bytes, canonical: false }
  }
  throw new PasswordHashError(
    `password hash: the ${field} is not base64url (or padded base64): ${JSON.stringify(text.slice(0, 12))}`,
  )
}

/** Throws PasswordHashError naming the part that is wrong; never echoes the whole string. */
export function parsePasswordHash(hash: string): ParsedHash {
  if (typeof hash !== 'string') throw new PasswordHashError(`password hash: expected a string, got ${typeof hash}`)
  const parts = hash.split('$')
  if (parts[0] !== 'scrypt')
    throw new PasswordHashError(
      `password hash: expected it to start with "scrypt$", got ${JSON.stringify(hash.slice(0, 8))}`,
    )
  if (parts.length !== 6)
    throw new PasswordHashError(
      `password hash: expected 6 "$"-separated fields scrypt$N$r$p$salt$key, got ${parts.length}`,
    )
  const [N, r, p] = parts.slice(1, 4).map((s) => (/^[0-9]{1,8}$/.test(s) ? Number(s) : Number.NaN))
  const bad = checkCost({ N, r, p })
  if (bad) throw new PasswordHashError(`password hash: ${bad}`)
  const salt = decode('salt', parts[4])
  const key = decode('key', parts[5])
  if (salt.bytes.length > 64)
    throw new PasswordHashError(`password hash: the salt must be 1 to 64 bytes, got ${salt.bytes.length}`)
  if (key.bytes.length < 16 || key.bytes.length > 64)
    throw new PasswordHashError(`password hash: the key must be 16 to 64 bytes, got ${key.bytes.length}`)
  return { cost: { N, r, p }, salt: salt.bytes, key: key.bytes, canonical: salt.canonical && key.canonical }
}

/** True when the password matches; throws PasswordHashError for a malformed hash. */
export async function verifyPassword(password: Buffer | string, hash: string): Promise<boolean> {
  const h = parsePasswordHash(hash)
  const pw = typeof password === 'string' ? Buffer.from(password, 'utf8') : password
  const key = await scryptAsync(pw, h.salt, h.key.length, h.cost)
  return timingSafeEqual(key, h.key)
}

/** True when `hash` is not what hashPassword(…, cost) writes today: re-hash after the next successful check. */
export function needsRehash(hash: string, cost: ScryptCost = DEFAULT_SCRYPT_COST): boolean {
  const h = parsePasswordHash(hash)
  return (
    !h.canonical ||
    h.key.length !== KEY_LENGTH ||
    h.salt.length !== SALT_LENGTH ||
    h.cost.N !== cost.N ||
    h.cost.r !== cost.r ||
    h.cost.p !== cost.p
  )
}
