/**
 * The field checks every part of a scenario is validated with: each takes the
 * raw value and its path, and throws ScenarioError naming the path.
 */
import { ScenarioError } from '../errors.ts'

export type Obj = Record<string, unknown>

export const show = (v: unknown): string =>
  v === undefined ? 'nothing' : (JSON.stringify(v)?.slice(0, 60) ?? String(v))

export function obj(v: unknown, path: string, known: readonly string[]): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new ScenarioError(path, `must be an object, got ${show(v)}`)
  for (const k of Object.keys(v)) {
    if (!known.includes(k))
      throw new ScenarioError(path ? `${path}.${k}` : k, `is not a known field (known: ${known.join(', ')})`)
  }
  return v as Obj
}
export function arr(v: unknown, path: string, minLength = 0): unknown[] {
  if (!Array.isArray(v)) throw new ScenarioError(path, `must be an array, got ${show(v)}`)
  if (v.length < minLength) throw new ScenarioError(path, `must have at least ${minLength} item(s), got ${v.length}`)
  return v
}
export function num(v: unknown, path: string, check: 'any' | 'positive' | 'nonneg' = 'any', dflt?: number): number {
  if (v === undefined && dflt !== undefined) return dflt
  const ok = typeof v === 'number' && Number.isFinite(v) && (check === 'any' || (check === 'positive' ? v > 0 : v >= 0))
  if (!ok)
    throw new ScenarioError(
      path,
      `must be a ${check === 'positive' ? 'positive ' : check === 'nonneg' ? 'non-negative ' : ''}number, got ${show(v)}`,
    )
  return v as number
}
export function between(v: unknown, path: string, min: number, max: number, dflt?: number): number {
  const n = num(v, path, 'any', dflt)
  if (n < min || n > max) throw new ScenarioError(path, `must be between ${min} and ${max}, got ${n}`)
  return n
}
export function int(v: unknown, path: string, min: number, max: number, dflt?: number): number {
  const n = between(v, path, min, max, dflt)
  if (!Number.isInteger(n)) throw new ScenarioError(path, `must be an integer, got ${n}`)
  return n
}
export function str(v: unknown, path: string, dflt?: string): string {
  if (v === undefined && dflt !== undefined) return dflt
  if (typeof v !== 'string' || v.length === 0)
    throw new ScenarioError(path, `must be a non-empty string, got ${show(v)}`)
  return v
}
export function bool(v: unknown, path: string, dflt: boolean): boolean {
  if (v === undefined) return dflt
  if (typeof v !== 'boolean') throw new ScenarioError(path, `must be true or false, got ${show(v)}`)
  return v
}
export function time(v: unknown, path: string): number {
  const s = str(v, path)
  const ms = Date.parse(s)
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(s) || Number.isNaN(ms)) {
    throw new ScenarioError(path, `must be an ISO-8601 UTC time such as "2026-11-20T06:00:00Z", got ${show(v)}`)
  }
  return ms
}
