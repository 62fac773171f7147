/**
 * Ed25519 verification spread over worker threads (Node's crypto in each).
 *
 * Verification is the ingest's largest CPU cost per reading, and it needs
 * nothing but the key, the message and the signature, so it can run beside
 * the main thread, which keeps the broker, the ingest's judging and the
 * ledger's writes. Requests made in the same event-loop turn go to a worker
 * together, packed into one transferred buffer (no per-item structured
 * clone), up to `maxBatch` at a time; each goes to the worker with the least
 * work outstanding. Outcomes resolve per request; callers that need an order
 * (the ingest judges each device's readings in arrival order) await them in
 * that order.
 *
 * With `threads: 0` it verifies on the calling thread (the same contract).
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { cachedEd25519Verifier } from '../node-crypto/index.ts'

export interface VerifyPool {
  /** True when `signature` (64 bytes) is a valid Ed25519 signature of `message` under the 32-byte `publicKey`; false for any bad input. Never rejects. */
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): Promise<boolean>
  readonly threads: number
  /** Waits for the requests in flight, then stops the workers. */
  close(): Promise<void>
}

export interface VerifyPoolOptions {
  /** Worker threads; default one per core but one (the main thread keeps a core), at least one. 0 verifies inline. */
  threads?: number
  /** Most requests in one message to a worker (default 256). */
  maxBatch?: number
}

const MAX_MESSAGE = 0xffff

export const defaultVerifyThreads = (): number => Math.max(1, availableParallelism() - 1)

interface Pending {
  publicKey: Uint8Array
  message: Uint8Array
  signature: Uint8Array
  resolve: (ok: boolean) => void
}
interface Slot {
  worker: Worker
  inFlight: Map<number, Pending[]>
  items: number
  answered: boolean
}

/** Verifies on this thread, with a cache of parsed keys. */
function inlineVerifier(): (p: Omit<Pending, 'resolve'>) => boolean {
  const verify = cachedEd25519Verifier()
  return ({ publicKey, message, signature }) => verify(signature, message, publicKey)
}

export function createVerifyPool({
  threads = defaultVerifyThreads(),
  maxBatch = 256,
}: VerifyPoolOptions = {}): VerifyPool {
  if (!Number.isSafeInteger(threads) || threads < 0)
    throw new RangeError(`"threads" expected a non-negative integer, got ${threads}`)
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1)
    throw new RangeError(`"maxBatch" expected a positive integer, got ${maxBatch}`)
  const inline = inlineVerifier()
  const slots: Slot[] = []
  let queue: Pending[] = []
  let flushScheduled = false
  let nextId = 0
  let closed = false
  // Set when a worker cannot start at all (e.g. no worker support): verify inline from then on.
  let broken = false
  let outstanding = 0
  let drained: (() => void) | undefined
  const done = (p: Pending, ok: boolean) => {
    p.resolve(ok)
    if (--outstanding === 0 && drained) drained()
  }

  function startWorker(): Slot {
    // Plain JavaScript: the worker starts without the parent's loaders (tsx, test hooks), which would only slow its start.
    const worker = new Worker(new URL('./verify-worker.js', import.meta.url), { execArgv: [] })
    const slot: Slot = { worker, inFlight: new Map(), items: 0, answered: false }
    worker.unref()
    worker.on('message', ({ id, ok }: { id: number; ok: Uint8Array }) => {
      const batch = slot.inFlight.get(id)
      if (!batch) return
      slot.answered = true
      slot.inFlight.delete(id)
      slot.items -= batch.length
      if (slot.inFlight.size === 0) worker.unref()
      batch.forEach((p, i) => done(p, ok[i] === 1))
    })
    // A worker that dies loses no request: what it held is verified here, and a new worker takes its place.
    const fail = () => {
      const i = slots.indexOf(slot)
      if (i < 0) return
      slots.splice(i, 1)
      const held = [...slot.inFlight.values()].flat()
      slot.inFlight.clear()
      if (!slot.answered) broken = true
      else if (!closed) slots.push(startWorker())
      for (const p of held) done(p, inline(p))
    }
    worker.on('error', fail)
    worker.on('exit', fail)
    return slot
  }

  function send(batch: Pending[]): void {
    let slot = slots[0]
    for (const s of slots) if (s.items < slot.items) slot = s
    let size = 0
    for (const p of batch) size += 98 + p.message.length
    const buf = Buffer.allocUnsafeSlow(size)
    let at = 0
    for (const p of batch) {
      buf.set(p.publicKey, at)
      buf.set(p.signature, at + 32)
      buf.writeUInt16BE(p.message.length, at + 96)
      buf.set(p.message, at + 98)
      at += 98 + p.message.length
    }
    const id = nextId++
    if (slot.inFlight.size === 0) slot.worker.ref()
    slot.inFlight.set(id, batch)
    slot.items += batch.length
    const ab = buf.buffer as ArrayBuffer
    slot.worker.postMessage({ id, buf: ab, count: batch.length }, [ab])
  }

  function flush(): void {
    flushScheduled = false
    const all = queue
    queue = []
    for (let i = 0; i < all.length; i += maxBatch) send(all.slice(i, i + maxBatch))
  }

  return {
    threads,
    verify(signature, message, publicKey) {
      // Shapes a worker could not parse are invalid signatures, decided here.
      if (
        publicKey?.length !== 32 ||
        signature?.length !== 64 ||
        !(message instanceof Uint8Array) ||
        message.length > MAX_MESSAGE
      )
        return Promise.resolve(false)
      if (threads === 0 || closed || broken) return Promise.resolve(inline({ publicKey, message, signature }))
      while (slots.length < threads) slots.push(startWorker())
      outstanding++
      return new Promise<boolean>((resolve) => {
        queue.push({ publicKey, message, signature, resolve })
        if (queue.length >= maxBatch) flush()
        else if (!flushScheduled) {
          flushScheduled = true
          setImmediate(flush)
        }
      })
    },
    async close() {
      if (closed) return
      closed = true
      if (queue.length) flush()
      if (outstanding > 0)
        await new Promise<void>((resolve) => {
          drained = resolve
        })
      const all = slots.splice(0)
      await Promise.all(all.map((s) => s.worker.terminate()))
    },
  }
}
