/**
 * `coldproof start --cluster …`: runs the cluster mode (scripts/cluster-mode.ts)
 * until Ctrl-C. Kept apart from start.ts, whose embedded mode stays the default.
 */
import { parseClusterUrls, startClusterMode, type ClusterMode } from '../cluster-mode.ts'
import { guardStandardStreams } from '../output-guard.ts'
import type { StartConfig } from '../start-config/index.ts'

/** The resolved settings (scripts/start-config/ has validated them). */
export type ClusterFlags = Pick<
  StartConfig,
  'data' | 'partitions' | 'replicas' | 'clusterUser' | 'clusterPassword' | 'register'
> & { cluster: string }

export async function runClusterMode(o: ClusterFlags): Promise<void> {
  guardStandardStreams()
  const dataDir = o.data
  let mode: ClusterMode
  try {
    mode = await startClusterMode({
      dataDir,
      servers: parseClusterUrls(o.cluster),
      partitions: o.partitions,
      replicas: o.replicas,
      ...(o.clusterUser !== undefined ? { user: o.clusterUser } : {}),
      ...(o.clusterPassword !== undefined ? { pass: o.clusterPassword } : {}),
      ...(o.register ? { registerFile: o.register } : {}),
    })
  } catch (e) {
    const err = e as Error & { code?: unknown }
    process.stderr.write(
      `coldproof start --cluster: ${typeof err.code === 'string' ? `${err.code}: ` : ''}${String(err.message).split('\n')[0]}\n`,
    )
    process.exit(1)
  }
  const { ingest } = mode
  console.log(
    [
      '',
      'ColdProof is running in cluster mode.',
      `  NATS        ${o.cluster}`,
      `  partitions  ${ingest.workers.length} (${ingest.workers.map((w) => `p${w.partition}: ${w.ledger.devices().length} devices`).join(', ')})`,
      `  data        ${dataDir}/cluster`,
      `  root key    ${ingest.root.verifierKey}`,
      ...ingest.workers.map((w) => `  p${w.partition} key      ${w.ledger.verifierKey}`),
      o.clusterUser !== undefined && o.clusterPassword
        ? `  NATS users  ${mode.authConfPath} (include it in each node's authorization block; reload nats-server after registering devices)`
        : '  NATS users  not written (give --cluster-user and --cluster-password to generate them)',
      `Registered now: ${mode.registered}. The dashboard does not run in cluster mode.`,
      'Press Ctrl-C to stop.',
    ].join('\n'),
  )
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) process.exit(130)
    stopping = true
    console.log(`\n${signal}: shutting down…`)
    await mode.close()
    console.log('stopped cleanly; the partition ledgers and the root log continue on the next start')
    process.exit(0)
  }
  process.on('SIGINT', () => void stop('SIGINT'))
  process.on('SIGTERM', () => void stop('SIGTERM'))
}
