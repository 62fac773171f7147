/**
 * The verifier's options and report: the reason-code catalogue, the per-check
 * results, the accumulator the checks write into, and the human summary the
 * CLI prints (formatReport). Pure.
 */
import type { EngineName, SpreadSignatures } from './verify-engines.ts'
import type { CloseSignature, ReceiveSignature } from '../../ledger/tlog/index.ts'
import { showUnsafe } from '../common/unsafe-text.ts'

export interface VerifyProgress {
  phase: 'inclusion' | 'signatures'
  done: number
  total: number
}

export interface VerifyOptions {
  /** The ledger's C2SP verifier key, obtained by the user out of band. Without it the result is NOT VERIFIED. */
  trustedKey?: string
  /** Where the key came from, for the report ("--key", "pinned from this server", ...). */
  trustedKeySource?: string
  /** Signature engine; 'webcrypto' falls back to noble (and says so) where the platform has no Ed25519. */
  engine?: EngineName
  onProgress?: (p: VerifyProgress) => void
  /** Size cap for a bundle given as bytes or text (default DEFAULT_MAX_BUNDLE_BYTES, 64 MiB). */
  maxBytes?: number
  /** Witness verifier keys (tlog-cosignature/v1, type 0x04): the checkpoint must carry a valid cosignature from each. */
  witnesses?: string[]
  /**
   * Partitioned bundles: partition k's verifier key, pinned. Without one the partition key the
   * bundle names is used: the pinned root checkpoint commits to the exact signed partition checkpoint.
   */
  partitionKeys?: Record<number, string>
  /** Spreads the reading signatures over other threads running the same engine (the CLI: worker threads); default one thread. */
  spreadSignatures?: SpreadSignatures
}

