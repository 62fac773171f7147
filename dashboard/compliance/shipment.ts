/**
 * evaluateShipment: every sensor of a shipment folded from scratch, the
 * shipment verdict (the worst sensor decides) and all reasons. The result is
 * plain JSON of integers, strings, booleans and nulls, so it serialises with
 * ledger/tlog/canonical-json.ts and a verifier can compare a recomputed result
 * with a claimed one byte for byte.
 */
import { validateProfile, profileHash as hashOf } from './profile.ts'
import { ComplianceError } from './errors.ts'
import { createSensorEvaluator, checkEngineReading } from './sensor-evaluator.ts'
import type { EngineReading } from './engine.ts'
import type { TimeWindow, UnjudgedWindow } from './judged-time.ts'
import { worst, VERDICT_ORDER, type Reason, type SensorResult, type Verdict } from './verdict.ts'

export const RESULT_FORMAT = 'coldproof-compliance-result'
/** Bumped whenever a change to the engine can change a result for the same input. */
export const ENGINE_VERSION = 3

/** A device whose chain the caller (ledger integrity check / bundle verifier) found broken. */
export interface ChainBreak {
  deviceId: string
  atSeq: number
  reason: string
}

/**
 * What the log says about the evidence beyond the readings (docs/BUNDLE.md): the person closing
 * confirmed that it ends early (deviceId ''), a range of a logger's readings was declared lost,
 * or a logger signed two readings with one seq (its readings from atSeq on are left out by the caller).
 * Each makes the evidence incomplete.
 */
export interface EvidenceNotice {
  deviceId: string
  code: 'EVIDENCE_ENDS_EARLY' | 'DECLARED_GAP' | 'DEVICE_COMPROMISED'
  atSeq: number
  message: string
}
const NOTICE_CODES: readonly string[] = ['EVIDENCE_ENDS_EARLY', 'DECLARED_GAP', 'DEVICE_COMPROMISED']

export interface ShipmentInput {
  /** The profile document as logged with the shipment (validated here). */
  profile: unknown
  /** The profile hash logged at shipment creation: the engine refuses any other profile. */
  profileHash: string
  /** Shipment window; endMs absent or null while the shipment is open. */
  window: TimeWindow
  readings: readonly EngineReading[]
  /**
   * A logger assigned after the start, or removed before the end, is judged over its own window
   * (inside the shipment's); the others over `window`. See ledger/tlog/logger-windows.ts.
   */
  deviceWindows?: Readonly<Record<string, TimeWindow>>
  /** The shipment's loggers; a listed logger without readings is missing evidence. Defaults to the devices seen. */
  devices?: readonly string[]
  /** Legs where the loggers are not judged (taken from the shipment's logged entries). */
  unjudged?: readonly UnjudgedWindow[]
  chainBroken?: readonly ChainBreak[]
  /** Declared gaps, forks and an early end of the evidence, from the shipment's log entries. */
  evidence?: readonly EvidenceNotice[]
}

export interface ShipmentResult {
  format: typeof RESULT_FORMAT
  engineVersion: number
  profile: { id: string; version: number; hash: string }
  window: { startMs: number; endMs: number | null }
  unjudged: UnjudgedWindow[]
  verdict: Verdict
  reasons: Reason[]
  sensors: SensorResult[]
}

function bad(path: string, message: string, value: unknown): never {
  throw new ComplianceError('ERR_INPUT_INVALID', path, message, { value })
}

const isInt = (v: unknown): v is number => Number.isSafeInteger(v)

export function checkWindow(w: unknown): { startMs: number; endMs: number | null } {
  if (typeof w !== 'object' || w === null) bad('$.window', 'expected { startMs, endMs? }', w)
  const o = w as Record<string, unknown>
  if (!isInt(o.startMs)) bad('$.window.startMs', 'expected integer ms', o.startMs)
  const end = o.endMs === undefined ? null : o.endMs
  if (end !== null && (!isInt(end) || end < o.startMs))
    bad('$.window.endMs', 'expected integer ms >= startMs, or null', end)
  return { startMs: o.startMs, endMs: end as number | null }
}

