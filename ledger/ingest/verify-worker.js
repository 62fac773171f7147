// A verify-pool worker (ledger/ingest/verify-pool.ts): verifies batches of Ed25519
// signatures with Node's crypto. Plain JavaScript because worker_threads
// start without the TypeScript loader the rest of the project runs under.
//
// In:  { id, buf } where buf packs each item as
//      publicKey (32) | signature (64) | message length (u16 BE) | message
// Out: { id, ok } with ok[i] = 1 when item i verifies, else 0 (transferred).
import { parentPort } from 'node:worker_threads'
import { createPublicKey, verify } from 'node:crypto'

// The same wrapping as ledger/node-crypto/ed25519-node.ts: a worker thread loads plain JavaScript, without the TypeScript loader.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')
const MAX_KEYS = 100_000
const keys = new Map()

function keyOf(pk) {
  const id = pk.toString('latin1')
  let k = keys.get(id)
  if (k === undefined) {
    try {
      k = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pk]), format: 'der', type: 'spki' })
    } catch {
      k = null
    }
    if (keys.size >= MAX_KEYS) keys.clear()
    keys.set(id, k)
  }
  return k
}

parentPort.on('message', ({ id, buf, count }) => {
  const b = Buffer.from(buf)
  const ok = new Uint8Array(count)
  let at = 0
  for (let i = 0; i < count; i++) {
    const pk = b.subarray(at, at + 32)
    const sig = b.subarray(at + 32, at + 96)
    const len = b.readUInt16BE(at + 96)
    const msg = b.subarray(at + 98, at + 98 + len)
    at += 98 + len
    const key = keyOf(pk)
    try {
      ok[i] = key !== null && verify(null, msg, key, sig) ? 1 : 0
    } catch {
      ok[i] = 0
    }
  }
  parentPort.postMessage({ id, ok }, [ok.buffer])
})
