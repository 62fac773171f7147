/**
 * Section 4: growth. One ledger pre-filled with `size` signed readings
 * (devices in shipments of four), built once per run with large group-commit
 * batches; on it: appends against an empty ledger, inclusion and consistency
 * proofs, the dashboard's one-shipment query, and the time to open the ledger,
 * to have the dashboard listening and to have its live monitor caught up.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLedger, type Ledger } from '../../ledger/store/index.ts'
import { loadShipment } from '../../dashboard/server/shipment-data.ts'
import { buildDashboard } from '../../dashboard/server/app.ts'
import { openUserStore } from '../../dashboard/server/users.ts'
import { figure, repeat, timeEach, type Figure } from './figures.ts'
import { provisionDevices } from './server.ts'
import { signInChildren } from './sign-pool.ts'
import type { BenchDevice } from './publishers.ts'

const T0 = Date.now() - 400 * 86_400_000
const ledgerOpts = (dir: string) => ({ dir, checkpointIntervalMs: 0, checkpointEvery: 1_000_000 })

/** Appends each device's chain through the ledger API, many appends in flight (the ingest's path minus MQTT). */
async function fill(ledger: Ledger, devices: BenchDevice[], perDevice: number, t0: number): Promise<void> {
  let inFlight: Promise<unknown>[] = []
  await signInChildren(devices, perDevice, t0, async (deviceId, payloads) => {
    payloads.forEach((payload, i) => inFlight.push(ledger.appendReading({ payload, deviceId, seq: i + 1 }, Date.now())))
    if (inFlight.length >= 20_000) {
      await Promise.all(inFlight)
      inFlight = []
    }
  })
  await Promise.all(inFlight)
}

/** Appends/s of `count` fresh readings (20 devices' new chains) added to `ledger`. */
async function appendRate(ledger: Ledger, prefix: string, count: number): Promise<number> {
  const devices = await provisionDevices(ledger, prefix, 20)
  const chains = new Map<string, string[]>()
  await signInChildren(devices, Math.ceil(count / 20), T0, (id, p) => {
    chains.set(id, p)
  })
  const start = performance.now()
  await Promise.all(
    [...chains].flatMap(([deviceId, payloads]) =>
      payloads.map((payload, i) => ledger.appendReading({ payload, deviceId, seq: i + 1 }, Date.now())),
    ),
  )
  return (chains.size * Math.ceil(count / 20) * 1000) / (performance.now() - start)
}