/** Every reason a check can fail, with what it means (docs/BUNDLE.md lists the same table; a test keeps them in sync). */
export const VERIFY_REASON_CODES = {
  BUNDLE_MALFORMED: 'the file is not JSON, lacks a field of the bundle format or has one the format does not define',
  ENTRY_DUPLICATE: 'the same log entry appears twice in the bundle',
  BUNDLE_VERSION:
    'the file is not a coldproof-evidence-bundle of version 2 or 3 (version 1 bundles carry no chain anchors and cannot prove completeness)',
  BUNDLE_TOO_LARGE: 'the file is larger than the size cap (64 MiB unless overridden); refused unread',
  BUNDLE_TOO_DEEP: 'the file nests JSON deeper than 32 levels; refused before parsing',
  ENTRY_MALFORMED: 'an entry is not canonical base64 of a valid log entry',
  ENTRY_INDEX_MISMATCH: "an entry's own index differs from the index the bundle gives it",
  ENTRY_WRONG_TYPE: 'an entry stands where the bundle needs another entry type',
  LEDGER_KEY_NOT_PINNED:
    'no trusted ledger key was given: the checkpoint was checked only against the key inside the bundle',
  LEDGER_KEY_INVALID: 'the trusted ledger key is not a C2SP Ed25519 verifier key',
  CHECKPOINT_MALFORMED: 'the checkpoint is not a signed C2SP tlog-checkpoint note',
  CHECKPOINT_SIGNATURE: 'the checkpoint is not signed by the ledger key (forged, altered, or signed by another key)',
  WITNESS_KEY_INVALID:
    'a required witness key is not a C2SP cosignature/v1 verifier key (name+keyid+base64 of 0x04 and a 32-byte Ed25519 key)',
  COSIGNATURE_MISSING: 'the checkpoint carries no cosignature from a required witness',
  COSIGNATURE_INVALID:
    "a required witness's cosignature does not verify over the checkpoint (altered, or made over another checkpoint)",
  INCLUSION_FAILED:
    "an entry's inclusion proof does not lead to the checkpoint's root: the entry is not in the signed log as given",
  SHIPMENT_MISMATCH: 'a shipment, close or acknowledgement entry names another shipment, or is out of order',
  SHIPMENT_NOT_CLOSED:
    'provisional: the shipment is still open, so completeness at the end of the window cannot be proven (no close anchor)',
  DEVICE_MISSING: 'a logger of the shipment has no registration entry in the bundle',
  DEVICE_NOT_IN_SHIPMENT: "a device, chain or reading is not one of the shipment's loggers",
  DEVICE_REVOKED: 'a reading was logged after its device was revoked',
  READING_BEFORE_REGISTRATION: "a reading was logged before its device's registration entry",
  REGISTRATION_AFTER_CREATE: "a logger's registration entry comes after the shipment.create entry that lists it",
  SIGNATURE_INVALID: "a reading's Ed25519 signature does not verify under its device's registered key",
  READING_MALFORMED: "a reading entry's payload does not decode as a v1 reading",
  READING_WRONG_DEVICE: "a reading in a device's chain is signed as another device",
  CHAIN_MISSING: 'a logger of the shipment has no chain in the bundle',
  CHAIN_GAP: 'sequence numbers are missing inside a device chain and no gap entry declares them lost',
  CHAIN_ORDER: 'a device chain is not in increasing sequence order',
  CHAIN_DUPLICATE: 'a sequence number appears twice in a device chain',
  CHAIN_LINK_BROKEN: "a reading's prevHash is not the hash of the device's previous reading",
  CHAIN_START_UNPROVEN:
    'the chain does not provably start at the window: no seq 1 and no linked reading before the window',
  CHAIN_ANCHOR_INSIDE_WINDOW: 'the reading given as before the window lies inside the window',
  ANCHOR_MISSING:
    'the shipment.create or shipment.close entry carries no chain anchor for a logger (written before anchors existed)',
  ANCHOR_MISMATCH:
    'the chain does not pass through the create anchor: it starts above it, or the reading at the anchor seq is absent or hashes differently',
  CHAIN_END_MISMATCH:
    'the chain does not end exactly at the close anchor: readings are missing at the end, added after it, or the last one hashes differently',
  CLOSE_NOT_COVERED:
    "no reading of a logger's chain reaches the close time, and the close does not say the evidence ends early",
  GAP_ENTRY_MISMATCH:
    'a gap entry is of another logger, does not cover a skipped range exactly, or covers nothing the chain skips',
  GAP_AFTER_CLOSE: 'a gap entry the chain relies on was logged after the shipment.close entry',
  FORK_AFTER_CLOSE: 'a reading.fork entry in the bundle was logged after the shipment.close entry',
  FORK_MISSING: "a logger's close anchor names a fork entry that the bundle leaves out",
  POST_CLOSE_MISMATCH:
    'a post-close reading is at or below its close anchor, outside the window, listed twice, or the shipment is open',
  PROFILE_HASH_MISMATCH: 'the rule profile does not hash to the hash logged at shipment creation (or claimed)',
  PROFILE_INVALID: 'the logged rule profile is not a valid rule profile',
  PROFILE_IMPERSONATES_BUILTIN:
    "the profile uses a built-in profile's id but is not that built-in (its hash is not the one this verifier ships)",
  RESULT_MISMATCH: 'recomputing the compliance engine over the readings does not give the claimed result',
  RESULT_UNCOMPUTABLE: "the compliance engine could not be run over the bundle's evidence",
  ROOT_ENTRY_MISMATCH:
    'partitioned bundle: a partition\'s root entry is not the root log\'s record {"p":k,"note":…} of that partition\'s checkpoint',
  ROOT_INCLUSION_FAILED: "partitioned bundle: a partition's root entry is not in the root checkpoint's tree as given",
  PARTITION_MISSING:
    "a partition holding a logger of the shipment has no section in the bundle (or a version 2 bundle holds only one partition's slice of a cluster shipment)",
  PARTITION_MISMATCH:
    'partitioned bundle: a section is of the wrong partition or origin, or the slices of the shipment disagree (loggers, window, close) or are not a cluster shipment',
} as const
export type VerifyReasonCode = keyof typeof VERIFY_REASON_CODES

export interface Finding {
  code: VerifyReasonCode
  message: string
  deviceId?: string
  seq?: number
  entryIndex?: number
  /** JSON path, for result and profile mismatches */
  path?: string
  /** Partitioned bundles: the partition whose section the finding concerns. */
  partition?: number
}

export type CheckId =
  | 'format'
  | 'ledger-key'
  | 'checkpoint'
  | 'inclusion'
  | 'shipment'
  | 'devices'
  | 'signatures'
  | 'chains'
  | 'membership'
  | 'profile'
  | 'result'

