/**
 * A C2SP tlog-witness (https://c2sp.org/tlog-witness): `POST
 * <prefix>/add-checkpoint` with "old <size>", a consistency proof and a
 * signed checkpoint. The witness cosigns (tlog-cosignature/v1) only a
 * checkpoint that is signed by a log it trusts and that extends, by an
 * RFC 6962 consistency proof, the latest one it cosigned for that log; so an
 * operator cannot get two different histories cosigned (a split view).
 *
 * Status codes are the spec's: 400 malformed, 403 no trusted signature,
 * 404 unknown log, 409 (text/x.tlog.size, the witness's size) when the old
 * size is not the witness's or the same size has another root, 422 when the
 * consistency proof does not verify; 200 with the cosignature lines.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { parseCheckpoint, type Checkpoint } from '../tlog/index.ts'
import { parseNote, parseVerifierKey, verifyNote, type SignatureVerifier } from '../tlog/index.ts'
import { verifyConsistency } from '../tlog/index.ts'
import { fromBase64, toBase64 } from '../protocol/index.ts'
import { cosignatureLine } from '../tlog/index.ts'
import type { WitnessState } from './witness-state.ts'

/** tlog-witness: a client MUST NOT send more than 63 proof lines. */
export const MAX_PROOF_LINES = 63
/** A checkpoint with its proof is a few KiB; anything far larger is refused unread. */
export const MAX_BODY_BYTES = 64 * 1024

export interface WitnessOptions {
  /** The witness's name and public key, and its Ed25519 signer (the seed never leaves the caller). */
  key: { name: string; publicKey: Uint8Array; sign(message: Uint8Array): Uint8Array }
  /** Verifier keys of the logs it witnesses; each key's name is the log's origin. */
  logs: string[]
  state: WitnessState
  /** ms UTC; the cosignature timestamp is its whole seconds. */
  clock?: () => number
  verify?: SignatureVerifier
  /** Called for every refusal that may be evidence of a misbehaving log (409 and 422). */
  onConflict?: (e: { origin: string; status: number; reason: string; checkpoint: string }) => void
}

export interface WitnessResponse {
  status: number
  contentType: string
  body: string
}

const text = (status: number, body: string): WitnessResponse => ({
  status,
  contentType: 'text/plain; charset=utf-8',
  body: body.endsWith('\n') ? body : body + '\n',
})
const sizeConflict = (size: number): WitnessResponse => ({
  status: 409,
  contentType: 'text/x.tlog.size',
  body: `${size}\n`,
})

export interface Witness {
  addCheckpoint(body: string): Promise<WitnessResponse>
  /** node:http handler: POST <prefix>add-checkpoint. */
  handler(prefix?: string): (req: IncomingMessage, res: ServerResponse) => void
}

