/**
 * `coldproof bench` (npm run bench): the performance figures of DESIGN.md
 * decision 9, measured side by side in one run on this machine.
 *
 *  1. Ed25519 verification of readings: Node's crypto (the ingest), WebCrypto
 *     and @noble/ed25519 (the offline verifier's two engines).
 *  2. Reading codec: decode rate.
 *  3. Ledger appends: group commit (concurrent appends share one fsync'd
 *     batch) against one awaited append at a time (one fsync per entry).
 *  4. Merkle proofs from the stored nodes at the final ledger size.
 *  5. End to end: signed readings through the embedded broker into the ledger.
 *  6. The evidence bundle of a closed shipment of 10,000 readings: build and verify.
 */
import type { Command } from 'commander'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPublicKey, verify as nodeVerify, webcrypto } from 'node:crypto'
import * as ed from '@noble/ed25519'
import { sha512 } from '@noble/hashes/sha2.js'
import { decodeReading, readingSigningMessage, readingHash, toBase64, toHex } from '../../ledger/protocol/index.ts'
import { openLedger } from '../../ledger/ledger.ts'
import { measureSync, measureAsync, measureBatch, printTable, formatRate, type Figure } from '../bench/measure.ts'
import { runEndToEnd } from '../bench/end-to-end.ts'
import { signedChain } from '../bench/signed-chain.ts'
import { benchBundle } from '../bench/bundle.ts'

ed.hashes.sha512 = sha512
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

async function signatures(budgetMs: number): Promise<void> {
  const sk = ed.utils.randomSecretKey()
  const pk = ed.getPublicKey(sk)
  const readings = signedChain('bench-sig', sk, 256)
  const decoded = readings.map((r) => decodeReading(r.payload))
  const msgs = decoded.map((d) => readingSigningMessage(d.record))
  const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pk]), format: 'der', type: 'spki' })
  const wkey = await webcrypto.subtle.importKey('raw', pk, { name: 'Ed25519' }, false, ['verify'])
  const n = msgs.length
  const node = measureSync('node:crypto (OpenSSL)', budgetMs, (i) => { if (!nodeVerify(null, msgs[i % n], key, decoded[i % n].signature)) throw new Error('verify failed') })
  const noble = measureSync('@noble/ed25519 (pure JS)', budgetMs, (i) => { if (!ed.verify(decoded[i % n].signature, msgs[i % n], pk, { zip215: false })) throw new Error('verify failed') })
  const web = await measureAsync('WebCrypto Ed25519', budgetMs, async (i) => { if (!(await webcrypto.subtle.verify('Ed25519', wkey, decoded[i % n].signature, msgs[i % n]))) throw new Error('verify failed') })
  const sign = measureSync('@noble/ed25519 sign (firmware side)', budgetMs, (i) => { ed.sign(msgs[i % n], sk) })
  printTable('Ed25519 signature verification of readings (one core)', [node, web, noble, sign], node)
}

function codec(budgetMs: number): void {
  const sk = ed.utils.randomSecretKey()
  const readings = signedChain('bench-codec', sk, 256)
  const n = readings.length
  const dec = measureSync('decodeReading', budgetMs, (i) => { decodeReading(readings[i % n].payload) })
  const hash = measureSync('readingHash (SHA-256 of payload)', budgetMs, (i) => { readingHash(readings[i % n].payload) })
  printTable(`Reading codec (payload ${readings[0].payload.length} bytes)`, [dec, hash])
}

async function ledgerAppends(entries: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'coldproof-bench-'))
  try {
    const sk = ed.utils.randomSecretKey()
    const pk = ed.getPublicKey(sk)
    const figures: Figure[] = []
    const ledger = await openLedger({ dir: join(dir, 'group'), checkpointIntervalMs: 0, checkpointEvery: 1_000_000 })
    const seqLedger = await openLedger({ dir: join(dir, 'sequential'), checkpointIntervalMs: 0, checkpointEvery: 1_000_000 })
    try {
      for (const l of [ledger, seqLedger]) await l.registerDevice({ deviceId: 'bench-dev', publicKey: toHex(pk), by: 'bench' })
      const readings = signedChain('bench-dev', sk, entries)
      let batches = 0
      const off = ledger.onBatch(() => { batches++ })
      const group = await measureBatch('group commit (all appends in flight)', entries, async () => {
        await Promise.all(readings.map((r) => ledger.appendReading({ payload: toBase64(r.payload), deviceId: 'bench-dev', seq: r.seq }, Date.now())))
      })
      off()
      figures.push(group)
      const seqN = Math.min(entries, 300)
      const one = await measureBatch('one fsync per entry (each awaited)', seqN, async () => {
        for (const r of readings.slice(0, seqN)) await seqLedger.appendReading({ payload: toBase64(r.payload), deviceId: 'bench-dev', seq: r.seq }, Date.now())
      })
      figures.push(one)
      printTable(`Ledger appends of signed readings (LevelDB, sync writes)`, figures, one)
      console.log(`  group commit wrote ${entries} entries in ${batches} batches (${(entries / Math.max(1, batches)).toFixed(1)} entries per fsync)`)

      const size = ledger.size()
      const incl = await measureAsync(`inclusion proof at size ${size}`, 500, async (i) => { await ledger.inclusionProof((i * 7919) % size, size) })
      const cons = await measureAsync(`consistency proof ${Math.floor(size / 3)} -> ${size}`, 500, async (i) => { await ledger.consistencyProof(1 + ((i * 7919) % (size - 1)), size) })
      printTable('Merkle proofs from stored nodes (O(log n) reads)', [incl, cons])
    } finally {
      await ledger.close()
      await seqLedger.close()
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export function register(program: Command): void {
  program
    .command('bench')
    .description('measure signature verification, codec, ledger appends, proofs and end-to-end ingest on this machine')
    .option('--quick', 'shorter runs (smaller figures, noisier)')
    .action(async (o: { quick?: boolean }) => {
      const budget = o.quick ? 300 : 1500
      console.log(`ColdProof benchmark — Node ${process.version}, ${new Date().toISOString()}`)
      await signatures(budget)
      codec(budget)
      await ledgerAppends(o.quick ? 2000 : 10_000)
      const e2e = await runEndToEnd({ devices: o.quick ? 10 : 50, readingsPerDevice: o.quick ? 50 : 200 })
      console.log(`\nEnd to end: ${e2e.readings} signed readings from ${e2e.devices} devices, broker -> ingest -> ledger`)
      console.log(`  ${formatRate(e2e.perSecond)} readings/s committed (${e2e.ms.toFixed(0)} ms; ${e2e.batches} batches, ${(e2e.readings / Math.max(1, e2e.batches)).toFixed(1)} readings per fsync)`)
      const b = await benchBundle(o.quick ? 1000 : 10_000, o.quick ? ['webcrypto'] : ['webcrypto', 'noble'])
      console.log(`\nBundle of ${b.readings.toLocaleString('en-US')} readings: build and verify (${(b.bytes / 1e6).toFixed(1)} MB, ${b.result})`)
      console.log(`  build ${b.buildMs.toFixed(0)} ms; verify ${Object.entries(b.verifyMs).map(([e, ms]) => `${ms.toFixed(0)} ms (${e})`).join(', ')}`)
    })
}