export const CHECK_TITLES: Record<CheckId, string> = {
  format: 'bundle format',
  'ledger-key': 'ledger key',
  checkpoint: 'checkpoint signature',
  inclusion: 'inclusion proofs',
  shipment: 'shipment record',
  devices: 'device registrations',
  signatures: 'reading signatures',
  chains: 'device chains',
  membership: 'readings belong to the shipment',
  profile: 'rule profile hash',
  result: 'recomputed result',
}

export interface CheckResult {
  id: CheckId
  title: string
  ok: boolean
  /** One line: what was checked, or why it failed. */
  summary: string
  /** The first failures (at most MAX_FINDINGS), each with its reason code and what it concerns. */
  failures: Finding[]
  failureCount: number
  notes: string[]
}

export interface VerifyReport {
  format: 'coldproof-verify-report'
  version: 1
  verified: boolean
  result: 'VERIFIED' | 'NOT VERIFIED'
  shipmentId: string | null
  bundleSha256: string | null
  engine: { requested: EngineName; used: EngineName; note?: string }
  ledgerKey: { pinned: boolean; verifierKey: string | null; source: string }
  checkpoint: { origin: string; size: number; rootHash: string } | null
  /** Partitioned bundles: each partition's checkpoint (the `checkpoint` above is then the root's). */
  partitions?: { partition: number; origin: string | null; size: number | null; rootHash: string | null }[]
  counts: { entries: number; readings: number; devices: number }
  claimed: {
    verdict: string
    sensors: {
      deviceId: string
      verdict: string
      mktCentiC: number | null
      inRangeMs: number
      aboveMs: number
      belowMs: number
    }[]
  } | null
  /** True while the shipment is open: the evidence's end is not anchored yet (SHIPMENT_NOT_CLOSED). */
  provisional: boolean
  /** The rule profile of the shipment: where it comes from and the rules that decided the verdict. */
  profile: ProfileFacts | null
  /** The close entry's electronic signature (who closed, its meaning, reason and time); null when open or closed without one. */
  closeSignature?: CloseSignature | null
  /** Who created the shipment (the create entry's `by`). */
  createdBy?: string
  /** The signed receipt at the destination (shipment.receive entry), when the bundle carries one. */
  receipt?: { receivedAt: number; signature: ReceiveSignature }
  /** Each logger's window, when loggers were assigned or removed after the creation (ms UTC; until null: to the end). */
  loggers?: { deviceId: string; from: number; until: number | null }[]
  /** Present when witnesses were required: each witness key and the time (s) of its valid cosignature, or null. */
  cosignatures?: { witness: string; timestamp: number | null }[]
  checks: CheckResult[]
}

export interface ProfileFacts {
  /** built-in: a built-in id whose hash this verifier ships; custom: an id of its own; impersonation: a built-in id with another hash. */
  origin: 'built-in' | 'custom' | 'impersonation'
  id: string
  version: number
  name: string
  hash: string
  /** Who created the shipment (and so chose the profile), and when (the shipment.create entry). */
  definedBy: string | null
  definedAt: number | null
  entryIndex: number | null
  /** The rules as people read them (dashboard/compliance/rule-summary.ts); empty when the profile is invalid. */
  rules: string[]
}

/** "built-in profile X v1, hash matches" / "CUSTOM profile ..., defined by <who> at <when>": one line. */
export function profileLine(p: ProfileFacts): string {
  if (p.origin === 'built-in') return `built-in profile ${p.id} v${p.version}, hash matches ("${p.name}")`
  const by = `defined by ${p.definedBy ?? '?'} at ${p.definedAt === null ? '?' : new Date(p.definedAt).toISOString()}${p.entryIndex === null ? '' : ` (entry ${p.entryIndex})`}`
  if (p.origin === 'custom') return `CUSTOM profile ${p.id} v${p.version} ("${p.name}"), ${by}`
  return `NOT the built-in: a profile claiming built-in id ${p.id} v${p.version} with another hash, ${by}`
}

export const MAX_FINDINGS = 50
export const CHECK_ORDER: CheckId[] = [
  'format',
  'ledger-key',
  'checkpoint',
  'inclusion',
  'shipment',
  'devices',
  'signatures',
  'chains',
  'membership',
  'profile',
  'result',
]

