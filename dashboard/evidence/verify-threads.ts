/**
 * Reading signatures spread over worker threads (Node): a SpreadSignatures
 * for verifyBundle's `spreadSignatures` option. Each worker (verify-thread.ts)
 * runs the verifier's own engine — WebCrypto or noble, never the ingest's Node
 * crypto path (docs/ARCHITECTURE.md, decision 9) — so the report is the one
 * a single thread gives, only sooner on a machine with more than one core.
 *
 * The workers are started for one call and stopped after it. They run the
 * pre-built JavaScript (dist/, scripts/build-cli.ts): when this module runs as
 * TypeScript source (tsx), a worker could not load its TypeScript, and the
 * call resolves null — the checks are made on the calling thread instead.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { EngineName, SignatureItem, SpreadSignatures } from './verify-engines.ts'
import { packable, packSignatures } from './signature-batch.ts'

export interface VerifyThreadsOptions {
  /** Worker threads; default one per core. */
  threads?: number
  /** Fewer checks than this are not worth starting threads for (default 2,000). */
  minItems?: number
  /** The worker's script; default the built verify-thread.mjs beside this module, none when this module is TypeScript source. */
  workerUrl?: URL | null
}

/** The built worker beside the built bundle; as TypeScript source there is none to start. */
const defaultWorkerUrl = (): URL | null =>
  import.meta.url.endsWith('.ts') ? null : new URL('./verify-thread.mjs', import.meta.url)

export function verifyThreads({
  threads = availableParallelism(),
  minItems = 2000,
  workerUrl = defaultWorkerUrl(),
}: VerifyThreadsOptions = {}): SpreadSignatures {
  return async (engine, items, onDone) => {
    if (!workerUrl || threads < 1 || items.length < minItems || !items.every(packable)) return null
    return runOnWorkers(workerUrl, Math.min(threads, items.length), engine, items, onDone)
  }
}

function runOnWorkers(
  url: URL,
  threads: number,
  engine: EngineName,
  items: SignatureItem[],
  onDone: (n: number) => void,
): Promise<boolean[] | null> {
  // Every batch is handed out at once, in turn: the calling thread goes on to other checks (the
  // inclusion proofs) and would not be free to hand out more until it is done with them.
  const size = Math.max(64, Math.min(1024, Math.ceil(items.length / threads)))
  const out: boolean[] = new Array(items.length)
  const workers: Worker[] = []
  let done = 0
  let settled = false
  return new Promise<boolean[] | null>((resolve) => {
    const finish = (r: boolean[] | null) => {
      if (settled) return
      settled = true
      for (const w of workers) void w.terminate()
      resolve(r)
    }
    for (let t = 0; t < threads; t++) {
      const w = new Worker(url, { workerData: { engine }, execArgv: [] })
      workers.push(w)
      w.on('message', ({ start, ok }: { start: number; ok: Uint8Array | null }) => {
        if (!ok) return finish(null)
        ok.forEach((v, i) => {
          out[start + i] = v === 1
        })
        done += ok.length
        onDone(done)
        if (done === items.length) finish(out)
      })
      w.on('error', () => finish(null))
      w.on('exit', () => finish(null))
    }
    for (let start = 0, k = 0; start < items.length; start += size, k++) {
      const part = items.slice(start, start + size)
      const buf = packSignatures(part)
      workers[k % threads].postMessage({ start, buf: buf.buffer, count: part.length }, [buf.buffer])
    }
  })
}
