/**
 * verifyBundle: the offline verifier of an evidence bundle (format.ts,
 * docs/BUNDLE.md). It trusts nothing in the bundle but the mathematics and
 * the ledger key the user pins: it checks every reading signature with its
 * own Ed25519 engine (WebCrypto, or @noble/ed25519 — never the ingest's Node
 * crypto), every device chain across the shipment window, every inclusion
 * proof against the one signed checkpoint, the checkpoint signature, the rule
 * profile hash, and that the compliance engine recomputes exactly the claimed
 * result. Pure (no Node API): the CLI and the browser's Verify page run it.
 */
import * as ed from '@noble/ed25519'
import { sha256, sha512 } from '@noble/hashes/sha2.js'
import { canonicalJson, canonicalJsonBytes } from '../../ledger/canonical-json.ts'
import { decodeEntry, EntryError } from '../../ledger/entry-codec.ts'
import type { Entry, ShipmentCloseBody, ShipmentCreateBody } from '../../ledger/entry-types.ts'
import { leafHash, verifyInclusion, MerkleError } from '../../ledger/merkle.ts'
import { parseNote, parseVerifierKey, type Ed25519Verify } from '../../ledger/note.ts'
import { parseCheckpoint, verifyCheckpoint, type Checkpoint } from '../../ledger/checkpoint.ts'
import { equalBytes, fromBase64, fromHex, toBase64, toHex } from '../../ledger/protocol/bytes.ts'
import { decodeReading, type DecodedReading } from '../../ledger/protocol/reading.ts'
import { readingHash, readingSigningMessage, GENESIS_PREV_HASH } from '../../ledger/protocol/signing.ts'
import { validateProfile, type ShipmentResult } from '../compliance/index.ts'
import { BUNDLE_FORMAT, BUNDLE_VERSION, bundleHash, type DeviceChain, type EntryRef, type EvidenceBundle } from './format.ts'
import { inWindow, recomputeResult } from './recompute.ts'

if (!ed.hashes.sha512) ed.hashes.sha512 = sha512

export type EngineName = 'webcrypto' | 'noble'

export interface VerifyProgress { phase: 'inclusion' | 'signatures'; done: number; total: number }

export interface VerifyOptions {
  /** The ledger's C2SP verifier key, obtained by the user out of band. Without it the result is NOT VERIFIED. */
  trustedKey?: string
  /** Where the key came from, for the report ("--key", "pinned from this server", ...). */
  trustedKeySource?: string
  /** Signature engine; 'webcrypto' falls back to noble (and says so) where the platform has no Ed25519. */
  engine?: EngineName
  onProgress?: (p: VerifyProgress) => void
}

/** Every reason a check can fail, with what it means (docs/BUNDLE.md lists the same table; a test keeps them in sync). */
export const VERIFY_REASON_CODES = {
  BUNDLE_MALFORMED: 'the file is not JSON or lacks a field of the bundle format',
  BUNDLE_VERSION: 'the file is not a coldproof-evidence-bundle of version 1',
  ENTRY_MALFORMED: 'an entry is not canonical base64 of a valid log entry',
  ENTRY_INDEX_MISMATCH: 'an entry\'s own index differs from the index the bundle gives it',
  ENTRY_WRONG_TYPE: 'an entry stands where the bundle needs another entry type',
  LEDGER_KEY_NOT_PINNED: 'no trusted ledger key was given: the checkpoint was checked only against the key inside the bundle',
  LEDGER_KEY_INVALID: 'the trusted ledger key is not a C2SP Ed25519 verifier key',
  CHECKPOINT_MALFORMED: 'the checkpoint is not a signed C2SP tlog-checkpoint note',
  CHECKPOINT_SIGNATURE: 'the checkpoint is not signed by the ledger key (forged, altered, or signed by another key)',
  INCLUSION_FAILED: 'an entry\'s inclusion proof does not lead to the checkpoint\'s root: the entry is not in the signed log as given',
  SHIPMENT_MISMATCH: 'a shipment, close or acknowledgement entry names another shipment, or is out of order',
  DEVICE_MISSING: 'a logger of the shipment has no registration entry in the bundle',
  DEVICE_NOT_IN_SHIPMENT: 'a device, chain or reading is not one of the shipment\'s loggers',
  DEVICE_REVOKED: 'a reading was logged after its device was revoked',
  SIGNATURE_INVALID: 'a reading\'s Ed25519 signature does not verify under its device\'s registered key',
  READING_MALFORMED: 'a reading entry\'s payload does not decode as a v1 reading',
  READING_WRONG_DEVICE: 'a reading in a device\'s chain is signed as another device',
  CHAIN_MISSING: 'a logger of the shipment has no chain in the bundle',
  CHAIN_GAP: 'sequence numbers are missing inside a device chain',
  CHAIN_ORDER: 'a device chain is not in increasing sequence order',
  CHAIN_DUPLICATE: 'a sequence number appears twice in a device chain',
  CHAIN_LINK_BROKEN: 'a reading\'s prevHash is not the hash of the device\'s previous reading',
  CHAIN_START_UNPROVEN: 'the chain does not provably start at the window: no seq 1 and no linked reading before the window',
  CHAIN_ANCHOR_INSIDE_WINDOW: 'the reading given as before or after the window lies inside the window',
  READING_OUTSIDE_WINDOW: 'a device chain starts or ends with a reading whose device time is outside the shipment window',
  PROFILE_HASH_MISMATCH: 'the rule profile does not hash to the hash logged at shipment creation (or claimed)',
  PROFILE_INVALID: 'the logged rule profile is not a valid rule profile',
  RESULT_MISMATCH: 'recomputing the compliance engine over the readings does not give the claimed result',
  RESULT_UNCOMPUTABLE: 'the compliance engine could not be run over the bundle\'s evidence',
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
}