export function evaluateShipment(input: ShipmentInput): ShipmentResult {
  if (typeof input !== 'object' || input === null)
    bad('$', 'expected { profile, profileHash, window, readings }', input)
  const profile = validateProfile(input.profile)
  const actual = hashOf(profile)
  if (typeof input.profileHash !== 'string' || input.profileHash.toLowerCase() !== actual) {
    // ARCHITECTURE.md decision 7: the shipment's logged hash binds the rules.
    throw new ComplianceError(
      'ERR_PROFILE_HASH_MISMATCH',
      '$.profileHash',
      `profile "${profile.id}" v${profile.version} hashes to ${actual}, the shipment logged ${String(input.profileHash)}`,
      { expected: input.profileHash, actual },
    )
  }
  const window = checkWindow(input.window)
  if (!Array.isArray(input.readings)) bad('$.readings', 'expected an array of readings', input.readings)
  if (
    input.devices !== undefined &&
    (!Array.isArray(input.devices) || !input.devices.every((d) => typeof d === 'string' && d.length > 0))
  )
    bad('$.devices', 'expected an array of device ids', input.devices)
  if (input.unjudged !== undefined && !Array.isArray(input.unjudged))
    bad('$.unjudged', 'expected an array of { startMs, endMs, reason }', input.unjudged)
  if (input.chainBroken !== undefined && !Array.isArray(input.chainBroken))
    bad('$.chainBroken', 'expected an array of { deviceId, atSeq, reason }', input.chainBroken)
  const unjudged = (input.unjudged ?? [])
    .map((u, i) => {
      if (!isInt(u?.startMs) || !isInt(u?.endMs) || u.endMs < u.startMs || typeof u.reason !== 'string')
        bad(`$.unjudged[${i}]`, 'expected { startMs, endMs >= startMs, reason }', u)
      return { startMs: u.startMs, endMs: u.endMs, reason: u.reason }
    })
    .sort(
      (a, b) => a.startMs - b.startMs || a.endMs - b.endMs || (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0),
    )
  const byDevice = new Map<string, EngineReading[]>()
  input.readings.forEach((r, i) => {
    const ok = checkEngineReading(r, `$.readings[${i}]`)
    if (input.devices && !input.devices.includes(ok.deviceId))
      bad(`$.readings[${i}].deviceId`, `device "${ok.deviceId}" is not one of the shipment's loggers`, ok.deviceId)
    const list = byDevice.get(ok.deviceId) ?? []
    list.push(ok)
    byDevice.set(ok.deviceId, list)
  })
  const devices = [...new Set([...(input.devices ?? []), ...byDevice.keys()])].sort()
  if (input.deviceWindows !== undefined && (typeof input.deviceWindows !== 'object' || input.deviceWindows === null))
    bad('$.deviceWindows', 'expected { deviceId: { startMs, endMs } }', input.deviceWindows)
  const own = new Map(
    Object.entries(input.deviceWindows ?? {}).map(([d, w]) => {
      const c = checkWindow(w)
      if (c.startMs < window.startMs || (window.endMs !== null && (c.endMs === null || c.endMs > window.endMs)))
        bad(`$.deviceWindows.${d}`, 'expected a window inside the shipment window', w)
      return [d, c] as const
    }),
  )
  const sensors = devices.map((deviceId) => {
    const ev = createSensorEvaluator({ profile, deviceId, window: own.get(deviceId) ?? window, unjudged })
    // Sequence order is the device's chain order; the evaluator would accept any order, this is just the fast path.
    for (const r of [...(byDevice.get(deviceId) ?? [])].sort((a, b) => a.seq - b.seq)) ev.add(r)
    return ev.result()
  })
  if (input.evidence !== undefined && !Array.isArray(input.evidence))
    bad('$.evidence', 'expected an array of { deviceId, code, atSeq, message }', input.evidence)
  const chainReasons: Reason[] = (input.chainBroken ?? []).map((c, i) => {
    if (typeof c?.deviceId !== 'string' || !isInt(c.atSeq) || typeof c.reason !== 'string')
      bad(`$.chainBroken[${i}]`, 'expected { deviceId, atSeq, reason }', c)
    return {
      code: 'CHAIN_BROKEN' as const,
      verdict: 'INCOMPLETE_EVIDENCE' as const,
      deviceId: c.deviceId,
      rule: '',
      message: `chain of "${c.deviceId}" broken at seq ${c.atSeq}: ${c.reason}`,
    }
  })
  ;(input.evidence ?? []).forEach((n, i) => {
    if (
      typeof n?.deviceId !== 'string' ||
      !NOTICE_CODES.includes(n.code) ||
      !isInt(n.atSeq) ||
      typeof n.message !== 'string'
    )
      bad(`$.evidence[${i}]`, `expected { deviceId, code (${NOTICE_CODES.join(', ')}), atSeq, message }`, n)
    chainReasons.push({
      code: n.code,
      verdict: 'INCOMPLETE_EVIDENCE',
      deviceId: n.deviceId,
      rule: '',
      message: n.message,
    })
  })
  for (const s of sensors) {
    const own = chainReasons.filter((r) => r.deviceId === s.deviceId)
    if (own.length) {
      s.reasons.push(...own)
      s.verdict = worst([s.verdict, 'INCOMPLETE_EVIDENCE'])
    }
  }
  const reasons = [...sensors.flatMap((s) => s.reasons), ...chainReasons.filter((r) => !devices.includes(r.deviceId))]
  const verdict =
    devices.length === 0
      ? 'INCOMPLETE_EVIDENCE'
      : worst([...sensors.map((s) => s.verdict), ...reasons.map((r) => r.verdict)])
  if (devices.length === 0)
    reasons.push({
      code: 'NO_READINGS',
      verdict: 'INCOMPLETE_EVIDENCE',
      deviceId: '',
      rule: '',
      message: 'the shipment has no logger and no reading',
    })
  // The deciding reasons first (those that alone give the verdict), then the rest, worst first; stable within a verdict.
  reasons.sort((a, b) => VERDICT_ORDER.indexOf(b.verdict) - VERDICT_ORDER.indexOf(a.verdict))
  return {
    format: RESULT_FORMAT,
    engineVersion: ENGINE_VERSION,
    profile: { id: profile.id, version: profile.version, hash: actual },
    window,
    unjudged,
    verdict,
    reasons,
    sensors,
  }
}
