/**
 * The value parsers of the settings: each takes one raw value (a string from
 * a flag or the environment, any JSON value from the file) and returns it
 * typed, or throws a plain message that resolve.ts wraps in a ConfigError.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseWitnessTargets } from '../../ledger/witness/index.ts'

export interface ParseContext {
  /** Relative paths resolve against this: the working directory, or the config file's directory. */
  baseDir: string
}

/** Parses one raw value; throws a plain message. */
export type Parser<T> = (raw: unknown, ctx: ParseContext) => T

const fail = (message: string): never => {
  throw new Error(message)
}

const str = (raw: unknown): string => {
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw)
  if (typeof raw !== 'string') return fail(`expected a string, got ${JSON.stringify(raw)}`)
  if (raw.trim() === '') return fail('must not be empty')
  return raw
}

export const text: Parser<string> = (raw) => str(raw)

export const path: Parser<string> = (raw, ctx) => resolve(ctx.baseDir, str(raw))

export const port: Parser<number> = (raw) => {
  const s = str(raw)
  if (!/^\d+$/.test(s) || Number(s) > 65535) fail(`must be a port number 0..65535, got "${s}"`)
  return Number(s)
}

export const positive: Parser<number> = (raw) => {
  const n = Number(str(raw))
  if (!Number.isFinite(n) || n <= 0) fail(`must be a positive number, got "${String(raw)}"`)
  return n
}

export const integerIn =
  (allowed: readonly number[], what: string): Parser<number> =>
  (raw) => {
    const s = str(raw)
    if (!/^\d+$/.test(s) || !allowed.includes(Number(s))) fail(`must be ${what}, got "${s}"`)
    return Number(s)
  }

export const bool: Parser<boolean> = (raw) => {
  if (typeof raw === 'boolean') return raw
  const s = typeof raw === 'string' ? raw.trim().toLowerCase() : ''
  if (['1', 'true', 'yes', 'on'].includes(s)) return true
  if (['0', 'false', 'no', 'off'].includes(s)) return false
  return fail(`must be true or false (1/0, yes/no), got ${JSON.stringify(raw)}`)
}

export const brokerUrl: Parser<string> = (raw) => {
  const s = str(raw)
  let u: URL
  try {
    u = new URL(s)
  } catch {
    return fail(`"${s}" is not a URL (expected mqtt://host:port or mqtts://host:port)`)
  }
  if (!['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'ssl:'].includes(u.protocol))
    fail(`must use mqtt:, mqtts:, ws: or wss:, got "${u.protocol}"`)
  return s
}

export const origin: Parser<string> = (raw) => {
  const s = str(raw)
  let u: URL | null = null
  try {
    u = new URL(s)
  } catch {
    /* below */
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.origin !== s.replace(/\/$/, '')) {
    fail(`expected an origin such as https://coldproof.example.com (scheme, host, optional port; no path), got "${s}"`)
  }
  return u!.origin
}

/** A bearer secret: long enough that guessing it over HTTP is hopeless. */
export const token: Parser<string> = (raw) => {
  const s = str(raw)
  if (s.length < 16) fail(`must be at least 16 characters (got ${s.length}); e.g. openssl rand -base64 24`)
  if (/\s/.test(s)) fail('must not contain white space')
  return s
}

/** A readable PEM file (certificate or key); the pair is checked together in cross-check.ts. */
export const pemFile =
  (kind: 'CERTIFICATE' | 'PRIVATE KEY'): Parser<string> =>
  (raw, ctx) => {
    const p = path(raw, ctx)
    let body: string
    try {
      body = readFileSync(p, 'utf8')
    } catch (e) {
      return fail(`cannot read ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
    }
    if (!new RegExp(`-----BEGIN [A-Z ]*${kind}-----`).test(body))
      fail(`${p} holds no PEM ${kind.toLowerCase()} (-----BEGIN ${kind}-----)`)
    return p
  }

export const witnesses: Parser<string[]> = (raw) => {
  const list = Array.isArray(raw) ? raw.map(str) : [str(raw)]
  parseWitnessTargets(list)
  return list
}