export async function growth({
  size,
  runs,
  appendCount,
  proofSamples,
}: {
  size: number
  runs: number
  appendCount: number
  proofSamples: number
}): Promise<Figure[]> {
  const root = await mkdtemp(join(tmpdir(), 'coldproof-bench-growth-'))
  const figures: Figure[] = []
  const sizeText = size.toLocaleString('en-US')
  try {
    // Warm-up (not measured): the first appends of a process also pay for compiling the code.
    const warm = await openLedger(ledgerOpts(join(root, 'warm-up')))
    try {
      await appendRate(warm, 'bench-warm', Math.min(appendCount, 2000))
    } finally {
      await warm.close()
    }
    const dir = join(root, 'big')
    let ledger = await openLedger(ledgerOpts(dir))
    const perDevice = 1000
    const devices = await provisionDevices(ledger, 'bench-big', Math.ceil(size / perDevice), 4, T0)
    const fillStart = performance.now()
    await fill(ledger, devices, perDevice, T0)
    const fillSeconds = (performance.now() - fillStart) / 1000
    const filled = ledger.size()
    figures.push(
      figure(
        'growth.prefill',
        'growth',
        `pre-fill: ${filled.toLocaleString('en-US')} entries signed (child processes) and appended`,
        's',
        [fillSeconds],
        'lower',
      ),
    )

    // Empty and full runs alternate, so that both meet the same load from the rest of the machine
    // (and the full ledger's background compactions of the pre-fill show in the full-size runs only).
    const empty: number[] = [],
      full: number[] = []
    for (let r = 0; r < runs; r++) {
      const l = await openLedger(ledgerOpts(join(root, `empty-${r}`)))
      try {
        empty.push(await appendRate(l, `bench-empty${r}`, appendCount))
      } finally {
        await l.close()
      }
      full.push(await appendRate(ledger, `bench-full${r}`, appendCount))
    }
    figures.push(
      figure(
        'growth.append_empty',
        'growth',
        `appends on an empty ledger (${appendCount.toLocaleString('en-US')} in flight, group commit)`,
        'entries/s',
        empty,
        'higher',
      ),
    )
    figures.push(
      figure(
        'growth.append_full',
        'growth',
        `appends on a ledger of ${sizeText} entries (${appendCount.toLocaleString('en-US')} in flight)`,
        'entries/s',
        full,
        'higher',
      ),
    )

    const n = ledger.size()
    const shipments = ledger.shipments().length
    const incl = await timeEach(proofSamples, (i) =>
      ledger.inclusionProof(Math.floor(((((i + 1) * 2654435761) % 2 ** 32) / 2 ** 32) * n), n),
    )
    figures.push(
      figure(
        'growth.inclusion_proof',
        'growth',
        `inclusion proof at ${n.toLocaleString('en-US')} entries`,
        'ms',
        incl,
        'lower',
        'spread over proofs at spread-out indices',
      ),
    )
    const cons = await timeEach(proofSamples, (i) =>
      ledger.consistencyProof(1 + Math.floor(((((i + 1) * 2654435761) % 2 ** 32) / 2 ** 32) * (n - 1)), n),
    )
    figures.push(
      figure(
        'growth.consistency_proof',
        'growth',
        `consistency proof to ${n.toLocaleString('en-US')} entries`,
        'ms',
        cons,
        'lower',
        'spread over proofs from spread-out old sizes',
      ),
    )

    const shipmentId = 'bench-big-ship-0'
    const readings = (await ledger.readingsByShipment(shipmentId)).length
    const query = await timeEach(Math.max(3, runs), () => loadShipment(ledger, shipmentId, () => false))
    figures.push(
      figure(
        'growth.shipment_query',
        'growth',
        `dashboard one-shipment query (${readings.toLocaleString('en-US')} readings + compliance) at ${sizeText} entries`,
        'ms',
        query,
        'lower',
      ),
    )

    await ledger.close()
    const open = await repeat(runs, async () => {
      const t = performance.now()
      ledger = await openLedger(ledgerOpts(dir))
      const ms = performance.now() - t
      await ledger.close()
      return ms
    })
    figures.push(
      figure('growth.open', 'growth', `open a ledger of ${n.toLocaleString('en-US')} entries`, 'ms', open, 'lower'),
    )

    const users = await openUserStore({
      file: join(root, 'users.json'),
      seed: [{ username: 'bench', password: 'bench-password-1', role: 'operator' }],
    })
    // The dashboard is ready (listening) at once; the live monitor then folds every stored reading
    // in the background (docs/ARCHITECTURE.md, "Catching up"). Both times are measured, from the open.
    const starts = await repeat(runs, async () => {
      const t = performance.now()
      const l = await openLedger(ledgerOpts(dir))
      const app = await buildDashboard({
        ledger: l,
        users,
        cookieSecret: 'bench-cookie-secret-0123456789abcdef',
        logger: false,
        integrityCheckOnStart: false,
      })
      try {
        await app.listen({ host: '127.0.0.1', port: 0 })
        const ready = performance.now() - t
        await app.dashboard.monitor.caughtUp()
        return { ready, caughtUp: performance.now() - t }
      } finally {
        await app.close()
        await l.close()
      }
    })
    figures.push(
      figure(
        'growth.start',
        'growth',
        `start: open + dashboard listening at ${n.toLocaleString('en-US')} entries`,
        'ms',
        starts.map((x) => x.ready),
        'lower',
      ),
    )
    figures.push(
      figure(
        'growth.caught_up',
        'growth',
        `start: open until the live monitor has folded every reading (${shipments} shipments) at ${n.toLocaleString('en-US')} entries`,
        'ms',
        starts.map((x) => x.caughtUp),
        'lower',
      ),
    )
    return figures
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}
