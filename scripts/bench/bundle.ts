/**
 * The evidence bundle of one closed shipment of n readings, built from a real
 * ledger and verified offline: how long building and verifying take. Measured
 * and printed by `coldproof bench`, never asserted.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as ed from '@noble/ed25519'
import { toBase64, toHex } from '../../ledger/protocol/index.ts'
import { openLedger } from '../../ledger/store/index.ts'
import { BUILTIN_PROFILES } from '../../dashboard/compliance/index.ts'
import { createBundleBuilder } from '../../dashboard/evidence/collect.ts'
import { verifyBundle, type EngineName } from '../../dashboard/evidence/verify.ts'
import { signedChain } from './signed-chain.ts'

export interface BundleFigures {
  readings: number
  bytes: number
  buildMs: number
  verifyMs: Partial<Record<EngineName, number>>
  result: string
}

export async function benchBundle(n: number, engines: EngineName[]): Promise<BundleFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'coldproof-bench-bundle-'))
  const ledger = await openLedger({ dir, checkpointIntervalMs: 0, checkpointEvery: 1_000_000 })
  try {
    const sk = ed.utils.randomSecretKey()
    const t0 = Date.UTC(2026, 0, 1)
    const readings = signedChain('bench-bundle', sk, n, t0)
    await ledger.registerDevice({ deviceId: 'bench-bundle', publicKey: toHex(ed.getPublicKey(sk)), by: 'bench' })
    await ledger.createShipment({
      shipmentId: 'BENCH-1',
      product: 'bench',
      route: { from: 'a', to: 'b' },
      devices: ['bench-bundle'],
      profile: BUILTIN_PROFILES['refrigerated-2-8'],
      startAt: t0,
      by: 'bench',
    })
    await Promise.all(
      readings.map((r) =>
        ledger.appendReading({ payload: toBase64(r.payload), deviceId: 'bench-bundle', seq: r.seq }, Date.now()),
      ),
    )
    await ledger.closeShipment({ shipmentId: 'BENCH-1', closedAt: t0 + n * 60_000, by: 'bench' })
    let start = performance.now()
    const { json } = await createBundleBuilder(ledger)('BENCH-1')
    const buildMs = performance.now() - start
    const verifyMs: BundleFigures['verifyMs'] = {}
    let result = ''
    for (const engine of engines) {
      start = performance.now()
      const r = await verifyBundle(json, { trustedKey: ledger.verifierKey, engine })
      verifyMs[engine] = performance.now() - start
      result = r.result
    }
    return { readings: n, bytes: json.length, buildMs, verifyMs, result }
  } finally {
    await ledger.close()
    await rm(dir, { recursive: true, force: true })
  }
}
