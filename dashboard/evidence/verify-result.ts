/**
 * The rule profile (hashes to the hash logged at shipment creation) and the
 * claimed result (the compliance engine recomputes it exactly). Pure.
 */
import { canonicalJson } from '../../ledger/tlog/index.ts'
import { profileHashOf } from '../../ledger/tlog/index.ts'
import {
  impersonationMessage,
  profileOrigin,
  profileRules,
  validateProfile,
  type RuleProfile,
  type ShipmentResult,
} from '../compliance/index.ts'
import type { EvidenceBundle } from './format.ts'
import { recomputeResult, type EvidenceEntries } from './recompute.ts'
import { isObj, type Parsed } from './verify-entries.ts'
import type { ChainReadings } from './verify-readings.ts'
import { profileLine, short, type Checks, type VerifyReport } from './verify-report.ts'
import type { ShipmentFacts } from './verify-shipment.ts'

export function checkProfile(b: EvidenceBundle, create: Parsed | null, checks: Checks, report: VerifyReport): void {
  const rawBody = isObj(create?.raw) && isObj(create!.raw.body) ? create!.raw.body : null
  if (!rawBody) {
    checks.fail('profile', {
      code: 'PROFILE_INVALID',
      message: 'no shipment.create body to read the profile from',
      entryIndex: create?.index,
    })
  } else {
    // The hash binds the profile document as logged, valid or not (ARCHITECTURE.md decision 7).
    let actual: string | null = null
    try {
      actual = profileHashOf(rawBody.profile)
    } catch {
      actual = null
    }
    let valid: RuleProfile | null = null
    try {
      valid = validateProfile(rawBody.profile)
    } catch (e) {
      checks.fail('profile', {
        code: 'PROFILE_INVALID',
        message: `the logged profile is not valid: ${(e as Error).message}`,
        entryIndex: create!.index,
        path: '$.shipment.create.body.profile',
      })
    }
    if (actual === null)
      checks.fail('profile', {
        code: 'PROFILE_INVALID',
        message: 'the logged profile is not canonical JSON (floats or non-JSON values)',
        entryIndex: create!.index,
        path: '$.shipment.create.body.profile',
      })
    if (actual !== null && actual !== rawBody.profileHash)
      checks.fail('profile', {
        code: 'PROFILE_HASH_MISMATCH',
        message: `the profile hashes to ${actual}, the hash logged at creation is ${short(rawBody.profileHash)}`,
        entryIndex: create!.index,
        path: '$.shipment.create.body.profileHash',
      })
    const claimedHash = isObj(b.claimed) && isObj(b.claimed.profile) ? b.claimed.profile.hash : undefined
    if (claimedHash !== rawBody.profileHash)
      checks.fail('profile', {
        code: 'PROFILE_HASH_MISMATCH',
        message: `the claimed result names profile hash ${short(claimedHash)}, the shipment logged ${short(rawBody.profileHash)}`,
        path: '$.claimed.profile.hash',
      })
    // Built-in or custom: decided by the hashes this verifier ships, never by the id or name the bundle gives.
    const p = (isObj(rawBody.profile) ? rawBody.profile : {}) as { id?: unknown; version?: unknown; name?: unknown }
    const origin = profileOrigin(p, actual ?? '')
    if (origin.kind === 'impersonation') {
      checks.fail('profile', {
        code: 'PROFILE_IMPERSONATES_BUILTIN',
        message: impersonationMessage(origin, actual ?? 'a non-canonical value'),
        entryIndex: create!.index,
        path: '$.shipment.create.body.profile.id',
      })
    }
    const by =
      isObj(create!.raw) && isObj(create!.raw.body) && typeof create!.raw.body.by === 'string'
        ? create!.raw.body.by
        : null
    const at = isObj(create!.raw) && typeof create!.raw.time === 'number' ? create!.raw.time : null
    report.profile = {
      origin: origin.kind === 'builtin' ? 'built-in' : origin.kind,
      id: String(p.id),
      version: Number(p.version),
      name: String(p.name),
      hash: actual ?? '',
      definedBy: by,
      definedAt: at,
      entryIndex: create!.index,
      rules: valid ? profileRules(valid) : [],
    }
    if (checks.ok('profile'))
      checks.summary('profile', `${profileLine(report.profile)}; hashes to ${actual}, as logged at shipment creation`)
  }
}

