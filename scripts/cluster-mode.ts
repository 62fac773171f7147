/**
 * `coldproof start --cluster nats://…` (docs/SCALING.md, "Running the cluster
 * mode"): instead of the embedded broker and the single ledger, the
 * partitioned ingest over an existing NATS JetStream cluster, and the root
 * log. The data directory holds:
 *
 *   <data>/cluster/partitions/p<k>/   one ledger per ingest partition
 *   <data>/cluster/root/              the root log
 *   <data>/cluster/nats-device.secret the secret the device passwords derive from (0600, created once)
 *   <data>/cluster/nats-auth.conf     nats-server users generated from the registry (0600)
 *
 * The dashboard and HTTP API serve one ledger and do not run in this mode.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startClusterIngest, type ClusterIngest } from '../ledger/cluster/index.ts'
import { natsAuthorizationConf } from '../broker/nats-auth.ts'
import { fromHex, toHex } from '../ledger/protocol/index.ts'

export class ClusterStartError extends Error {
  constructor(
    readonly code: 'ERR_CLUSTER_URL' | 'ERR_CLUSTER_SECRET' | 'ERR_CLUSTER_REGISTER',
    message: string,
  ) {
    super(message)
  }
}

/** Parses "nats://a:4222,nats://b:4222" into URLs; says precisely what is wrong. */
export function parseClusterUrls(value: string): string[] {
  const urls = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (urls.length === 0)
    throw new ClusterStartError(
      'ERR_CLUSTER_URL',
      'the cluster needs at least one NATS URL, e.g. nats://10.0.0.1:4222,nats://10.0.0.2:4222',
    )
  for (const u of urls) {
    let p: URL | undefined
    try {
      p = new URL(u)
    } catch {
      /* below */
    }
    if (!p || (p.protocol !== 'nats:' && p.protocol !== 'tls:') || !p.hostname)
      throw new ClusterStartError(
        'ERR_CLUSTER_URL',
        `"${u}" is not a NATS URL (expected nats://host:port or tls://host:port)`,
      )
  }
  return urls
}

/** Reads the device-password secret, creating it (32 random bytes, hex, mode 0600) on first use. */
export async function loadOrCreateClusterSecret(path: string): Promise<Uint8Array> {
  let text: string | undefined
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
  if (text === undefined) {
    await writeFile(path, toHex(randomBytes(32)) + '\n', { mode: 0o600, flag: 'wx' })
    text = await readFile(path, 'utf8')
  }
  const hex = text.trim()
  if (!/^[0-9a-f]{64,}$/.test(hex))
    throw new ClusterStartError(
      'ERR_CLUSTER_SECRET',
      `${path} must hold at least 32 bytes as lowercase hex; restore it from a backup (every device password derives from it)`,
    )
  return fromHex(hex)
}

export interface ClusterModeOptions {
  dataDir: string
  servers: string[]
  partitions: number
  replicas: number
  user?: string
  pass?: string
  /** Provisioning records (JSON array, as `coldproof sim --print-provisioning` prints) to register before ingesting. */
  registerFile?: string
}

export interface ClusterMode {
  ingest: ClusterIngest
  authConfPath: string
  registered: number
  close(): Promise<void>
}

export async function startClusterMode(o: ClusterModeOptions): Promise<ClusterMode> {
  const dir = join(o.dataDir, 'cluster')
  await mkdir(dir, { recursive: true })
  const secret = await loadOrCreateClusterSecret(join(dir, 'nats-device.secret'))
  let records: { deviceId: string; publicKey: string; model?: string; calibration?: never }[] = []
  if (o.registerFile) {
    try {
      records = JSON.parse(await readFile(o.registerFile, 'utf8'))
      if (!Array.isArray(records)) throw new Error('not a JSON array')
    } catch (e) {
      throw new ClusterStartError(
        'ERR_CLUSTER_REGISTER',
        `${o.registerFile}: expected a JSON array of provisioning records ({deviceId, publicKey, model, calibration}): ${(e as Error).message}`,
      )
    }
  }
  const ingest = await startClusterIngest({
    servers: o.servers,
    dataDir: dir,
    partitions: o.partitions,
    replicas: o.replicas,
    ...(o.user !== undefined ? { user: o.user } : {}),
    ...(o.pass !== undefined ? { pass: o.pass } : {}),
  })
  let registered = 0
  try {
    const known = new Set(ingest.devices().map((d) => d.deviceId))
    for (const r of records) {
      if (known.has(r?.deviceId)) continue
      await ingest.registerDevice({ ...r, by: 'cluster-provisioning' })
      registered++
    }
  } catch (e) {
    await ingest.close()
    throw e
  }
  const authConfPath = join(dir, 'nats-auth.conf')
  const writeAuth = () =>
    writeFile(
      authConfPath,
      natsAuthorizationConf({
        secret,
        devices: ingest.devices(),
        ingest: { user: o.user ?? 'coldproof-ingest', password: o.pass ?? '' },
      }),
      { mode: 0o600 },
    )
  if (o.user !== undefined && o.pass) await writeAuth()
  return { ingest, authConfPath, registered, close: () => ingest.close() }
}
