/**
 * Service accounts (the ingest, operators' tools): a username and a password
 * stored only as a salted scrypt hash (RFC 7914), verified in constant time.
 *
 * Hash string: scrypt$<N>$<r>$<p>$<salt base64url>$<key base64url>
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

export type ServiceRole = 'ingest' | 'observer'

export interface ServiceAccount {
  /** From hashServicePassword(); never the password itself. */
  passwordHash: string
  /**
   * ingest: subscribe readings, publish receipts and resend requests.
   * observer: subscribe readings, receipts and resend requests; publish nothing.
   */
  role: ServiceRole
  /** Partitions (0..15) the account may use; all when omitted. */
  partitions?: readonly number[]
}

export interface ScryptCost { N: number; r: number; p: number }
/** N = 2^15, r = 8, p = 1: 32 MiB and ~0.1 s per check here; service logins are rare. */
export const DEFAULT_SCRYPT_COST: ScryptCost = { N: 2 ** 15, r: 8, p: 1 }
const KEY_LENGTH = 32
const SALT_LENGTH = 16

function scryptAsync(password: Buffer, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem must cover 128 * N * r bytes (RFC 7914 section 2) with headroom.
    scrypt(password, salt, KEY_LENGTH, { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)))
  })
}

export async function hashServicePassword(password: string, cost: ScryptCost = DEFAULT_SCRYPT_COST): Promise<string> {
  if (typeof password !== 'string' || password.length < 12) {
    throw new RangeError(`"password" expected a string of at least 12 characters, got ${typeof password === 'string' ? `length=${password.length}` : typeof password}`)
  }
  const salt = randomBytes(SALT_LENGTH)
  const key = await scryptAsync(Buffer.from(password, 'utf8'), salt, cost)
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64url')}$${key.toString('base64url')}`
}

interface ParsedHash { cost: ScryptCost; salt: Buffer; key: Buffer }

/** Throws TypeError for a hash string this module did not produce. */
export function parsePasswordHash(hash: string): ParsedHash {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(String(hash))
  const bad = (): never => { throw new TypeError(`"passwordHash" expected scrypt$N$r$p$salt$key from hashServicePassword(), got ${JSON.stringify(String(hash).slice(0, 12))}...`) }
  if (!m) return bad()
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])]
  if (N < 2 || (N & (N - 1)) !== 0 || r < 1 || p < 1 || N > 2 ** 20) return bad()
  const key = Buffer.from(m[5], 'base64url')
  if (key.length !== KEY_LENGTH) return bad()
  return { cost: { N, r, p }, salt: Buffer.from(m[4], 'base64url'), key }
}

export async function verifyServicePassword(password: Buffer | string, hash: string): Promise<boolean> {
  const h = parsePasswordHash(hash)
  const pw = typeof password === 'string' ? Buffer.from(password, 'utf8') : password
  const key = await scryptAsync(pw, h.salt, h.cost)
  return timingSafeEqual(key, h.key)
}