export function createWitness(o: WitnessOptions): Witness {
  const clock = o.clock ?? Date.now
  const trusted = new Map<string, string[]>()
  for (const k of o.logs) {
    const { name } = parseVerifierKey(k)
    trusted.set(name, [...(trusted.get(name) ?? []), k.trim()])
  }

  async function addCheckpoint(body: string): Promise<WitnessResponse> {
    const blank = body.indexOf('\n\n')
    if (blank < 0) return text(400, 'the body must be "old <size>", proof lines, an empty line and a checkpoint')
    const head = body.slice(0, blank).split('\n'),
      note = body.slice(blank + 2)
    const m = /^old (0|[1-9][0-9]*)$/.exec(head[0])
    if (!m || !Number.isSafeInteger(Number(m[1])))
      return text(400, `the first line must be "old <decimal size>", got ${JSON.stringify(head[0].slice(0, 60))}`)
    const oldSize = Number(m[1])
    const proofLines = head.slice(1)
    if (proofLines.length > MAX_PROOF_LINES)
      return text(400, `at most ${MAX_PROOF_LINES} consistency proof lines, got ${proofLines.length}`)
    const proof: Uint8Array[] = []
    for (const [i, l] of proofLines.entries()) {
      let h: Uint8Array | undefined
      try {
        h = fromBase64(l)
      } catch {
        /* below */
      }
      if (h?.length !== 32 || toBase64(h) !== l)
        return text(400, `proof line ${i + 1} is not the base64 of a 32-byte hash`)
      proof.push(h)
    }
    let cp: Checkpoint
    try {
      cp = parseCheckpoint(parseNote(note).text)
    } catch (e) {
      return text(400, `not a signed checkpoint: ${(e as Error).message}`)
    }
    const keys = trusted.get(cp.origin)
    if (!keys) return text(404, `this witness does not witness the log ${JSON.stringify(cp.origin)}`)
    let signed = false
    for (const k of keys) {
      try {
        await verifyNote(note, k, o.verify)
        signed = true
        break
      } catch {
        /* try the next key of this origin */
      }
    }
    if (!signed)
      return text(403, `the checkpoint carries no valid signature by a key this witness trusts for ${cp.origin}`)
    if (oldSize > cp.size) return text(400, `old size ${oldSize} is larger than the checkpoint size ${cp.size}`)
    if (oldSize === 0 && proof.length) return text(400, 'the consistency proof must be empty when the old size is 0')
    const { text: cpText } = parseNote(note)
    const conflict = (status: number, reason: string) =>
      o.onConflict?.({ origin: cp.origin, status, reason, checkpoint: note })

    return o.state.update(cp.origin, (cur) => {
      const size = cur?.size ?? 0
      if (oldSize !== size) {
        if (cur && cp.size <= size) conflict(409, `old size ${oldSize} is not the cosigned size ${size}`)
        return { result: sizeConflict(size) }
      }
      if (cur && cp.size === size && cur.rootHash !== toBase64(cp.rootHash)) {
        conflict(409, `a second root for size ${size}: ${toBase64(cp.rootHash)} after ${cur.rootHash}`)
        return { result: sizeConflict(size) }
      }
      if (cur && cp.size > size) {
        try {
          verifyConsistency(size, cp.size, fromBase64(cur.rootHash), cp.rootHash, proof)
        } catch (e) {
          conflict(422, `not consistent with size ${size}: ${(e as Error).message}`)
          return {
            result: text(
              422,
              `the consistency proof from ${size} to ${cp.size} does not verify: ${(e as Error).message}`,
            ),
          }
        }
      }
      const line = cosignatureLine(cpText, o.key, o.key.sign, Math.floor(clock() / 1000))
      return {
        next: { size: cp.size, rootHash: toBase64(cp.rootHash) },
        result: { status: 200, contentType: 'text/plain; charset=utf-8', body: line },
      }
    })
  }

  return {
    addCheckpoint,
    handler(prefix = '/') {
      return (req, res) => {
        const reply = (r: WitnessResponse) => {
          res.writeHead(r.status, { 'content-type': r.contentType, 'cache-control': 'no-store' })
          res.end(r.body)
        }
        const path = new URL(req.url ?? '/', 'http://x').pathname
        if (path !== `${prefix}add-checkpoint`)
          return reply(text(404, 'not found; the witness answers POST add-checkpoint'))
        if (req.method !== 'POST') {
          res.setHeader('allow', 'POST')
          return reply(text(405, 'add-checkpoint takes POST'))
        }
        const chunks: Buffer[] = []
        let n = 0,
          over = false
        req.on('data', (c: Buffer) => {
          n += c.length
          if (n > MAX_BODY_BYTES) over = true
          else chunks.push(c)
        })
        req.on('end', () => {
          if (over) return reply(text(413, `the body is larger than ${MAX_BODY_BYTES} bytes`))
          const body = Buffer.concat(chunks).toString('utf8')
          addCheckpoint(body).then(reply, (e: Error) =>
            reply(text(500, `the witness could not record the checkpoint: ${e.message}`)),
          )
        })
        req.on('error', () => res.destroy())
      }
    },
  }
}
