/**
 * The readings of the device chains: decoded as v1 readings, then every
 * signature checked with the verifier's own engine under its device's
 * registered key. Pure.
 */
import { toHex } from '../../ledger/protocol/index.ts'
import { decodeReading, type DecodedReading } from '../../ledger/protocol/index.ts'
import { readingSigningMessage } from '../../ledger/protocol/index.ts'
import { isObj, strictBase64, type BundleEntries, type Parsed } from './verify-entries.ts'
import type { Engine } from './verify-engines.ts'
import type { Checks, VerifyOptions } from './verify-report.ts'

/** A reading of a device chain: the entry that holds it, its decoded payload, and the chain it was listed in. */
export interface ChainReading {
  entry: Parsed
  reading: DecodedReading
  /** The device whose chain listed it (a reading listed in another device's chain is a membership failure). */
  chainDevice: string
}

export interface ChainReadings {
  deviceId: string
  before: ChainReading | null
  readings: ChainReading[]
  gaps: Parsed[]
}

/** Decodes every chain's and the post-close list's readings once each; `decoded` keeps first-seen order. */
export function decodeChains(
  chains: BundleEntries['chains'],
  postClose: Parsed[],
  checks: Checks,
): { decoded: Map<Parsed, ChainReading>; chainR: ChainReadings[]; postR: ChainReading[] } {
  const decoded = new Map<Parsed, ChainReading>()
  const readingOf = (p: Parsed | null, chainDevice: string): ChainReading | null => {
    if (!p) return null
    const have = decoded.get(p)
    if (have) return have
    const body = (
      p.entry?.type === 'reading' ? p.entry.body : isObj(p.raw) && isObj(p.raw.body) ? p.raw.body : null
    ) as { payload?: unknown } | null
    if (p.entry && p.entry.type !== 'reading') {
      checks.fail('chains', {
        code: 'ENTRY_WRONG_TYPE',
        message: `entry ${p.index} in the chain of ${chainDevice} is a ${p.entry.type}`,
        entryIndex: p.index,
        deviceId: chainDevice,
      })
      return null
    }
    const payload = strictBase64(body?.payload)
    let d: DecodedReading | null = null
    try {
      if (payload) d = decodeReading(payload)
    } catch {
      d = null
    }
    if (!d) {
      checks.fail('signatures', {
        code: 'READING_MALFORMED',
        message: `entry ${p.index} in the chain of ${chainDevice} does not hold a v1 reading`,
        entryIndex: p.index,
        deviceId: chainDevice,
      })
      return null
    }
    const r = { entry: p, reading: d, chainDevice }
    decoded.set(p, r)
    return r
  }
  const chainR = chains.map((c) => ({
    deviceId: c.deviceId,
    before: readingOf(c.before, c.deviceId),
    readings: c.readings.map((p) => readingOf(p, c.deviceId)).filter((r): r is ChainReading => r !== null),
    gaps: c.gaps,
  }))
  const postR = postClose.map((p) => readingOf(p, 'the post-close list')).filter((r): r is ChainReading => r !== null)
  return { decoded, chainR, postR }
}

/** Checks every reading's signature (chains, post-close list, fork payloads) under its device's registered key. */
export async function checkSignatures(
  readings: Iterable<ChainReading>,
  keys: Map<string, Uint8Array>,
  engine: Engine,
  opts: VerifyOptions,
  checks: Checks,
): Promise<void> {
  const toVerify: { r: ChainReading; sig: Uint8Array; msg: Uint8Array; pub: Uint8Array }[] = []
  for (const r of readings) {
    const pub = keys.get(r.reading.fields.deviceId)
    if (!pub) {
      checks.fail('signatures', {
        code: 'SIGNATURE_INVALID',
        message: `${r.reading.fields.deviceId} seq ${r.reading.fields.seq}: no registered key for this device in the bundle`,
        deviceId: r.reading.fields.deviceId,
        seq: r.reading.fields.seq,
        entryIndex: r.entry.index,
      })
      continue
    }
    toVerify.push({ r, sig: r.reading.signature, msg: readingSigningMessage(r.reading.record), pub })
  }
  const valid = await engine.verifyMany(toVerify, (n) =>
    opts.onProgress?.({ phase: 'signatures', done: n, total: toVerify.length }),
  )
  toVerify.forEach((v, i) => {
    if (!valid[i])
      checks.fail('signatures', {
        code: 'SIGNATURE_INVALID',
        message: `${v.r.reading.fields.deviceId} seq ${v.r.reading.fields.seq} (entry ${v.r.entry.index}): the signature does not verify under the registered key ${toHex(v.pub).slice(0, 16)}…`,
        deviceId: v.r.reading.fields.deviceId,
        seq: v.r.reading.fields.seq,
        entryIndex: v.r.entry.index,
      })
  })
  if (checks.ok('signatures'))
    checks.summary('signatures', `${toVerify.length} reading signature(s) verify (Ed25519, ${engine.used})`)
}
