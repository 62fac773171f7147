/**
 * Reading the bundle: the input as bytes, text or JSON, and every entry
 * reference decoded as far as it goes, with the format failures it shows.
 * Pure.
 */
import { decodeEntry, EntryError } from '../../ledger/tlog/index.ts'
import type { Entry } from '../../ledger/tlog/index.ts'
import { fromBase64, toBase64 } from '../../ledger/protocol/index.ts'
import { jsonTooDeep } from '../../ledger/tlog/index.ts'
import { bundleHash, type DeviceChain, type EntryRef, type EvidenceBundle } from './format.ts'
import type { CheckId, Checks } from './verify-report.ts'

/** One entry of the bundle, decoded as far as it goes. */
export interface Parsed {
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

export function strictBase64(s: unknown): Uint8Array | null {
  if (typeof s !== 'string') return null
  try {
    const b = fromBase64(s)
    return toBase64(b) === s ? b : null
  } catch {
    return null
  }
}

export const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

function parseRef(ref: unknown, role: string, checks: Checks): Parsed | null {
  if (
    !isObj(ref) ||
    !Number.isSafeInteger(ref.index) ||
    (ref.index as number) < 0 ||
    typeof ref.entry !== 'string' ||
    !Array.isArray(ref.proof)
  ) {
    checks.fail('format', {
      code: 'BUNDLE_MALFORMED',
      message: `a ${role} entry reference is not { index, entry, proof[] }`,
    })
    return null
  }
  const r = ref as unknown as EntryRef
  const p: Parsed = { ref: r, role, index: r.index, bytes: strictBase64(r.entry), entry: null, raw: null, error: null }
  if (!p.bytes) {
    p.error = 'entry is not canonical base64'
  } else {
    try {
      p.entry = decodeEntry(p.bytes)
    } catch (e) {
      p.error = e instanceof EntryError ? `${e.code}: ${e.message}` : (e as Error).message
    }
    // A decoded entry is the canonical JSON of its bytes, so it is their parse as well; only an entry
    // that does not decode is parsed again, raw (decodeEntry refuses deep nesting; the raw parse must not go there).
    if (p.entry) p.raw = p.entry as unknown as Record<string, unknown>
    else if (!jsonTooDeep(p.bytes)) {
      try {
        p.raw = JSON.parse(new TextDecoder().decode(p.bytes))
      } catch {
        /* reported above */
      }
    }
  }
  if (p.error)
    checks.fail('format', {
      code: 'ENTRY_MALFORMED',
      message: `${role} entry ${r.index}: ${p.error}`,
      entryIndex: r.index,
    })
  else if (p.entry!.index !== r.index)
    checks.fail('format', {
      code: 'ENTRY_INDEX_MISMATCH',
      message: `${role} entry given as index ${r.index} is entry ${p.entry!.index}`,
      entryIndex: r.index,
    })
  return p
}

export function readingRef(p: Parsed): { deviceId?: string; seq?: number } {
  if (p.entry?.type !== 'reading') return {}
  const body = p.entry.body as { deviceId: string; seq: number }
  return { deviceId: body.deviceId, seq: body.seq }
}

/** Reads a bundle given as file bytes, text or parsed JSON. */
export function readInput(input: unknown): { bundle: unknown; sha256: string | null; error?: string } {
  if (input instanceof Uint8Array) {
    const sha256 = bundleHash(input)
    try {
      return { bundle: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(input)), sha256 }
    } catch (e) {
      return { bundle: null, sha256, error: (e as Error).message }
    }
  }
  if (typeof input === 'string') {
    const sha256 = bundleHash(input)
    try {
      return { bundle: JSON.parse(input), sha256 }
    } catch (e) {
      return { bundle: null, sha256, error: (e as Error).message }
    }
  }
  return { bundle: input, sha256: null }
}

/** Every entry reference of a well-formed bundle, parsed in bundle order (`all` keeps that order). */
export function parseEntries(b: EvidenceBundle, checks: Checks) {
  const all: Parsed[] = []
  const parse = (ref: unknown, role: string) => {
    const p = parseRef(ref, role, checks)
    if (p) all.push(p)
    return p
  }
  const create = parse(b.shipment.create, 'shipment.create')
  const close = b.shipment.close ? parse(b.shipment.close, 'shipment.close') : null
  const receive = b.shipment.receive ? parse(b.shipment.receive, 'shipment.receive') : null
  const devices = b.devices.map((d) => ({
    deviceId: isObj(d) && typeof d.deviceId === 'string' ? d.deviceId : '',
    register: isObj(d) ? parse(d.register, 'device.register') : null,
    revoke: isObj(d) && d.revoke ? parse(d.revoke, 'device.revoke') : null,
  }))
  const list = (v: unknown, role: string) =>
    Array.isArray(v) ? v.map((r) => parse(r, role)).filter((p): p is Parsed => p !== null) : []
  const chains = b.chains.map((c: DeviceChain) => ({
    deviceId: isObj(c) && typeof c.deviceId === 'string' ? c.deviceId : '',
    before: isObj(c) && c.before ? parse(c.before, 'reading') : null,
    readings: isObj(c) ? list(c.readings, 'reading') : [],
    gaps: isObj(c) ? list(c.gaps, 'gap') : [],
  }))
  const assignments = list(b.shipment.assignments, 'shipment.devices')
  const forks = list(b.forks, 'reading.fork')
  const postClose = list(b.postClose, 'reading (post-close)')
  const acks = list(b.acknowledgements, 'alarm.ack')
  // A genuine bundle holds each log entry once; a copy would count twice wherever it is counted.
  const seen = new Map<number, string>()
  for (const p of all) {
    const first = seen.get(p.index)
    if (first !== undefined)
      checks.fail('format', {
        code: 'ENTRY_DUPLICATE',
        message: `entry ${p.index} appears twice (as ${first} and as ${p.role})`,
        entryIndex: p.index,
      })
    else seen.set(p.index, p.role)
  }
  return { all, create, close, receive, assignments, devices, chains, forks, postClose, acks }
}
export type BundleEntries = ReturnType<typeof parseEntries>

/** The entry when it is of the type this place needs; otherwise a failure of `check`. */
export function typed<T extends Entry['type']>(
  checks: Checks,
  p: Parsed | null,
  type: T,
  check: CheckId,
): Entry<T> | null {
  if (!p?.entry) return null
  if (p.entry.type !== type) {
    checks.fail(check, {
      code: 'ENTRY_WRONG_TYPE',
      message: `entry ${p.index} is a ${p.entry.type} where a ${type} belongs`,
      entryIndex: p.index,
    })
    return null
  }
  return p.entry as Entry<T>
}
