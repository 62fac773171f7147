/**
 * A cluster data directory for the partitioned-bundle tests, laid out as
 * `coldproof start --cluster` lays it out (<data>/cluster/layout.json,
 * partitions/p0, p1 on real LevelDB, root/): a closed shipment whose two
 * loggers live in different partitions (logger b's excursion fails it), an
 * unrelated logger in partition 0, readings signed by device keys, root ticks
 * before and after the shipment.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { openLedger, type Ledger } from '../../../ledger/store/index.ts'
import { createRootTicker, openRootLog, type RootLog } from '../../../ledger/cluster/index.ts'
import { closeClusterShipment, createClusterShipment } from '../../../ledger/cluster/index.ts'
import { ingestPartitionOf } from '../../../ledger/cluster/index.ts'
import { buildPartitionedBundle } from '../build.ts'
import { collectPartitionedBundleInputs } from '../collect-partitioned.ts'
import { BUILTIN_PROFILES } from '../../compliance/index.ts'
import { dev, nextReadingBody, MIN, T0, type Dev } from './fixture.ts'

/** The first device id of the form `<prefix>-<i>` that lands in ingest partition k of 2. */
export function idIn(prefix: string, k: number): string {
  for (let i = 0; ; i++) if (ingestPartitionOf(`${prefix}-${i}`, 2) === k) return `${prefix}-${i}`
}

export interface PartitionedTrail {
  data: string
  ledgers: Ledger[]
  root: RootLog
  tick: () => Promise<unknown>
  devices: { a: Dev; b: Dev; c: Dev }
  shipmentId: string
  /** The shipment's partitioned bundle (version 3). */
  json: string
  /** Closes the ledgers and the root log (the directory stays: the caller's). */
  close(): Promise<void>
}

export async function buildPartitionedTrail(data: string): Promise<PartitionedTrail> {
  const SHIP = 'PT-SHIP-1'
  const dir = join(data, 'cluster')
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'layout.json'), JSON.stringify({ partitions: 2 }) + '\n')
  let now = T0 - 60 * MIN
  const ledgers: Ledger[] = []
  for (const k of [0, 1])
    ledgers.push(
      await openLedger({
        dir: join(dir, 'partitions', `p${k}`),
        origin: `pt.local/p${k}`,
        clock: () => now,
        checkpointIntervalMs: 0,
      }),
    )
  const root = await openRootLog({ dir: join(dir, 'root'), origin: 'pt.local/root' })
  const tick = createRootTicker(root, ledgers)
  const a = dev(idIn('pt-logger-a', 0)),
    b = dev(idIn('pt-logger-b', 1)),
    c = dev(idIn('pt-other-c', 0))
  const home = (d: Dev) => ledgers[ingestPartitionOf(d.deviceId, 2)]
  for (const d of [a, b, c])
    await home(d).registerDevice({ deviceId: d.deviceId, publicKey: d.publicKey, model: 'TempLog 4', by: 'test' })
  const append = async (d: Dev, at: number, temp: number) => {
    now = Math.max(now, at + 2000)
    await home(d).appendReading(nextReadingBody(d, at, temp), now)
  }
  for (let at = T0 - 15 * MIN; at < T0; at += 5 * MIN) {
    await append(a, at, 500)
    await append(c, at, 500)
  }
  // An unrelated root tick before the shipment: the bundle must pick the checkpoints that cover it.
  for (const l of ledgers) await l.checkpoint()
  await tick()
  now = T0 - 5 * MIN
  await createClusterShipment(ledgers, {
    shipmentId: SHIP,
    product: 'Insulin glargine',
    route: { from: 'Basel', to: 'Lyon' },
    devices: [b.deviceId, a.deviceId],
    profile: BUILTIN_PROFILES['refrigerated-2-8'],
    startAt: T0,
    by: 'alice',
  })
  const closedAt = T0 + 60 * MIN
  for (let at = T0; at <= closedAt; at += 5 * MIN) {
    await append(a, at, 450)
    await append(b, at + 30_000, at === T0 + 30 * MIN ? 1050 : 520)
    await append(c, at, 480)
  }
  now = closedAt + 2 * MIN
  await closeClusterShipment(ledgers, { shipmentId: SHIP, closedAt, by: 'bob' })
  for (let at = closedAt + 5 * MIN; at <= closedAt + 10 * MIN; at += 5 * MIN) {
    await append(a, at, 500)
    await append(b, at, 500)
  }
  for (const l of ledgers) await l.checkpoint()
  await tick()
  const json = buildPartitionedBundle(await collectPartitionedBundleInputs(ledgers, root, SHIP)).json
  let closed = false
  return {
    data,
    ledgers,
    root,
    tick,
    devices: { a, b, c },
    shipmentId: SHIP,
    json,
    async close() {
      if (closed) return
      closed = true
      for (const l of ledgers) await l.close().catch(() => undefined)
      await root.close().catch(() => undefined)
    },
  }
}