/** Collects the failures and notes of every check, in CHECK_ORDER. */
export class Checks {
  readonly map = new Map<CheckId, CheckResult>()
  constructor() {
    for (const id of CHECK_ORDER)
      this.map.set(id, { id, title: CHECK_TITLES[id], ok: true, summary: '', failures: [], failureCount: 0, notes: [] })
  }
  fail(id: CheckId, f: Finding): void {
    const c = this.map.get(id)!
    c.ok = false
    c.failureCount++
    if (c.failures.length < MAX_FINDINGS) c.failures.push(f)
  }
  note(id: CheckId, n: string): void {
    this.map.get(id)!.notes.push(n)
  }
  summary(id: CheckId, s: string): void {
    this.map.get(id)!.summary = s
  }
  ok(id: CheckId): boolean {
    return this.map.get(id)!.ok
  }
  list(): CheckResult[] {
    return CHECK_ORDER.map((id) => {
      const c = this.map.get(id)!
      if (!c.ok && c.failures.length)
        c.summary = `${c.failureCount} failure${c.failureCount === 1 ? '' : 's'}: ${c.failures[0].message}`
      return c
    })
  }
}

/** A JSON value shortened for a one-line message. */
export const short = (v: unknown) => {
  const s = JSON.stringify(v)
  return s === undefined ? 'absent' : s.length > 80 ? s.slice(0, 77) + '...' : s
}

/** "device x, seq 5, entry 42" (the path only when the message does not start with it). */
export function findingWhere(f: Finding): string {
  const path = f.path && !f.message.startsWith(f.path) ? f.path : ''
  return [
    f.partition !== undefined ? `partition ${f.partition}` : '',
    f.deviceId ? `device ${f.deviceId}` : '',
    f.seq !== undefined ? `seq ${f.seq}` : '',
    f.entryIndex !== undefined ? `entry ${f.entryIndex}` : '',
    path,
  ]
    .filter(Boolean)
    .join(', ')
}

/** Verdict codes as people read them. */
const VERDICT_WORDS: Record<string, string> = {
  PASS: 'a PASS',
  PASS_WITH_EXCURSIONS_WITHIN_ALLOWANCE: 'a PASS WITH EXCURSIONS WITHIN ALLOWANCE',
  FAIL: 'a FAIL',
}

export interface Headline {
  /** One line: whether the evidence is authentic, and what it is evidence of. */
  title: string
  /** One line: what that means for the shipment. */
  detail: string
  /** pass: verified PASS; warn: verified excursions or incomplete evidence; fail: verified FAIL; unverified: NOT VERIFIED. */
  tone: 'pass' | 'warn' | 'fail' | 'unverified'
}

/**
 * The result in words that cannot be misread: "authentic" (the verifier's
 * result) and the verdict (the compliance engine's) are never shown as two
 * separate words where a green VERIFIED could sit beside a FAIL. A verified
 * FAIL is "authentic evidence of a FAIL"; NOT VERIFIED says the verdict
 * cannot be relied on, whatever it claims.
 */
export function headline(r: VerifyReport): Headline {
  const claimed = r.claimed ? short(r.claimed.verdict) : null
  if (!r.verified) {
    return {
      title: 'NOT VERIFIED: the evidence is not authentic or not complete',
      detail: `The verdict cannot be relied on${claimed ? ` (the bundle claims ${claimed}, unproven)` : ''}.`,
      tone: 'unverified',
    }
  }
  const v = r.claimed?.verdict ?? ''
  if (v === 'INCOMPLETE_EVIDENCE') {
    return {
      title: 'VERIFIED: authentic evidence, verdict INCOMPLETE EVIDENCE',
      detail: 'The evidence is authentic, but it does not cover the whole shipment: compliance is not shown.',
      tone: 'warn',
    }
  }
  const detail =
    v === 'PASS'
      ? 'The evidence is authentic and complete, and it shows the shipment stayed within its rules.'
      : v === 'FAIL'
        ? 'The evidence is authentic and complete, and it shows the shipment FAILED its rules.'
        : 'The evidence is authentic and complete, and it shows excursions within the allowances: a deviation to report (EU GDP 9.2).'
  return {
    title: `VERIFIED: authentic evidence of ${VERDICT_WORDS[v] ?? short(v)}`,
    detail,
    tone: v === 'PASS' ? 'pass' : v === 'FAIL' ? 'fail' : 'warn',
  }
}