export function checkResult(
  b: EvidenceBundle,
  { cb, closeB }: ShipmentFacts,
  chainR: ChainReadings[],
  evidence: EvidenceEntries,
  report: VerifyReport,
  checks: Checks,
): void {
  const claimed = b.claimed as ShipmentResult
  if (isObj(claimed) && Array.isArray(claimed.sensors)) {
    report.claimed = {
      verdict: String(claimed.verdict),
      sensors: claimed.sensors.filter(isObj).map((s) => ({
        deviceId: String(s.deviceId),
        verdict: String(s.verdict),
        mktCentiC: s.stats?.mktCentiC ?? null,
        inRangeMs: s.stats?.inRangeMs ?? 0,
        aboveMs: s.stats?.aboveMs ?? 0,
        belowMs: s.stats?.belowMs ?? 0,
      })),
    }
  }
  if (!cb) {
    checks.fail('result', {
      code: 'RESULT_UNCOMPUTABLE',
      message: 'no valid shipment.create entry to evaluate against',
    })
  } else {
    let recomputed: ShipmentResult | null = null
    try {
      recomputed = recomputeResult(
        cb,
        closeB,
        chainR.flatMap((c) =>
          c.readings.filter((r) => r.reading.fields.deviceId === c.deviceId).map((r) => r.reading.fields),
        ),
        evidence,
      )
    } catch (e) {
      checks.fail('result', {
        code: 'RESULT_UNCOMPUTABLE',
        message: `the compliance engine refused the evidence: ${(e as Error).message}`,
      })
    }
    if (recomputed) {
      if (canonicalJson(recomputed) !== safeCanonical(claimed)) {
        const diffs: { path: string; claimed: unknown; recomputed: unknown }[] = []
        diffPaths(claimed, recomputed, '$.claimed', diffs)
        if (!diffs.length)
          diffs.push({ path: '$.claimed', claimed: '(not canonical JSON)', recomputed: 'canonical result' })
        for (const d of diffs)
          checks.fail('result', {
            code: 'RESULT_MISMATCH',
            message: `${d.path}: claimed ${short(d.claimed)}, recomputed ${short(d.recomputed)}`,
            path: d.path,
          })
      } else {
        checks.summary(
          'result',
          `the compliance engine recomputes the claimed result exactly: verdict ${recomputed.verdict}${recomputed.sensors.map((s) => `; ${s.deviceId} MKT ${s.stats.mktCentiC === null ? '—' : (s.stats.mktCentiC / 100).toFixed(2) + ' °C'}`).join('')}`,
        )
      }
    }
  }
}

/** Paths where two JSON values differ (first `limit`). */
function diffPaths(
  a: unknown,
  b: unknown,
  path: string,
  out: { path: string; claimed: unknown; recomputed: unknown }[],
  limit = 10,
): void {
  if (out.length >= limit) return
  if (isObj(a) && isObj(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort())
      diffPaths(a[k], b[k], `${path}.${k}`, out, limit)
    return
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) {
      out.push({ path: `${path}.length`, claimed: a.length, recomputed: b.length })
      return
    }
    a.forEach((x, i) => diffPaths(x, b[i], `${path}[${i}]`, out, limit))
    return
  }
  if (safeCanonical(a ?? null) !== safeCanonical(b ?? null) || safeCanonical(a ?? null) === null)
    out.push({ path, claimed: a, recomputed: b })
}

function safeCanonical(v: unknown): string | null {
  try {
    return canonicalJson(v)
  } catch {
    return null
  }
}