export type CheckId = 'format' | 'ledger-key' | 'checkpoint' | 'inclusion' | 'shipment' | 'devices' | 'signatures' | 'chains' | 'membership' | 'profile' | 'result'

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
  counts: { entries: number; readings: number; devices: number }
  claimed: { verdict: string; sensors: { deviceId: string; verdict: string; mktCentiC: number | null; inRangeMs: number; aboveMs: number; belowMs: number }[] } | null
  checks: CheckResult[]
}

export const MAX_FINDINGS = 50
const CHECK_ORDER: CheckId[] = ['format', 'ledger-key', 'checkpoint', 'inclusion', 'shipment', 'devices', 'signatures', 'chains', 'membership', 'profile', 'result']

class Checks {
  readonly map = new Map<CheckId, CheckResult>()
  constructor() {
    for (const id of CHECK_ORDER) this.map.set(id, { id, title: CHECK_TITLES[id], ok: true, summary: '', failures: [], failureCount: 0, notes: [] })
  }
  fail(id: CheckId, f: Finding): void {
    const c = this.map.get(id)!
    c.ok = false
    c.failureCount++
    if (c.failures.length < MAX_FINDINGS) c.failures.push(f)
  }
  note(id: CheckId, n: string): void { this.map.get(id)!.notes.push(n) }
  summary(id: CheckId, s: string): void { this.map.get(id)!.summary = s }
  ok(id: CheckId): boolean { return this.map.get(id)!.ok }
  list(): CheckResult[] {
    return CHECK_ORDER.map((id) => {
      const c = this.map.get(id)!
      if (!c.ok && c.failures.length) c.summary = `${c.failureCount} failure${c.failureCount === 1 ? '' : 's'}: ${c.failures[0].message}`
      return c
    })
  }
}

/** One entry of the bundle, decoded as far as it goes. */
interface Parsed {
  ref: EntryRef
  role: string
  index: number
  bytes: Uint8Array | null
  /** The decoded, fully validated entry; null when it does not decode. */
  entry: Entry | null
  /** The raw JSON object (even when validation failed), for precise reasons. */
  raw: Record<string, unknown> | null
  error: string | null
}

function strictBase64(s: unknown): Uint8Array | null {
  if (typeof s !== 'string') return null
  try {
    const b = fromBase64(s)
    return toBase64(b) === s ? b : null
  } catch { return null }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function parseRef(ref: unknown, role: string, checks: Checks): Parsed | null {
  if (!isObj(ref) || !Number.isSafeInteger(ref.index) || (ref.index as number) < 0 || typeof ref.entry !== 'string' || !Array.isArray(ref.proof)) {
    checks.fail('format', { code: 'BUNDLE_MALFORMED', message: `a ${role} entry reference is not { index, entry, proof[] }` })
    return null
  }
  const r = ref as unknown as EntryRef
  const p: Parsed = { ref: r, role, index: r.index, bytes: strictBase64(r.entry), entry: null, raw: null, error: null }
  if (!p.bytes) {
    p.error = 'entry is not canonical base64'
  } else {
    try { p.raw = JSON.parse(new TextDecoder().decode(p.bytes)) } catch { /* reported below */ }
    try { p.entry = decodeEntry(p.bytes) } catch (e) { p.error = e instanceof EntryError ? `${e.code}: ${e.message}` : (e as Error).message }
  }
  if (p.error) checks.fail('format', { code: 'ENTRY_MALFORMED', message: `${role} entry ${r.index}: ${p.error}`, entryIndex: r.index })
  else if (p.entry!.index !== r.index) checks.fail('format', { code: 'ENTRY_INDEX_MISMATCH', message: `${role} entry given as index ${r.index} is entry ${p.entry!.index}`, entryIndex: r.index })
  return p
}

/** Verifier of one signature engine. `check` never throws. */
interface Engine {
  used: EngineName
  note?: string
  verifyMany(items: { sig: Uint8Array; msg: Uint8Array; pub: Uint8Array }[], onDone: (n: number) => void): Promise<boolean[]>
  noteVerify: Ed25519Verify
}

const yieldToLoop = () => new Promise<void>((r) => setTimeout(r, 0))
const u8 = (b: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(b) as Uint8Array<ArrayBuffer>

function nobleEngine(note?: string): Engine {
  // noble, strict RFC 8032 (zip215: false): canonical S and R, no small-order shortcuts.
  const one = (sig: Uint8Array, msg: Uint8Array, pub: Uint8Array) => { try { return ed.verify(sig, msg, pub, { zip215: false }) } catch { return false } }
  return {
    used: 'noble',
    note,
    async verifyMany(items, onDone) {
      const out: boolean[] = []
      for (let i = 0; i < items.length; i++) {
        out.push(one(items[i].sig, items[i].msg, items[i].pub))
        if ((i + 1) % 64 === 0 || i + 1 === items.length) { onDone(i + 1); await yieldToLoop() }
      }
      return out
    },
    noteVerify: (msg, sig, pub) => one(sig, msg, pub),
  }
}

/** WebCrypto Ed25519 (Node 20, Chromium in a secure context), or null where the platform lacks it. */
async function webCryptoEngine(): Promise<Engine | string> {
  const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle
  if (!subtle) return 'this platform has no WebCrypto (crypto.subtle; browsers give it only to secure contexts)'
  const keys = new Map<string, Promise<CryptoKey>>()
  const keyOf = (pub: Uint8Array) => {
    const k = toHex(pub)
    let p = keys.get(k)
    if (!p) { p = subtle.importKey('raw', u8(pub), { name: 'Ed25519' }, false, ['verify']); keys.set(k, p) }
    return p
  }
  const one = async (sig: Uint8Array, msg: Uint8Array, pub: Uint8Array) => {
    try { return await subtle.verify({ name: 'Ed25519' }, await keyOf(pub), u8(sig), u8(msg)) } catch { return false }
  }
  // RFC 8032 section 7.1, TEST 1: proves the platform really verifies Ed25519 before it is trusted with the job.
  const pub = fromHex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a')
  const sig = fromHex('e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b')
  try {
    await subtle.importKey('raw', u8(pub), { name: 'Ed25519' }, false, ['verify'])
  } catch (e) { return `this platform's WebCrypto has no Ed25519 (${(e as Error).message})` }
  if (!(await one(sig, new Uint8Array(0), pub))) return 'this platform\'s WebCrypto Ed25519 fails the RFC 8032 test vector'
  const bad = sig.slice(); bad[0] ^= 1
  if (await one(bad, new Uint8Array(0), pub)) return 'this platform\'s WebCrypto Ed25519 accepts an altered signature'
  return {
    used: 'webcrypto',
    async verifyMany(items, onDone) {
      const out: boolean[] = new Array(items.length)
      const CHUNK = 512
      for (let i = 0; i < items.length; i += CHUNK) {
        const part = items.slice(i, i + CHUNK)
        const r = await Promise.all(part.map((x) => one(x.sig, x.msg, x.pub)))
        r.forEach((v, j) => { out[i + j] = v })
        onDone(Math.min(i + CHUNK, items.length))
      }
      return out
    },
    noteVerify: (msg, sig, pub) => one(sig, msg, pub),
  }
}

async function pickEngine(requested: EngineName): Promise<Engine> {
  if (requested === 'noble') return nobleEngine()
  const w = await webCryptoEngine()
  return typeof w === 'string' ? nobleEngine(`${w}; used @noble/ed25519 instead`) : w
}

/** Paths where two JSON values differ (first `limit`). */
function diffPaths(a: unknown, b: unknown, path: string, out: { path: string; claimed: unknown; recomputed: unknown }[], limit = 10): void {
  if (out.length >= limit) return
  if (isObj(a) && isObj(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) diffPaths(a[k], b[k], `${path}.${k}`, out, limit)
    return
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) { out.push({ path: `${path}.length`, claimed: a.length, recomputed: b.length }); return }
    a.forEach((x, i) => diffPaths(x, b[i], `${path}[${i}]`, out, limit))
    return
  }
  if (canonicalJson(a ?? null) !== canonicalJson(b ?? null)) out.push({ path, claimed: a, recomputed: b })
}

const short = (v: unknown) => { const s = JSON.stringify(v); return s === undefined ? 'absent' : s.length > 80 ? s.slice(0, 77) + '...' : s }

/** Reads a bundle given as file bytes, text or parsed JSON. */
function readInput(input: unknown): { bundle: unknown; sha256: string | null; error?: string } {
  if (input instanceof Uint8Array) {
    const sha256 = bundleHash(input)
    try { return { bundle: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(input)), sha256 } } catch (e) { return { bundle: null, sha256, error: (e as Error).message } }
  }
  if (typeof input === 'string') {
    const sha256 = bundleHash(input)
    try { return { bundle: JSON.parse(input), sha256 } } catch (e) { return { bundle: null, sha256, error: (e as Error).message } }
  }
  return { bundle: input, sha256: null }
}

