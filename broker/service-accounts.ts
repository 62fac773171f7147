/**
 * Service accounts (the ingest, operators' tools): a username and a password
 * stored only as a salted scrypt hash (RFC 7914), verified in constant time.
 *
 * The hash format is password-hash.ts's, shared with the dashboard's users.
 */
import { DEFAULT_SCRYPT_COST, hashPassword, type ScryptCost } from './password-hash.ts'

export {
  DEFAULT_SCRYPT_COST,
  parsePasswordHash,
  PasswordHashError,
  verifyPassword as verifyServicePassword,
} from './password-hash.ts'
export type { ScryptCost } from './password-hash.ts'

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

export async function hashServicePassword(password: string, cost: ScryptCost = DEFAULT_SCRYPT_COST): Promise<string> {
  if (typeof password !== 'string' || password.length < 12) {
    throw new RangeError(
      `"password" expected a string of at least 12 characters, got ${typeof password === 'string' ? `length=${password.length}` : typeof password}`,
    )
  }
  return hashPassword(password, cost)
}
