/**
 * C2SP tlog-proof (https://c2sp.org/tlog-proof): an offline-verifiable proof
 * that an entry is in the log: the header line, "index <n>", the RFC 6962
 * 2.1.1 inclusion path (one base64 hash per line, leaf's sibling first), an
 * empty line, then the signed checkpoint note verbatim. Pure.
 */
import { fromBase64, toBase64 } from '../protocol/index.ts'
import { verifyInclusion } from './merkle.ts'
import { verifyCheckpoint, type Checkpoint } from './checkpoint.ts'
import type { SignatureVerifier } from './note.ts'

export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1'

export class TlogProofError extends Error {
  readonly code = 'ERR_TLOG_PROOF_MALFORMED'
  readonly details: Readonly<Record<string, unknown>>
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message)
    this.name = 'TlogProofError'
    this.details = details
  }
}

export function formatTlogProof(
  index: number,
  proof: Uint8Array[],
  signedCheckpoint: string,
  extra?: Uint8Array,
): string {
  if (!Number.isSafeInteger(index) || index < 0)
    throw new TlogProofError(`index must be a non-negative safe integer, got ${index}`)
  proof.forEach((h, i) => {
    if (!(h instanceof Uint8Array) || h.length !== 32) throw new TlogProofError(`proof[${i}] must be a 32-byte hash`)
  })
  if (typeof signedCheckpoint !== 'string' || signedCheckpoint === '')
    throw new TlogProofError('the signed checkpoint is empty')
  const lines = [TLOG_PROOF_HEADER]
  if (extra !== undefined) lines.push(`extra ${toBase64(extra)}`)
  lines.push(`index ${index}`, ...proof.map(toBase64))
  return lines.join('\n') + '\n\n' + signedCheckpoint
}

/** Parses a tlog-proof; the checkpoint is returned as text, to be verified with verifyCheckpoint. */
export function parseTlogProof(text: string): {
  index: number
  proof: Uint8Array[]
  checkpoint: string
  extra?: Uint8Array
} {
  if (typeof text !== 'string') throw new TlogProofError(`proof expected a string, got ${typeof text}`)
  const blank = text.indexOf('\n\n')
  if (blank < 0) throw new TlogProofError('no empty line between the inclusion proof and the checkpoint')
  const lines = text.slice(0, blank).split('\n')
  const checkpoint = text.slice(blank + 2)
  if (lines[0] !== TLOG_PROOF_HEADER)
    throw new TlogProofError(`first line must be ${TLOG_PROOF_HEADER}, got ${JSON.stringify(lines[0].slice(0, 60))}`, {
      line: 1,
    })
  let n = 1
  let extra: Uint8Array | undefined
  if (lines[n]?.startsWith('extra ')) {
    const b64 = lines[n].slice(6)
    try {
      extra = fromBase64(b64)
    } catch {
      throw new TlogProofError('extra data is not base64', { line: n + 1 })
    }
    if (toBase64(extra) !== b64) throw new TlogProofError('extra data is not canonical base64', { line: n + 1 })
    n++
  }
  const m = /^index (0|[1-9][0-9]*)$/.exec(lines[n] ?? '')
  if (!m || !Number.isSafeInteger(Number(m[1])))
    throw new TlogProofError(
      `line ${n + 1} must be "index <decimal>", got ${JSON.stringify((lines[n] ?? '').slice(0, 60))}`,
      { line: n + 1 },
    )
  const proof = lines.slice(n + 1).map((l, i) => {
    let h: Uint8Array | undefined
    try {
      h = fromBase64(l)
    } catch {
      /* below */
    }
    if (h?.length !== 32 || toBase64(h) !== l)
      throw new TlogProofError(`line ${n + 2 + i} is not the base64 of a 32-byte hash`, { line: n + 2 + i })
    return h
  })
  if (checkpoint === '') throw new TlogProofError('the checkpoint after the empty line is missing')
  const out: { index: number; proof: Uint8Array[]; checkpoint: string; extra?: Uint8Array } = {
    index: Number(m[1]),
    proof,
    checkpoint,
  }
  if (extra) out.extra = extra
  return out
}

/**
 * Verifies a tlog-proof for the entry whose leaf hash is `leaf`: the checkpoint
 * signature under the ledger's verifier key (and its origin), then the
 * inclusion path against the signed root. Throws the typed error of the step
 * that fails (TlogProofError, NoteError, CheckpointError, MerkleError).
 */
export async function verifyTlogProof(
  text: string,
  leaf: Uint8Array,
  vkey: string,
  opts: { origin?: string; verify?: SignatureVerifier } = {},
): Promise<{ index: number; checkpoint: Checkpoint }> {
  const p = parseTlogProof(text)
  const checkpoint = await verifyCheckpoint(p.checkpoint, vkey, opts)
  verifyInclusion(leaf, p.index, checkpoint.size, p.proof, checkpoint.rootHash)
  return { index: p.index, checkpoint }
}