export async function verifyBundle(input: string | Uint8Array | EvidenceBundle | unknown, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const requested: EngineName = opts.engine ?? 'webcrypto'
  const engine = await pickEngine(requested)
  const checks = new Checks()
  const { bundle: raw, sha256: fileSha256, error } = readInput(input)
  const report: VerifyReport = {
    format: 'coldproof-verify-report', version: 1, verified: false, result: 'NOT VERIFIED',
    shipmentId: null, bundleSha256: fileSha256,
    engine: { requested, used: engine.used, ...(engine.note ? { note: engine.note } : {}) },
    ledgerKey: { pinned: false, verifierKey: null, source: 'none' },
    checkpoint: null, counts: { entries: 0, readings: 0, devices: 0 }, claimed: null, checks: [],
  }
  const finish = () => {
    report.checks = checks.list()
    report.verified = report.checks.every((c) => c.ok)
    report.result = report.verified ? 'VERIFIED' : 'NOT VERIFIED'
    return report
  }
  const skipAll = (why: string) => {
    for (const id of CHECK_ORDER) if (id !== 'format') { const c = checks.map.get(id)!; c.ok = false; c.summary = `not checked: ${why}`; c.failureCount = 0 }
  }

  // ---- format ------------------------------------------------------------------------------
  if (error !== undefined || !isObj(raw)) {
    checks.fail('format', { code: 'BUNDLE_MALFORMED', message: error !== undefined ? `not JSON: ${error}` : 'the bundle is not a JSON object' })
    skipAll('the file is not a bundle')
    return finish()
  }
  const b = raw as unknown as EvidenceBundle
  if (b.format !== BUNDLE_FORMAT || b.version !== BUNDLE_VERSION) {
    checks.fail('format', { code: 'BUNDLE_VERSION', message: `format ${short(b.format)} version ${short(b.version)}; this verifier reads ${BUNDLE_FORMAT} version ${BUNDLE_VERSION}` })
    skipAll('unknown bundle format or version')
    return finish()
  }
  report.shipmentId = typeof b.shipmentId === 'string' ? b.shipmentId : null
  const need = (ok: boolean, what: string) => { if (!ok) checks.fail('format', { code: 'BUNDLE_MALFORMED', message: `${what} is missing or malformed` }) }
  need(typeof b.shipmentId === 'string', '"shipmentId"')
  need(typeof b.checkpoint === 'string', '"checkpoint"')
  need(isObj(b.shipment) && isObj(b.shipment.create), '"shipment.create"')
  need(Array.isArray(b.devices), '"devices"')
  need(Array.isArray(b.chains), '"chains"')
  need(Array.isArray(b.acknowledgements), '"acknowledgements"')
  need(isObj(b.claimed), '"claimed"')
  if (!checks.ok('format')) { skipAll('the bundle lacks required parts'); return finish() }

  const all: Parsed[] = []
  const parse = (ref: unknown, role: string) => { const p = parseRef(ref, role, checks); if (p) all.push(p); return p }
  const create = parse(b.shipment.create, 'shipment.create')
  const close = b.shipment.close ? parse(b.shipment.close, 'shipment.close') : null
  const devices = b.devices.map((d) => ({
    deviceId: isObj(d) && typeof d.deviceId === 'string' ? d.deviceId : '',
    register: isObj(d) ? parse(d.register, 'device.register') : null,
    revoke: isObj(d) && d.revoke ? parse(d.revoke, 'device.revoke') : null,
  }))
  const chains = b.chains.map((c: DeviceChain) => ({
    deviceId: isObj(c) && typeof c.deviceId === 'string' ? c.deviceId : '',
    before: isObj(c) && c.before ? parse(c.before, 'reading') : null,
    readings: isObj(c) && Array.isArray(c.readings) ? c.readings.map((r) => parse(r, 'reading')).filter((p): p is Parsed => p !== null) : [],
    after: isObj(c) && c.after ? parse(c.after, 'reading') : null,
  }))
  const acks = b.acknowledgements.map((a) => parse(a, 'alarm.ack')).filter((p): p is Parsed => p !== null)
  report.counts = { entries: all.length, readings: chains.reduce((n, c) => n + c.readings.length, 0), devices: devices.length }
  if (checks.ok('format')) checks.summary('format', `${BUNDLE_FORMAT} v${BUNDLE_VERSION}: ${all.length} log entries, ${report.counts.readings} readings of ${chains.length} device chain(s)`)

  // ---- ledger key and checkpoint ---------------------------------------------------------------
  const bundleKey = isObj(b.ledger) && typeof b.ledger.verifierKey === 'string' ? b.ledger.verifierKey : null
  let keyUsed: string | null = null
  if (opts.trustedKey !== undefined) {
    try {
      parseVerifierKey(opts.trustedKey)
      keyUsed = opts.trustedKey.trim()
      report.ledgerKey = { pinned: true, verifierKey: keyUsed, source: opts.trustedKeySource ?? 'supplied by the user' }
      checks.summary('ledger-key', `pinned: ${keyUsed} (${report.ledgerKey.source})`)
      if (bundleKey !== null && bundleKey !== keyUsed) checks.note('ledger-key', `the bundle names another key (${bundleKey}); it is ignored`)
    } catch (e) {
      checks.fail('ledger-key', { code: 'LEDGER_KEY_INVALID', message: `the trusted key is not a verifier key: ${(e as Error).message}` })
    }
  } else {
    keyUsed = bundleKey
    report.ledgerKey = { pinned: false, verifierKey: bundleKey, source: 'the bundle itself (not trusted)' }
    checks.fail('ledger-key', { code: 'LEDGER_KEY_NOT_PINNED', message: 'NOT PINNED — the checkpoint was checked only against the key inside the bundle, which proves nothing about who signed it; pin the ledger\'s published key (--key)' })
  }
  let cp: Checkpoint | null = null
  try {
    const { text } = parseNote(b.checkpoint)
    cp = parseCheckpoint(text)
  } catch (e) {
    checks.fail('checkpoint', { code: 'CHECKPOINT_MALFORMED', message: `the checkpoint is not a signed tlog-checkpoint: ${(e as Error).message}` })
  }
  if (cp) {
    report.checkpoint = { origin: cp.origin, size: cp.size, rootHash: toBase64(cp.rootHash) }
    if (!keyUsed) {
      checks.fail('checkpoint', { code: 'CHECKPOINT_SIGNATURE', message: 'no ledger key to check the checkpoint signature against' })
    } else {
      try {
        await verifyCheckpoint(b.checkpoint, keyUsed, { origin: parseVerifierKey(keyUsed).name, verify: engine.noteVerify })
        checks.summary('checkpoint', `signed by ${parseVerifierKey(keyUsed).name}: tree size ${cp.size}, root ${toBase64(cp.rootHash)}${report.ledgerKey.pinned ? '' : ' (key from the bundle only)'}`)
      } catch (e) {
        const code = (e as { code?: string }).code
        checks.fail('checkpoint', { code: 'CHECKPOINT_SIGNATURE', message: `${code ? `${code}: ` : ''}${(e as Error).message}` })
      }
    }
  }

  // ---- inclusion proofs ---------------------------------------------------------------------
  if (cp) {
    let done = 0
    for (const p of all) {
      if (p.bytes) {
        const proof = p.ref.proof.map(strictBase64)
        if (proof.some((h) => h === null)) {
          checks.fail('inclusion', { code: 'INCLUSION_FAILED', message: `${p.role} entry ${p.index}: a proof hash is not canonical base64`, entryIndex: p.index })
        } else {
          try {
            verifyInclusion(leafHash(p.bytes), p.index, cp.size, proof as Uint8Array[], cp.rootHash)
          } catch (e) {
            const why = e instanceof MerkleError ? `${e.code}: ${e.message}` : (e as Error).message
            checks.fail('inclusion', { code: 'INCLUSION_FAILED', message: `${p.role} entry ${p.index} is not in the checkpoint's tree as given (${why})`, entryIndex: p.index, ...readingRef(p) })
          }
        }
      } else {
        checks.fail('inclusion', { code: 'INCLUSION_FAILED', message: `${p.role} entry ${p.index} has no decodable bytes to prove`, entryIndex: p.index })
      }
      if (++done % 256 === 0 || done === all.length) opts.onProgress?.({ phase: 'inclusion', done, total: all.length })
    }
    if (checks.ok('inclusion')) checks.summary('inclusion', `${all.length} entries are in the log of size ${cp.size}`)
  } else {
    const c = checks.map.get('inclusion')!; c.ok = false; c.summary = 'not checked: no readable checkpoint'
  }

  // ---- shipment record ----------------------------------------------------------------------
  const typed = <T extends Entry['type']>(p: Parsed | null, type: T, check: CheckId): Entry<T> | null => {
    if (!p?.entry) return null
    if (p.entry.type !== type) { checks.fail(check, { code: 'ENTRY_WRONG_TYPE', message: `entry ${p.index} is a ${p.entry.type} where a ${type} belongs`, entryIndex: p.index }); return null }
    return p.entry as Entry<T>
  }
  const createE = typed(create, 'shipment.create', 'shipment')
  const closeE = typed(close, 'shipment.close', 'shipment')
  const cb: ShipmentCreateBody | null = createE?.body ?? null
  const closeB: ShipmentCloseBody | null = closeE?.body ?? null
  if (!createE) checks.fail('shipment', { code: 'SHIPMENT_MISMATCH', message: 'no valid shipment.create entry', entryIndex: create?.index })
  else if (createE.body.shipmentId !== b.shipmentId) checks.fail('shipment', { code: 'SHIPMENT_MISMATCH', message: `the shipment.create entry is for ${createE.body.shipmentId}, the bundle for ${b.shipmentId}`, entryIndex: createE.index })
  if (close && !closeE) checks.fail('shipment', { code: 'SHIPMENT_MISMATCH', message: 'the shipment.close entry is not valid', entryIndex: close.index })
  if (closeE && createE) {
    if (closeE.body.shipmentId !== createE.body.shipmentId) checks.fail('shipment', { code: 'SHIPMENT_MISMATCH', message: `the shipment.close entry closes ${closeE.body.shipmentId}`, entryIndex: closeE.index })
    if (closeE.index < createE.index) checks.fail('shipment', { code: 'SHIPMENT_MISMATCH', message: `the shipment.close entry ${closeE.index} comes before its creation ${createE.index}`, entryIndex: closeE.index })
  }
  for (const a of acks) {
    const e = typed(a, 'alarm.ack', 'shipment')
    if (e && e.body.shipmentId !== b.shipmentId) checks.fail('shipment', { code: 'SHIPMENT_MISMATCH', message: `acknowledgement entry ${e.index} is for shipment ${e.body.shipmentId}`, entryIndex: e.index })
  }
  if (checks.ok('shipment') && cb) {
    checks.summary('shipment', `${cb.shipmentId}: ${cb.product}, ${cb.route.from} → ${cb.route.to}, loggers ${cb.devices.join(', ')}; window ${new Date(cb.startAt).toISOString()} – ${closeB ? new Date(closeB.closedAt).toISOString() : 'open'}; ${acks.length} acknowledgement(s)`)
  }
  const window = cb ? { startAt: cb.startAt, closedAt: closeB ? closeB.closedAt : null } : null
  const shipDevices = new Set(cb?.devices ?? [])

  // ---- devices -----------------------------------------------------------------------------
  const keys = new Map<string, Uint8Array>()
  const revokedAt = new Map<string, number>()
  for (const d of devices) {
    const reg = typed(d.register, 'device.register', 'devices')
    if (!reg) { checks.fail('devices', { code: 'ENTRY_WRONG_TYPE', message: `device ${d.deviceId || '?'} has no valid registration entry`, deviceId: d.deviceId, entryIndex: d.register?.index }); continue }
    if (reg.body.deviceId !== d.deviceId) { checks.fail('devices', { code: 'ENTRY_WRONG_TYPE', message: `the registration entry ${reg.index} listed for ${d.deviceId} registers ${reg.body.deviceId}`, deviceId: d.deviceId, entryIndex: reg.index }); continue }
    if (cb && !shipDevices.has(d.deviceId)) checks.fail('devices', { code: 'DEVICE_NOT_IN_SHIPMENT', message: `device ${d.deviceId} is not a logger of ${cb.shipmentId}`, deviceId: d.deviceId, entryIndex: reg.index })
    keys.set(d.deviceId, fromHex(reg.body.publicKey))
    const rev = typed(d.revoke, 'device.revoke', 'devices')
    if (rev) {
      if (rev.body.deviceId !== d.deviceId || rev.index < reg.index) checks.fail('devices', { code: 'ENTRY_WRONG_TYPE', message: `revocation entry ${rev.index} does not revoke ${d.deviceId} after its registration`, deviceId: d.deviceId, entryIndex: rev.index })
      else { revokedAt.set(d.deviceId, rev.index); checks.note('devices', `${d.deviceId} was revoked at entry ${rev.index}: ${rev.body.reason}`) }
    }
    if (reg.body.calibration && window && reg.body.calibration.dueAt < window.startAt) checks.note('devices', `${d.deviceId}: calibration ${reg.body.calibration.certificate} was due ${new Date(reg.body.calibration.dueAt).toISOString().slice(0, 10)}, before the shipment started (GDP 9.3)`)
  }
  for (const id of shipDevices) if (!keys.has(id) && !devices.some((d) => d.deviceId === id)) checks.fail('devices', { code: 'DEVICE_MISSING', message: `logger ${id} of the shipment has no registration entry in the bundle`, deviceId: id })
  if (checks.ok('devices')) checks.summary('devices', `${keys.size} registered device key(s): ${[...keys.entries()].map(([id, k]) => `${id} ${toHex(k).slice(0, 16)}…`).join(', ')}`)

  // ---- readings: decode --------------------------------------------------------------------
  interface R { p: Parsed; d: DecodedReading; chainDevice: string }
  const decoded = new Map<Parsed, R>()
  const readingOf = (p: Parsed | null, chainDevice: string): R | null => {
    if (!p) return null
    const have = decoded.get(p)
    if (have) return have
    const body = (p.entry?.type === 'reading' ? p.entry.body : isObj(p.raw) && isObj(p.raw.body) ? p.raw.body : null) as { payload?: unknown } | null
    if (p.entry && p.entry.type !== 'reading') { checks.fail('chains', { code: 'ENTRY_WRONG_TYPE', message: `entry ${p.index} in the chain of ${chainDevice} is a ${p.entry.type}`, entryIndex: p.index, deviceId: chainDevice }); return null }
    const payload = strictBase64(body?.payload)
    let d: DecodedReading | null = null
    try { if (payload) d = decodeReading(payload) } catch { d = null }
    if (!d) { checks.fail('signatures', { code: 'READING_MALFORMED', message: `entry ${p.index} in the chain of ${chainDevice} does not hold a v1 reading`, entryIndex: p.index, deviceId: chainDevice }); return null }
    const r = { p, d, chainDevice }
    decoded.set(p, r)
    return r
  }
  const chainR = chains.map((c) => ({ deviceId: c.deviceId, before: readingOf(c.before, c.deviceId), readings: c.readings.map((p) => readingOf(p, c.deviceId)).filter((r): r is R => r !== null), after: readingOf(c.after, c.deviceId) }))

  // ---- signatures --------------------------------------------------------------------------
  const toVerify: { r: R; sig: Uint8Array; msg: Uint8Array; pub: Uint8Array }[] = []
  for (const r of decoded.values()) {
    const pub = keys.get(r.d.fields.deviceId)
    if (!pub) { checks.fail('signatures', { code: 'SIGNATURE_INVALID', message: `${r.d.fields.deviceId} seq ${r.d.fields.seq}: no registered key for this device in the bundle`, deviceId: r.d.fields.deviceId, seq: r.d.fields.seq, entryIndex: r.p.index }); continue }
    toVerify.push({ r, sig: r.d.signature, msg: readingSigningMessage(r.d.record), pub })
  }
  const valid = await engine.verifyMany(toVerify, (n) => opts.onProgress?.({ phase: 'signatures', done: n, total: toVerify.length }))
  toVerify.forEach((v, i) => {
    if (!valid[i]) checks.fail('signatures', { code: 'SIGNATURE_INVALID', message: `${v.r.d.fields.deviceId} seq ${v.r.d.fields.seq} (entry ${v.r.p.index}): the signature does not verify under the registered key ${toHex(v.pub).slice(0, 16)}…`, deviceId: v.r.d.fields.deviceId, seq: v.r.d.fields.seq, entryIndex: v.r.p.index })
  })
  if (checks.ok('signatures')) checks.summary('signatures', `${toVerify.length} reading signature(s) verify (Ed25519, ${engine.used})`)

  // ---- chains and membership -----------------------------------------------------------------
  const at = (r: R) => ({ deviceId: r.d.fields.deviceId, seq: r.d.fields.seq, entryIndex: r.p.index })
  const links = (prev: R, next: R) => equalBytes(next.d.fields.prevHash, readingHash(prev.d.payload))
  const seen = new Set<string>()
  for (const c of chainR) {
    if (cb && !shipDevices.has(c.deviceId)) checks.fail('membership', { code: 'DEVICE_NOT_IN_SHIPMENT', message: `the bundle holds a chain of ${c.deviceId}, which is not a logger of ${cb.shipmentId}`, deviceId: c.deviceId })
    if (seen.has(c.deviceId)) checks.fail('chains', { code: 'CHAIN_DUPLICATE', message: `two chains for ${c.deviceId}`, deviceId: c.deviceId })
    seen.add(c.deviceId)
    for (const r of [c.before, ...c.readings, c.after]) {
      if (!r) continue
      if (r.d.fields.deviceId !== c.deviceId) {
        checks.fail('membership', { code: cb && !shipDevices.has(r.d.fields.deviceId) ? 'DEVICE_NOT_IN_SHIPMENT' : 'READING_WRONG_DEVICE', message: `entry ${r.p.index} in the chain of ${c.deviceId} is a reading of ${r.d.fields.deviceId} seq ${r.d.fields.seq}${cb && !shipDevices.has(r.d.fields.deviceId) ? `, not a logger of ${cb.shipmentId}` : ''}`, ...at(r) })
      }
      const rv = revokedAt.get(r.d.fields.deviceId)
      if (rv !== undefined && r.p.index > rv) checks.fail('devices', { code: 'DEVICE_REVOKED', message: `${r.d.fields.deviceId} seq ${r.d.fields.seq} was logged at entry ${r.p.index}, after the device's revocation at entry ${rv}`, ...at(r) })
    }
    const rs = c.readings
    for (let i = 1; i < rs.length; i++) {
      const a = rs[i - 1].d.fields.seq, s = rs[i].d.fields.seq
      if (s === a) checks.fail('chains', { code: 'CHAIN_DUPLICATE', message: `${c.deviceId} seq ${s} appears twice (entries ${rs[i - 1].p.index} and ${rs[i].p.index})`, ...at(rs[i]) })
      else if (s < a) checks.fail('chains', { code: 'CHAIN_ORDER', message: `${c.deviceId} seq ${s} follows seq ${a}: the chain is out of order`, ...at(rs[i]) })
      else if (s > a + 1) checks.fail('chains', { code: 'CHAIN_GAP', message: `${c.deviceId} seq ${a + 1}${s - 1 > a + 1 ? `..${s - 1}` : ''} missing between seq ${a} and seq ${s}`, ...at(rs[i]) })
      else if (!links(rs[i - 1], rs[i])) checks.fail('chains', { code: 'CHAIN_LINK_BROKEN', message: `${c.deviceId} seq ${s}: prevHash is not the hash of seq ${a}`, ...at(rs[i]) })
    }
    const first = rs[0] ?? null, last = rs[rs.length - 1] ?? null
    const outside = (r: R) => window !== null && !inWindow(r.d.fields.deviceTimeMs, window.startAt, window.closedAt)
    // Start: seq 1 with the genesis link, or the reading just before, outside the window, linked.
    if (first) {
      if (c.before) {
        if (c.before.d.fields.seq !== first.d.fields.seq - 1 || !links(c.before, first)) checks.fail('chains', { code: 'CHAIN_START_UNPROVEN', message: `${c.deviceId}: the reading before the window (seq ${c.before.d.fields.seq}) does not link to the first reading (seq ${first.d.fields.seq})`, ...at(first) })
        else if (!outside(c.before)) checks.fail('chains', { code: 'CHAIN_ANCHOR_INSIDE_WINDOW', message: `${c.deviceId} seq ${c.before.d.fields.seq}, given as before the window, was taken inside it`, ...at(c.before) })
      } else if (first.d.fields.seq !== 1 || !equalBytes(first.d.fields.prevHash, GENESIS_PREV_HASH)) {
        checks.fail('chains', { code: 'CHAIN_START_UNPROVEN', message: `${c.deviceId}: the first reading is seq ${first.d.fields.seq} and the bundle has no reading before it`, ...at(first) })
      }
      if (outside(first)) checks.fail('membership', { code: 'READING_OUTSIDE_WINDOW', message: `${c.deviceId} seq ${first.d.fields.seq} at ${new Date(first.d.fields.deviceTimeMs).toISOString()} starts the chain outside the shipment window`, ...at(first) })
      if (last !== first && outside(last!)) checks.fail('membership', { code: 'READING_OUTSIDE_WINDOW', message: `${c.deviceId} seq ${last!.d.fields.seq} at ${new Date(last!.d.fields.deviceTimeMs).toISOString()} ends the chain outside the shipment window`, ...at(last!) })
      const mid = rs.slice(1, -1).filter(outside).length
      if (mid) checks.note('membership', `${c.deviceId}: ${mid} reading(s) inside the chain carry a device time outside the window (clock jump); they are chain links, not evidence for the window`)
    } else if (c.before && c.after) {
      if (c.after.d.fields.seq !== c.before.d.fields.seq + 1 || !links(c.before, c.after)) checks.fail('chains', { code: 'CHAIN_GAP', message: `${c.deviceId}: no reading in the window, and the readings around it (seq ${c.before.d.fields.seq}, ${c.after.d.fields.seq}) do not link`, ...at(c.after) })
    } else {
      checks.note('chains', `${c.deviceId}: no reading in the window`)
    }
    // End: the reading just after the window proves nothing was left off the end.
    if (last && c.after) {
      if (c.after.d.fields.seq !== last.d.fields.seq + 1) checks.fail('chains', { code: c.after.d.fields.seq > last.d.fields.seq + 1 ? 'CHAIN_GAP' : 'CHAIN_ORDER', message: `${c.deviceId}: the reading after the window is seq ${c.after.d.fields.seq}, the last in the window seq ${last.d.fields.seq}`, ...at(c.after) })
      else if (!links(last, c.after)) checks.fail('chains', { code: 'CHAIN_LINK_BROKEN', message: `${c.deviceId} seq ${c.after.d.fields.seq} (after the window): prevHash is not the hash of seq ${last.d.fields.seq}`, ...at(c.after) })
      else if (!outside(c.after)) checks.fail('chains', { code: 'CHAIN_ANCHOR_INSIDE_WINDOW', message: `${c.deviceId} seq ${c.after.d.fields.seq}, given as after the window, was taken inside it`, ...at(c.after) })
    } else if (last) {
      checks.note('chains', window?.closedAt === null
        ? `${c.deviceId}: ends at seq ${last.d.fields.seq}; the shipment is still open`
        : `${c.deviceId}: ends at seq ${last.d.fields.seq}; the ledger had no later reading when the bundle was built, so the chain alone cannot exclude a later reading inside the window (see docs/BUNDLE.md, "Chain ends")`)
    }
  }
  for (const id of shipDevices) if (!seen.has(id)) checks.fail('chains', { code: 'CHAIN_MISSING', message: `logger ${id} of the shipment has no chain in the bundle`, deviceId: id })
  if (checks.ok('chains')) checks.summary('chains', chainR.map((c) => c.readings.length ? `${c.deviceId} seq ${c.readings[0].d.fields.seq}..${c.readings[c.readings.length - 1].d.fields.seq}${c.before ? ' (linked to the reading before)' : ''}${c.after ? ' (linked to the reading after)' : ''}` : `${c.deviceId}: none`).join('; '))
  if (checks.ok('membership')) checks.summary('membership', `every reading is from a logger of the shipment and every chain starts and ends inside the window`)

  // ---- profile ------------------------------------------------------------------------------
  const rawBody = isObj(create?.raw) && isObj(create!.raw.body) ? create!.raw.body : null
  if (!rawBody) {
    checks.fail('profile', { code: 'PROFILE_INVALID', message: 'no shipment.create body to read the profile from', entryIndex: create?.index })
  } else {
    // The hash binds the profile document as logged, valid or not (DESIGN.md decision 7).
    let actual: string | null = null
    try { actual = toHex(sha256(canonicalJsonBytes(rawBody.profile))) } catch { actual = null }
    try { validateProfile(rawBody.profile) } catch (e) {
      checks.fail('profile', { code: 'PROFILE_INVALID', message: `the logged profile is not valid: ${(e as Error).message}`, entryIndex: create!.index, path: '$.shipment.create.body.profile' })
    }
    if (actual === null) checks.fail('profile', { code: 'PROFILE_INVALID', message: 'the logged profile is not canonical JSON (floats or non-JSON values)', entryIndex: create!.index, path: '$.shipment.create.body.profile' })
    if (actual !== null && actual !== rawBody.profileHash) checks.fail('profile', { code: 'PROFILE_HASH_MISMATCH', message: `the profile hashes to ${actual}, the hash logged at creation is ${short(rawBody.profileHash)}`, entryIndex: create!.index, path: '$.shipment.create.body.profileHash' })
    const claimedHash = isObj(b.claimed) && isObj(b.claimed.profile) ? b.claimed.profile.hash : undefined
    if (claimedHash !== rawBody.profileHash) checks.fail('profile', { code: 'PROFILE_HASH_MISMATCH', message: `the claimed result names profile hash ${short(claimedHash)}, the shipment logged ${short(rawBody.profileHash)}`, path: '$.claimed.profile.hash' })
    if (checks.ok('profile')) {
      const p = rawBody.profile as { id?: string; version?: number }
      checks.summary('profile', `profile "${p.id}" v${p.version} hashes to ${actual}, as logged at shipment creation`)
    }
  }

  // ---- result --------------------------------------------------------------------------------
  const claimed = b.claimed as ShipmentResult
  if (isObj(claimed) && Array.isArray(claimed.sensors)) {
    report.claimed = {
      verdict: String(claimed.verdict),
      sensors: claimed.sensors.filter(isObj).map((s) => ({ deviceId: String(s.deviceId), verdict: String(s.verdict), mktCentiC: s.stats?.mktCentiC ?? null, inRangeMs: s.stats?.inRangeMs ?? 0, aboveMs: s.stats?.aboveMs ?? 0, belowMs: s.stats?.belowMs ?? 0 })),
    }
  }
  if (!cb) {
    checks.fail('result', { code: 'RESULT_UNCOMPUTABLE', message: 'no valid shipment.create entry to evaluate against' })
  } else {
    let recomputed: ShipmentResult | null = null
    try {
      recomputed = recomputeResult(cb, closeB, chainR.flatMap((c) => c.readings.filter((r) => r.d.fields.deviceId === c.deviceId).map((r) => r.d.fields)))
    } catch (e) {
      checks.fail('result', { code: 'RESULT_UNCOMPUTABLE', message: `the compliance engine refused the evidence: ${(e as Error).message}` })
    }
    if (recomputed) {
      if (canonicalJson(recomputed) !== safeCanonical(claimed)) {
        const diffs: { path: string; claimed: unknown; recomputed: unknown }[] = []
        diffPaths(claimed, recomputed, '$.claimed', diffs)
        if (!diffs.length) diffs.push({ path: '$.claimed', claimed: '(not canonical JSON)', recomputed: 'canonical result' })
        for (const d of diffs) checks.fail('result', { code: 'RESULT_MISMATCH', message: `${d.path}: claimed ${short(d.claimed)}, recomputed ${short(d.recomputed)}`, path: d.path })
      } else {
        checks.summary('result', `the compliance engine recomputes the claimed result exactly: verdict ${recomputed.verdict}${recomputed.sensors.map((s) => `; ${s.deviceId} MKT ${s.stats.mktCentiC === null ? '—' : (s.stats.mktCentiC / 100).toFixed(2) + ' °C'}`).join('')}`)
      }
    }
  }
  return finish()
}