/** "signed by olivia, meaning "received and reviewed", reason: …, at …" (and the override of open critical alarms). */
/** "signed by … meaning … reason … at": a receipt's electronic signature. */
export function receiptLine(r: { receivedAt: number; signature: ReceiveSignature }): string {
  const s = r.signature
  return `received ${new Date(r.receivedAt).toISOString()}, signed by ${s.by}, meaning "${s.meaning}", reason: ${s.reason}, at ${new Date(s.at).toISOString()}`
}

export function closeSignatureLine(s: CloseSignature): string {
  const ov = s.override ? `; ${s.override.alarms.length} open critical alarm(s) overridden: ${s.override.reason}` : ''
  return `signed by ${s.by}, meaning "${s.meaning}", reason: ${s.reason}, at ${new Date(s.at).toISOString()}${ov}`
}

/**
 * The human summary the CLI prints: the overall result first, then every
 * check. Every line is terminal-safe: bundles come from anywhere, so control
 * and bidi characters in any of their strings are shown as "[U+001B]"
 * (dashboard/common/unsafe-text.ts), never sent to the terminal.
 */
export function formatReport(r: VerifyReport): string {
  const lines: string[] = []
  const head = headline(r)
  lines.push(`${head.title}${r.shipmentId ? ` — shipment ${r.shipmentId}` : ''}`)
  lines.push(`  ${head.detail}`)
  if (r.provisional)
    lines.push('  provisional: shipment still open — the end of its evidence is not anchored until it is closed')
  if (r.bundleSha256) lines.push(`  bundle SHA-256 ${r.bundleSha256}`)
  if (r.partitions)
    lines.push(
      `  partitioned: ${r.partitions.map((p) => `partition ${p.partition} (${p.origin ?? '?'}, size ${p.size ?? '?'})`).join(', ')} under root checkpoint ${r.checkpoint ? `${r.checkpoint.origin} size ${r.checkpoint.size}` : '(unreadable)'}`,
    )
  if (r.claimed)
    lines.push(
      `  ${r.verified ? 'verdict' : 'claimed verdict (unproven)'} ${r.claimed.verdict}${r.claimed.sensors.map((s) => `; ${s.deviceId} ${s.verdict}, MKT ${s.mktCentiC === null ? '—' : (s.mktCentiC / 100).toFixed(2) + ' °C'}`).join('')}`,
    )
  if (r.profile) {
    lines.push(`  profile: ${profileLine(r.profile)}`)
    if (r.profile.rules.length)
      lines.push(
        `  rules ${r.verified ? 'that decided the verdict' : 'in the bundle (unproven)'}:`,
        ...r.profile.rules.map((x) => `    ${x}`),
      )
  }
  if (r.createdBy) lines.push(`  ${r.verified ? 'created' : 'created (unproven)'} by ${r.createdBy}`)
  for (const l of r.loggers ?? [])
    lines.push(
      `  logger ${l.deviceId}: counts from ${new Date(l.from).toISOString()}${l.until === null ? '' : ` up to ${new Date(l.until).toISOString()} (removed)`}`,
    )
  if (r.receipt) lines.push(`  ${r.verified ? 'received' : 'received (unproven)'}: ${receiptLine(r.receipt)}`)
  if (r.closeSignature)
    lines.push(`  ${r.verified ? 'closed' : 'closed (unproven)'}: ${closeSignatureLine(r.closeSignature)}`)
  lines.push(`  signature engine: ${r.engine.used}${r.engine.note ? ` (${r.engine.note})` : ''}`)
  lines.push('')
  for (const c of r.checks) {
    lines.push(
      `${c.ok ? '✔ ok    ' : '✘ FAILED'}  ${c.title}${c.summary ? ` — ${c.ok ? c.summary : c.failureCount ? `${c.failureCount} failure${c.failureCount === 1 ? '' : 's'}` : c.summary}` : ''}`,
    )
    if (!c.ok) {
      for (const f of c.failures.slice(0, 10)) {
        const where = findingWhere(f)
        lines.push(`      ${f.code}${where ? ` [${where}]` : ''}: ${f.message}`)
      }
      if (c.failureCount > 10) lines.push(`      … ${c.failureCount - 10} more (see --json)`)
    }
    for (const n of c.notes) lines.push(`      note: ${n}`)
  }
  // Each pushed string is one line: a line break inside one came from the bundle and is shown, not obeyed.
  return lines.map((l) => showUnsafe(l)).join('\n') + '\n'
}
