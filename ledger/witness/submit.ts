/**
 * The log side of tlog-witness: submits each new checkpoint to the
 * configured witnesses with a consistency proof from the size the witness
 * last cosigned, learns that size from a 409 answer, checks the returned
 * cosignature against the witness's key and stores it beside the ledger
 * (cosignature-store.ts). One submission at a time, in checkpoint order.
 */
import { parseCheckpoint } from '../tlog/index.ts'
import { parseNote } from '../tlog/index.ts'
import { toBase64 } from '../protocol/index.ts'
import { addSignatureLines, parseWitnessKey, verifyCosignature } from '../tlog/index.ts'
import { storeCosignatures } from './cosignature-store.ts'

export interface WitnessTarget {
  /** Submission prefix, e.g. "http://127.0.0.1:7380/" (add-checkpoint is appended). */
  url: string
  /** The witness's cosignature/v1 verifier key. */
  vkey: string
}

export interface SubmitResult {
  url: string
  ok: boolean
  status: number
  message: string
  lines?: string
}

/** One add-checkpoint request. */
export async function postCheckpoint(
  url: string,
  oldSize: number,
  proof: Uint8Array[],
  note: string,
): Promise<{ status: number; contentType: string; body: string }> {
  const body = [`old ${oldSize}`, ...proof.map(toBase64)].join('\n') + '\n\n' + note
  const res = await fetch(new URL('add-checkpoint', url.endsWith('/') ? url : url + '/'), {
    method: 'POST',
    body,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
  })
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: await res.text() }
}

export class WitnessSubmitter {
  #ledgerDir: string
  #proof: (oldSize: number, newSize: number) => Promise<Uint8Array[]>
  #targets: WitnessTarget[]
  /** The size each witness last cosigned, as far as this process knows (0 until told otherwise by a 409). */
  #sizes = new Map<string, number>()
  #queue: Promise<unknown> = Promise.resolve()

  constructor(
    ledgerDir: string,
    proof: (oldSize: number, newSize: number) => Promise<Uint8Array[]>,
    targets: WitnessTarget[],
  ) {
    for (const t of targets) parseWitnessKey(t.vkey)
    this.#ledgerDir = ledgerDir
    this.#proof = proof
    this.#targets = targets
  }

  /** Submits `note` to every witness (queued behind earlier submissions); stores the valid cosignatures. */
  submit(note: string): Promise<SubmitResult[]> {
    const run = () =>
      Promise.all(this.#targets.map((t) => this.#one(t, note))).then(async (results) => {
        const lines = results
          .filter((r) => r.ok)
          .map((r) => r.lines!)
          .join('')
        if (lines) await storeCosignatures(this.#ledgerDir, note, lines)
        return results
      })
    const p = this.#queue.then(run, run)
    this.#queue = p.catch(() => undefined)
    return p
  }

  async #one(t: WitnessTarget, note: string): Promise<SubmitResult> {
    const size = parseCheckpoint(parseNote(note).text).size
    // Two tries: the second after a 409 told us the witness's size.
    for (let attempt = 0; attempt < 2; attempt++) {
      const old = Math.min(this.#sizes.get(t.url) ?? 0, size)
      let proof: Uint8Array[]
      try {
        proof = old === 0 ? [] : await this.#proof(old, size)
      } catch (e) {
        return {
          url: t.url,
          ok: false,
          status: 0,
          message: `no consistency proof from size ${old} to ${size}: ${(e as Error).message}`,
        }
      }
      let r
      try {
        r = await postCheckpoint(t.url, old, proof, note)
      } catch (e) {
        return { url: t.url, ok: false, status: 0, message: `cannot reach the witness: ${(e as Error).message}` }
      }
      if (r.status === 200) {
        try {
          await verifyCosignature(addSignatureLines(note, r.body), t.vkey)
        } catch (e) {
          return {
            url: t.url,
            ok: false,
            status: 200,
            message: `the witness answered a cosignature that does not verify under its key: ${(e as Error).message}`,
          }
        }
        this.#sizes.set(t.url, size)
        return { url: t.url, ok: true, status: 200, message: 'cosigned', lines: r.body }
      }
      if (r.status === 409 && r.contentType.startsWith('text/x.tlog.size')) {
        const theirs = Number(r.body.trim())
        if (!Number.isSafeInteger(theirs) || theirs < 0)
          return {
            url: t.url,
            ok: false,
            status: 409,
            message: `the witness answered 409 with ${JSON.stringify(r.body.slice(0, 40))}, not a size`,
          }
        if (theirs > size)
          return {
            url: t.url,
            ok: false,
            status: 409,
            message: `the witness has cosigned size ${theirs}, larger than this checkpoint's ${size}`,
          }
        if (theirs === old)
          return {
            url: t.url,
            ok: false,
            status: 409,
            message: `the witness refuses: it cosigned another root at size ${theirs}`,
          }
        this.#sizes.set(t.url, theirs)
        continue
      }
      return {
        url: t.url,
        ok: false,
        status: r.status,
        message: `the witness refused (HTTP ${r.status}): ${r.body.trim().slice(0, 200)}`,
      }
    }
    return { url: t.url, ok: false, status: 409, message: "the witness's size changed between two tries" }
  }
}
