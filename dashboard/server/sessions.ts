/**
 * Login sessions, in memory: a restart logs everyone out, which is the safe
 * default for a tool that holds no state a user would lose. Ids are 256 random
 * bits; expiry slides with use.
 */
import { randomBytes } from 'node:crypto'

export interface Session {
  id: string
  username: string
  createdAt: number
  expiresAt: number
}

export interface SessionStore {
  create(username: string): Session
  /** The live session with this id (extending its expiry), or null. */
  touch(id: string): Session | null
  drop(id: string): void
  dropUser(username: string): void
  size(): number
}

export function createSessionStore({
  ttlMs = 12 * 3600_000,
  clock = Date.now,
}: {
  ttlMs?: number
  clock?: () => number
} = {}): SessionStore {
  const sessions = new Map<string, Session>()
  const sweep = () => {
    const now = clock()
    for (const [id, s] of sessions) if (s.expiresAt <= now) sessions.delete(id)
  }
  return {
    create(username) {
      if (sessions.size > 10_000) sweep()
      const now = clock()
      const s: Session = { id: randomBytes(32).toString('base64url'), username, createdAt: now, expiresAt: now + ttlMs }
      sessions.set(s.id, s)
      return s
    },
    touch(id) {
      const s = sessions.get(id)
      if (!s) return null
      const now = clock()
      if (s.expiresAt <= now) {
        sessions.delete(id)
        return null
      }
      s.expiresAt = now + ttlMs
      return s
    },
    drop(id) {
      sessions.delete(id)
    },
    dropUser(username) {
      for (const [id, s] of sessions) if (s.username === username) sessions.delete(id)
    },
    size() {
      return sessions.size
    },
  }
}
