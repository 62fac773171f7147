/**
 * Where a rule profile comes from: one of ColdProof's built-in profiles (its
 * hash is one this code ships, builtin-hashes.ts), a custom profile (an id
 * that is not a built-in's), or a custom profile passed off as a built-in (a
 * built-in id whose hash is not the shipped one). Built-in ids are reserved:
 * the API refuses a custom profile under one, and the offline verifier
 * refuses a bundle whose profile impersonates one. Pure.
 */
import { BUILTIN_PROFILE_HASHES } from './builtin-hashes.ts'
import { BUILTIN_PROFILES } from './builtin-profiles.ts'

export type ProfileOrigin =
  | { kind: 'builtin'; id: string; version: number }
  | { kind: 'custom'; id: string; version: number }
  /** A built-in id with another hash; `builtinHash` is the shipped hash of that version, null when the built-in has no such version. */
  | { kind: 'impersonation'; id: string; version: number; builtinHash: string | null; knownVersions: number[] }

/** Classifies a profile by its `id` and `version` and the hash it was logged (or computed) with. */
export function profileOrigin(profile: { id?: unknown; version?: unknown }, hash: string): ProfileOrigin {
  const id = String(profile.id)
  const version = typeof profile.version === 'number' ? profile.version : NaN
  const known = Object.hasOwn(BUILTIN_PROFILE_HASHES, id) ? BUILTIN_PROFILE_HASHES[id] : undefined
  if (!known) return { kind: 'custom', id, version }
  const builtinHash = Object.hasOwn(known, version) ? known[version] : null
  if (builtinHash === hash) return { kind: 'builtin', id, version }
  return {
    kind: 'impersonation',
    id,
    version,
    builtinHash,
    knownVersions: Object.keys(known)
      .map(Number)
      .sort((a, b) => a - b),
  }
}

/** Why an impersonating profile is not the built-in, in one sentence. */
export function impersonationMessage(o: Extract<ProfileOrigin, { kind: 'impersonation' }>, hash: string): string {
  return o.builtinHash
    ? `the profile claims the built-in id "${o.id}" v${o.version} but hashes to ${hash}; the built-in "${o.id}" v${o.version} hashes to ${o.builtinHash}`
    : `the profile claims the built-in id "${o.id}" v${o.version}, a version the built-in never had (released: ${o.knownVersions.map((v) => `v${v}`).join(', ')})`
}

const normalName = (s: string) => s.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim()
const BUILTIN_NAMES = new Set(Object.values(BUILTIN_PROFILES).map((p) => normalName(p.name)))

/** True when `name` reads as a built-in profile's name (case and spacing aside). */
export function isBuiltinName(name: string): boolean {
  return BUILTIN_NAMES.has(normalName(name))
}
