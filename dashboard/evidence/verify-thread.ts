/**
 * One worker thread of verify-threads.ts: checks batches of reading
 * signatures with the verifier's own engine (verify-engines.ts, the code the
 * browser runs), picked and proven here as on the main thread. Node only.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { pickEngine, type EngineName } from './verify-engines.ts'
import { unpackSignatures } from './signature-batch.ts'

const port = parentPort!
const engine = await pickEngine((workerData as { engine: EngineName }).engine)
port.on('message', async ({ start, buf, count }: { start: number; buf: ArrayBuffer; count: number }) => {
  // Another engine than the main thread's would give another report: refuse the batch, the main thread checks it.
  if (engine.used !== (workerData as { engine: EngineName }).engine) {
    port.postMessage({ start, ok: null })
    return
  }
  const valid = await engine.verifyMany(unpackSignatures(new Uint8Array(buf), count), () => {})
  const ok = new Uint8Array(count)
  valid.forEach((v, i) => {
    ok[i] = v ? 1 : 0
  })
  port.postMessage({ start, ok }, [ok.buffer])
})