function safeCanonical(v: unknown): string | null {
  try { return canonicalJson(v) } catch { return null }
}

function readingRef(p: Parsed): { deviceId?: string; seq?: number } {
  if (p.entry?.type !== 'reading') return {}
  const body = p.entry.body as { deviceId: string; seq: number }
  return { deviceId: body.deviceId, seq: body.seq }
}

/** "device x, seq 5, entry 42" (the path only when the message does not start with it). */
export function findingWhere(f: Finding): string {
  const path = f.path && !f.message.startsWith(f.path) ? f.path : ''
  return [f.deviceId ? `device ${f.deviceId}` : '', f.seq !== undefined ? `seq ${f.seq}` : '', f.entryIndex !== undefined ? `entry ${f.entryIndex}` : '', path].filter(Boolean).join(', ')
}

/** The human summary the CLI prints: the overall result first, then every check. */
export function formatReport(r: VerifyReport): string {
  const lines: string[] = []
  lines.push(r.verified ? `VERIFIED — shipment ${r.shipmentId}` : `NOT VERIFIED${r.shipmentId ? ` — shipment ${r.shipmentId}` : ''}`)
  if (r.bundleSha256) lines.push(`  bundle SHA-256 ${r.bundleSha256}`)
  if (r.claimed) lines.push(`  claimed verdict ${r.claimed.verdict}${r.claimed.sensors.map((s) => `; ${s.deviceId} ${s.verdict}, MKT ${s.mktCentiC === null ? '—' : (s.mktCentiC / 100).toFixed(2) + ' °C'}`).join('')}`)
  lines.push(`  signature engine: ${r.engine.used}${r.engine.note ? ` (${r.engine.note})` : ''}`)
  lines.push('')
  for (const c of r.checks) {
    lines.push(`${c.ok ? '✔ ok    ' : '✘ FAILED'}  ${c.title}${c.summary ? ` — ${c.ok ? c.summary : c.failureCount ? `${c.failureCount} failure${c.failureCount === 1 ? '' : 's'}` : c.summary}` : ''}`)
    if (!c.ok) {
      for (const f of c.failures.slice(0, 10)) {
        const where = findingWhere(f)
        lines.push(`      ${f.code}${where ? ` [${where}]` : ''}: ${f.message}`)
      }
      if (c.failureCount > 10) lines.push(`      … ${c.failureCount - 10} more (see --json)`)
    }
    for (const n of c.notes) lines.push(`      note: ${n}`)
  }
  return lines.join('\n') + '\n'
}
