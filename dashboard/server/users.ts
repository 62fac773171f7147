/**
 * Dashboard users, their roles and API tokens, persisted in one JSON file in
 * the data directory (replaced atomically: ledger/protocol/atomic-file.ts).
 *
 * Passwords: scrypt (RFC 7914) in broker/password-hash.ts's format, 16-byte
 * salt, N=2^14, r=8, p=1, 32-byte key, compared in constant time; a hash in an
 * older form (64-byte key, padded base64) is re-hashed at the next successful
 * sign-in. API tokens:
 * `cpt_<id>_<secret>`; only SHA-256(secret) is stored, so a leaked users file
 * does not leak usable tokens.
 */
import { randomBytes, createHash, timingSafeEqual } from 'node:crypto'
import { readFile, mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { ApiError } from './errors.ts'
import { writeFileAtomic } from '../../ledger/protocol/atomic-file.ts'
import {
  hashPassword as hashScrypt,
  verifyPassword as verifyScrypt,
  needsRehash,
  parsePasswordHash,
  PasswordHashError,
  type ScryptCost,
} from '../../broker/password-hash.ts'

export const ROLES = ['operator', 'regulator', 'admin'] as const
export type Role = (typeof ROLES)[number]

export interface PublicUser {
  username: string
  role: Role
}
/** A user as the Users page lists them. A disabled user cannot sign in; their sessions and tokens stop working. */
export interface UserInfo extends PublicUser {
  disabled: boolean
  createdAt: number
}
/** `read-only`: GET only, whatever the owner's role; `role`: what the owner's role allows at the time of use. */
export type TokenScope = 'read-only' | 'role'
export interface TokenInfo {
  id: string
  label: string
  createdAt: number
  lastUsedAt: number | null
  scope: TokenScope
  expiresAt: number | null
}
/** The owner of a valid token, and what the token lets them do. */
export interface TokenUser extends PublicUser {
  tokenScope: TokenScope
}

// scope and expiresAt are absent in tokens made before they existed: full role, no expiry.
interface StoredToken extends Omit<TokenInfo, 'scope' | 'expiresAt'> {
  hash: string
  scope?: TokenScope
  expiresAt?: number | null
}
// disabled is absent in users written before it existed: enabled.
interface StoredUser {
  username: string
  role: Role
  password: string
  createdAt: number
  disabled?: boolean
  tokens: StoredToken[]
}
interface UsersFile {
  format: 'coldproof-users'
  version: 1
  users: StoredUser[]
}

// N = 2^14 (16 MiB, ~0.05 s): signing in is interactive and unknown names cost a check too.
// The format is broker/password-hash.ts's (one format with the broker's service accounts).
export const USER_SCRYPT_COST: ScryptCost = { N: 2 ** 14, r: 8, p: 1 }

export const hashPassword = (password: string): Promise<string> => hashScrypt(password, USER_SCRYPT_COST)
/** False for a wrong password; throws PasswordHashError (ERR_PASSWORD_HASH) for a malformed stored hash. */
export const verifyPassword = (password: string, stored: string): Promise<boolean> => verifyScrypt(password, stored)

const sha256hex = (s: string) => createHash('sha256').update(s).digest('hex')

export interface SeedUser {
  username: string
  password: string
  role: Role
}

export interface UserStore {
  /**
   * Checks a password; null for an unknown user or a wrong password (same work either way).
   * A disabled user with the right password comes back with `disabled: true`: the caller refuses it.
   */
  authenticate(username: string, password: string): Promise<UserInfo | null>
  /**
   * Resolves a bearer token to its owner; null when unknown; throws ERR_AUTH_TOKEN_EXPIRED past
   * its expiry and ERR_AUTH_USER_DISABLED when its owner is disabled.
   */
  authenticateToken(token: string): TokenUser | null
  get(username: string): UserInfo | null
  list(): UserInfo[]
  create(u: SeedUser): Promise<UserInfo>
  update(username: string, change: { password?: string; role?: Role; disabled?: boolean }): Promise<UserInfo>
  remove(username: string): Promise<void>
  listTokens(username: string): TokenInfo[]
  createToken(
    username: string,
    label: string,
    opts?: { scope?: TokenScope; expiresInDays?: number },
  ): Promise<TokenInfo & { token: string }>
  revokeToken(username: string, id: string): Promise<void>
}

export interface UserStoreOptions {
  /** Path of users.json. */
  file: string
  /** Created when absent (start-up demo logins). Existing users are left as they are. */
  seed?: SeedUser[]
  clock?: () => number
}

// A damaged hash fails when the file is opened, naming the user, not as a refused sign-in later.
function checkHashes(file: string, users: StoredUser[]): void {
  for (const u of users) {
    try {
      parsePasswordHash(u.password)
    } catch (e) {
      throw new PasswordHashError(`${file}: user "${u.username}": ${(e as Error).message}`)
    }
  }
}

/** Opens (or creates) the users file. */
export async function openUserStore(opts: UserStoreOptions): Promise<UserStore> {
  const clock = opts.clock ?? Date.now
  let data: UsersFile
  try {
    data = JSON.parse(await readFile(opts.file, 'utf8')) as UsersFile
    if (data.format !== 'coldproof-users' || data.version !== 1 || !Array.isArray(data.users)) {
      throw new Error(`${opts.file} is not a ColdProof users file (format/version)`)
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    data = { format: 'coldproof-users', version: 1, users: [] }
  }
  checkHashes(opts.file, data.users)
  const byName = new Map(data.users.map((u) => [u.username, u]))
  const tokenIndex = new Map<string, { user: StoredUser; token: StoredToken }>()
  for (const u of data.users) for (const tk of u.tokens) tokenIndex.set(tk.id, { user: u, token: tk })
  // A real hash to compare against for unknown users, so timing does not tell which usernames exist.
  const dummy = await hashPassword(randomBytes(16).toString('hex'))
  let writing: Promise<void> = Promise.resolve()
  const save = () => {
    const text = JSON.stringify(data, null, 2) + '\n'
    // After a failed write the next one still runs (it carries all changes so far).
    writing = writing
      .catch(() => undefined)
      .then(async () => {
        await mkdir(dirname(opts.file), { recursive: true })
        await writeFileAtomic(opts.file, text, { mode: 0o600 })
      })
    return writing
  }
  const pub = (u: StoredUser): PublicUser => ({ username: u.username, role: u.role })
  const info = (u: StoredUser): UserInfo => ({
    username: u.username,
    role: u.role,
    disabled: u.disabled === true,
    createdAt: u.createdAt,
  })
  const must = (username: string) => {
    const u = byName.get(username)
    if (!u) throw new ApiError('ERR_USER_NOT_FOUND', `no user "${username}"`, 'params.username')
    return u
  }

  // Before the first user exists the file may be written by `coldproof user add` while this
  // server runs: look again at a sign-in (cheap, and only while there is nobody to sign in).
  const reloadIfEmpty = async () => {
    if (data.users.length > 0) return
    let fresh: UsersFile
    try {
      fresh = JSON.parse(await readFile(opts.file, 'utf8')) as UsersFile
    } catch {
      return
    }
    if (
      fresh.format !== 'coldproof-users' ||
      fresh.version !== 1 ||
      !Array.isArray(fresh.users) ||
      data.users.length > 0
    )
      return
    checkHashes(opts.file, fresh.users)
    data = fresh
    for (const u of data.users) {
      byName.set(u.username, u)
      for (const tk of u.tokens) tokenIndex.set(tk.id, { user: u, token: tk })
    }
  }

  const store: UserStore = {
    async authenticate(username, password) {
      await reloadIfEmpty()
      const u = byName.get(username)
      const ok = await verifyPassword(password, u ? u.password : dummy)
      if (!u || !ok) return null
      // The upgrade path for older hashes: only a sign-in knows the password to re-hash.
      if (needsRehash(u.password, USER_SCRYPT_COST)) {
        u.password = await hashPassword(password)
        // Best effort: a failed write must not refuse a right password (the next sign-in tries again).
        await save().catch(() => undefined)
      }
      return info(u)
    },
    authenticateToken(token) {
      const m = /^cpt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/.exec(token)
      if (!m) return null
      const hit = tokenIndex.get(m[1])
      if (!hit) return null
      const a = Buffer.from(sha256hex(m[2]), 'hex')
      const b = Buffer.from(hit.token.hash, 'hex')
      if (a.length !== b.length || !timingSafeEqual(a, b)) return null
      if (hit.user.disabled) {
        throw new ApiError(
          'ERR_AUTH_USER_DISABLED',
          `the account "${hit.user.username}" is disabled, and so are its API tokens: an admin can enable it on the Users page`,
        )
      }
      const now = clock()
      if (hit.token.expiresAt != null && now >= hit.token.expiresAt) {
        throw new ApiError(
          'ERR_AUTH_TOKEN_EXPIRED',
          `API token "${hit.token.label}" expired at ${new Date(hit.token.expiresAt).toISOString()}: create a new one on the Tokens page`,
        )
      }
      // Kept in memory; persisted with the next write (a per-request disk write is not worth it).
      hit.token.lastUsedAt = now
      return { ...pub(hit.user), tokenScope: hit.token.scope ?? 'role' }
    },
    get(username) {
      const u = byName.get(username)
      return u ? info(u) : null
    },
    list() {
      return data.users.map(info)
    },
    async create({ username, password, role }) {
      if (byName.has(username))
        throw new ApiError('ERR_USER_EXISTS', `user "${username}" already exists`, 'body.username')
      const u: StoredUser = { username, role, password: await hashPassword(password), createdAt: clock(), tokens: [] }
      data.users.push(u)
      byName.set(username, u)
      await save()
      return info(u)
    },
    async update(username, change) {
      const u = must(username)
      if (change.password !== undefined) u.password = await hashPassword(change.password)
      if (change.role !== undefined) u.role = change.role
      if (change.disabled !== undefined) u.disabled = change.disabled
      await save()
      return info(u)
    },
    async remove(username) {
      const u = must(username)
      for (const tk of u.tokens) tokenIndex.delete(tk.id)
      data.users = data.users.filter((x) => x !== u)
      byName.delete(username)
      await save()
    },
    listTokens(username) {
      return must(username).tokens.map(({ id, label, createdAt, lastUsedAt, scope, expiresAt }) => ({
        id,
        label,
        createdAt,
        lastUsedAt,
        scope: scope ?? 'role',
        expiresAt: expiresAt ?? null,
      }))
    },
    async createToken(username, label, o = {}) {
      const u = must(username)
      const id = randomBytes(8).toString('hex')
      const secret = randomBytes(32).toString('base64url')
      // The expiry is the store's clock's, the clock that checks it.
      const scope = o.scope ?? 'role',
        expiresAt = o.expiresInDays === undefined ? null : clock() + o.expiresInDays * 86_400_000
      const tk: StoredToken = {
        id,
        label,
        createdAt: clock(),
        lastUsedAt: null,
        hash: sha256hex(secret),
        scope,
        expiresAt,
      }
      u.tokens.push(tk)
      tokenIndex.set(id, { user: u, token: tk })
      await save()
      return { id, label, createdAt: tk.createdAt, lastUsedAt: null, scope, expiresAt, token: `cpt_${id}_${secret}` }
    },
    async revokeToken(username, id) {
      const u = must(username)
      const i = u.tokens.findIndex((tk) => tk.id === id)
      if (i < 0) throw new ApiError('ERR_TOKEN_NOT_FOUND', `no token "${id}"`, 'params.id')
      u.tokens.splice(i, 1)
      tokenIndex.delete(id)
      await save()
    },
  }
  let seeded = false
  for (const s of opts.seed ?? []) {
    if (byName.has(s.username)) continue
    const u: StoredUser = {
      username: s.username,
      role: s.role,
      password: await hashPassword(s.password),
      createdAt: clock(),
      tokens: [],
    }
    data.users.push(u)
    byName.set(u.username, u)
    seeded = true
  }
  if (seeded) await save()
  return store
}
