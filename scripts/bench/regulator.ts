/**
 * Section 5: the regulator's side. One closed shipment of `readings` signed
 * readings (two loggers): the compliance engine over all of them, and
 * `coldproof verify` of its evidence bundle as a regulator runs it (a fresh
 * process: start-up, parsing, every signature, chain and proof); and, from
 * bundle.ts, building a one-logger bundle of the same size and verifying it in
 * process with each of the verifier's engines.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { openLedger } from '../../ledger/store/index.ts'
import { loadShipment } from '../../dashboard/server/shipment-data.ts'
import { createBundleBuilder } from '../../dashboard/evidence/collect.ts'
import { evaluateShipment } from '../../dashboard/compliance/index.ts'
import { figure, repeat, StageFailed, timeEach, type Figure } from './figures.ts'
import { provisionDevices } from './server.ts'
import { signInChildren } from './sign-pool.ts'
import { benchBundle } from './bundle.ts'
import { builtCommand } from '../built-cli.js'

const bin = fileURLToPath(new URL('../../bin/coldproof.js', import.meta.url))

export async function regulator({ readings, runs }: { readings: number; runs: number }): Promise<Figure[]> {
  const dir = await mkdtemp(join(tmpdir(), 'coldproof-bench-regulator-'))
  try {
    const t0 = Date.now() - 60 * 86_400_000
    const ledger = await openLedger({ dir: join(dir, 'ledger'), checkpointIntervalMs: 0, checkpointEvery: 1_000_000 })
    const perDevice = Math.ceil(readings / 2)
    const devices = await provisionDevices(ledger, 'bench-reg', 2, 2, t0)
    const writes: Promise<unknown>[] = []
    await signInChildren(devices, perDevice, t0, (deviceId, payloads) => {
      payloads.forEach((payload, i) => writes.push(ledger.appendReading({ payload, deviceId, seq: i + 1 }, Date.now())))
    })
    await Promise.all(writes)
    const shipmentId = 'bench-reg-ship-0'
    await ledger.closeShipment({ shipmentId, closedAt: t0 + perDevice * 60_000, by: 'bench' })
    await ledger.checkpoint()
    const data = await loadShipment(ledger, shipmentId, () => false)
    if (data.readings.length !== devices.length * perDevice)
      throw new StageFailed(
        'regulator',
        `the shipment holds ${data.readings.length} readings, expected ${devices.length * perDevice}`,
      )
    const input = {
      profile: data.body.profile,
      profileHash: data.body.profileHash,
      window: { startMs: data.state.startAt, endMs: data.state.closedAt ?? null },
      readings: data.readings.map((r) => ({
        deviceId: r.deviceId,
        seq: r.seq,
        deviceTimeMs: r.deviceTimeMs,
        tempCentiC: r.tempCentiC,
        status: r.status,
      })),
      devices: data.state.devices,
    }
    const engine = await timeEach(Math.max(5, runs), async () => {
      evaluateShipment(input)
    })
    const bundle = join(dir, 'bundle.json')
    await writeFile(bundle, (await createBundleBuilder(ledger)(shipmentId)).json)
    const vkey = join(dir, 'ledger', 'ledger.vkey')
    await ledger.close()
    const verify = await repeat(runs, async () => {
      const t = performance.now()
      try {
        await promisify(execFile)(process.execPath, [bin, 'verify', bundle, '--key', vkey], { timeout: 300_000 })
      } catch (e) {
        throw new StageFailed(
          'regulator',
          `coldproof verify did not verify the bundle: ${(e as { stdout?: string }).stdout?.slice(-500) ?? (e as Error).message}`,
        )
      }
      return performance.now() - t
    })
    const n = data.readings.length.toLocaleString('en-US')
    const inProcess = await repeat(runs, () => benchBundle(readings, ['webcrypto', 'noble']))
    for (const b of inProcess)
      if (b.result !== 'VERIFIED')
        throw new StageFailed('regulator', `the in-process bundle did not verify: ${b.result}`)
    return [
      figure(
        'regulator.bundle_build',
        'regulator',
        `build the evidence bundle of a closed ${readings.toLocaleString('en-US')}-reading shipment (one logger)`,
        'ms',
        inProcess.map((b) => b.buildMs),
        'lower',
      ),
      figure(
        'regulator.verify_webcrypto',
        'regulator',
        'verify that bundle in process, WebCrypto engine',
        'ms',
        inProcess.map((b) => b.verifyMs.webcrypto!),
        'lower',
      ),
      figure(
        'regulator.verify_noble',
        'regulator',
        'verify that bundle in process, @noble/ed25519 engine',
        'ms',
        inProcess.map((b) => b.verifyMs.noble!),
        'lower',
      ),
      figure(
        'regulator.compliance',
        'regulator',
        `compliance engine over a ${n}-reading shipment`,
        'ms',
        engine,
        'lower',
      ),
      figure(
        'regulator.verify',
        'regulator',
        `coldproof verify of that shipment's bundle (a fresh process, wall clock)`,
        'ms',
        verify,
        'lower',
        // Without a fresh build `coldproof verify` runs its sources through tsx: a slower start, said with the figure.
        builtCommand('verify') ? undefined : 'not pre-built: dist/ missing or stale, run npm run build',
      ),
    ]
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
