// Worker of the "Ed25519 verify on all cores" limit: verifies the same signed
// messages with Node's crypto for a time budget and reports how many it did.
// Plain JavaScript because worker_threads start without the TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads'
import { createPublicKey, verify } from 'node:crypto'

const { spki, messages, signatures, budgetMs } = workerData
const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' })
const n = messages.length
let ops = 0
const start = performance.now()
while (performance.now() - start < budgetMs) {
  for (let k = 0; k < 20; k++, ops++)
    if (!verify(null, messages[ops % n], key, signatures[ops % n])) throw new Error('verify failed')
}
parentPort.postMessage({ ops, ms: performance.now() - start })
