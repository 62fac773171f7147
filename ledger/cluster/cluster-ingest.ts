/**
 * The cluster mode's ingest (docs/SCALING.md): P partition workers over a
 * NATS JetStream cluster, and the root log that commits to all their logs.
 *
 *   <dataDir>/partitions/p<k>/   partition k's ledger (ledger/store/ledger.ts layout)
 *   <dataDir>/root/              the root log (ledger/cluster/root-log.ts)
 *
 * Each root tick records every partition's newest durable checkpoint that is
 * not recorded yet and signs one root checkpoint over them.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import type { CloseShipmentInput, CreateShipmentInput, OpenLedgerOptions, RegisterDeviceInput } from '../store/index.ts'
import type { IngestOptions } from '../ingest/index.ts'
import type { DeviceState } from '../store/index.ts'
import type { StoredEntry } from '../tlog/index.ts'
import { DEFAULT_ORIGIN } from '../store/index.ts'
import { LedgerError } from '../store/index.ts'
import { startPartitionWorker, type PartitionWorker } from './partition-worker.ts'
import { createRootTicker, openRootLog, type RootCheckpoint, type RootLog } from './root-log.ts'
import { checkPartitionCount, ingestPartitionOf } from './subjects.ts'
import { closeClusterShipment, createClusterShipment } from './cluster-shipments.ts'

export interface ClusterIngestOptions {
  /** NATS URLs of the cluster's nodes (nats://host:port); the client fails over between them. */
  servers: string[]
  user?: string
  pass?: string
  dataDir: string
  /** Ingest partitions: 1, 2, 4, 8 or 16 (fixed for the life of the data directory). */
  partitions: number
  /** Stream and consumer replicas (default 3). */
  replicas?: number
  /** Origin prefix: partition k's log is "<origin>/p<k>", the root log "<origin>/root". */
  origin?: string
  /** How often the root log records partition checkpoints and signs (default 1000 ms; 0 = only tick()/close()). */
  rootIntervalMs?: number
  ledger?: Omit<OpenLedgerOptions, 'dir' | 'origin'>
  ingest?: Omit<IngestOptions, 'ledger' | 'url' | 'publish'>
}

export interface ClusterIngest {
  readonly workers: readonly PartitionWorker[]
  readonly root: RootLog
  readonly nc: NatsConnection
  /** Registers a device in the ledger of its partition. */
  registerDevice(body: RegisterDeviceInput): Promise<StoredEntry<'device.register'>>
  /** Every partition's devices. */
  devices(): DeviceState[]
  /** Creates a shipment as one slice per partition holding its loggers (cluster-shipments.ts). */
  createShipment(body: CreateShipmentInput): Promise<StoredEntry<'shipment.create'>[]>
  /** Closes every slice of a shipment. */
  closeShipment(body: CloseShipmentInput): Promise<StoredEntry<'shipment.close'>[]>
  /** Records new partition checkpoints in the root log and signs a root checkpoint; resolves with the newest. */
  tick(): Promise<RootCheckpoint | undefined>
  close(): Promise<void>
}

/**
 * P is fixed for the life of a data directory (a device's chain lives in one
 * partition's ledger): recorded in <dataDir>/layout.json at first start, refused if different later.
 */
async function checkLayout(dataDir: string, partitions: number): Promise<void> {
  const path = join(dataDir, 'layout.json')
  await mkdir(dataDir, { recursive: true })
  let text: string | undefined
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
  if (text === undefined) {
    await writeFile(path, JSON.stringify({ partitions }) + '\n', { flag: 'wx' })
    return
  }
  const was = (JSON.parse(text) as { partitions?: unknown }).partitions
  if (was !== partitions) {
    throw new LedgerError(
      'ERR_LEDGER_BAD_INPUT',
      `${dataDir} holds ${String(was)} ingest partitions, ${partitions} were asked for; the number is fixed for a data directory (docs/SCALING.md, "Partitions")`,
      { field: 'partitions', was, asked: partitions },
    )
  }
}

export async function startClusterIngest(opts: ClusterIngestOptions): Promise<ClusterIngest> {
  const count = checkPartitionCount(opts.partitions)
  if (!Array.isArray(opts.servers) || opts.servers.length === 0)
    throw new LedgerError('ERR_LEDGER_BAD_INPUT', 'the cluster mode needs at least one NATS URL (nats://host:port)', {
      field: 'servers',
    })
  const origin = opts.origin ?? DEFAULT_ORIGIN
  const replicas = opts.replicas ?? 3
  await checkLayout(opts.dataDir, count)
  const nc = await connect({
    servers: opts.servers,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    name: 'coldproof-ingest',
    ...(opts.user !== undefined ? { user: opts.user } : {}),
    ...(opts.pass !== undefined ? { pass: opts.pass } : {}),
  })
  const workers: PartitionWorker[] = []
  let root: RootLog | undefined
  try {
    root = await openRootLog({ dir: join(opts.dataDir, 'root'), origin: `${origin}/root` })
    for (let k = 0; k < count; k++) {
      workers.push(
        await startPartitionWorker({
          nc,
          partition: k,
          count,
          replicas,
          dir: join(opts.dataDir, 'partitions', `p${k}`),
          origin: `${origin}/p${k}`,
          ...(opts.ledger ? { ledger: opts.ledger } : {}),
          ...(opts.ingest ? { ingest: opts.ingest } : {}),
        }),
      )
    }
  } catch (e) {
    for (const w of workers) await w.close().catch(() => undefined)
    await root?.close().catch(() => undefined)
    await nc.close()
    throw e
  }
  const rootLog = root
  const tick = createRootTicker(
    rootLog,
    workers.map((w) => w.ledger),
  )
  const interval = opts.rootIntervalMs ?? 1000
  const timer =
    interval > 0
      ? setInterval(() => {
          tick().catch(() => undefined)
        }, interval)
      : undefined
  timer?.unref()

  return {
    workers,
    root: rootLog,
    nc,
    registerDevice: (body) => workers[ingestPartitionOf(String(body?.deviceId), count)].ledger.registerDevice(body),
    devices: () => workers.flatMap((w) => w.ledger.devices()),
    createShipment: (body) =>
      createClusterShipment(
        workers.map((w) => w.ledger),
        body,
      ),
    closeShipment: (body) =>
      closeClusterShipment(
        workers.map((w) => w.ledger),
        body,
      ),
    tick,
    async close() {
      if (timer) clearInterval(timer)
      for (const w of workers) await w.close()
      // The partitions' final checkpoints (signed on close) go into a final root checkpoint.
      await tick()
      await rootLog.close()
      await nc.drain().catch(() => undefined)
    },
  }
}
