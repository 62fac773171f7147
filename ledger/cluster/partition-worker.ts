/**
 * One ingest partition of the cluster mode (docs/SCALING.md): a durable pull
 * consumer on the partition's replicated JetStream stream feeds the usual
 * ingest (ledger/ingest/ingest.ts: judging, chaining, quarantine) over the
 * partition's own ledger (own LevelDB, own key, own signed checkpoints).
 *
 * A JetStream message is acknowledged only once its outcome (entry or
 * quarantine record) is durable; one whose commit failed is negatively
 * acknowledged with a delay and redelivered. Receipts and resend requests go
 * to the device over NATS core on the mapped subject, and a receipt only once
 * a signed checkpoint of this partition covering the reading is durable
 * (the ingest's rule, docs/PROTOCOL.md "Receipts and resend").
 */
import type { NatsConnection } from '@nats-io/transport-node'
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type ConsumerMessages,
  type JsMsg,
} from '@nats-io/jetstream'
import { openLedger, type Ledger, type OpenLedgerOptions } from '../store/index.ts'
import { createIngest, type Ingest, type IngestOptions } from '../ingest/index.ts'
import { encodeReceipt, fromHex, GENESIS_PREV_HASH, deviceTopic } from '../protocol/index.ts'
import { LedgerError } from '../store/index.ts'
import { partitionSubjects, streamName, subjectTopic } from './subjects.ts'

export interface PartitionWorkerOptions {
  nc: NatsConnection
  /** This worker's ingest partition, 0..count-1. */
  partition: number
  count: number
  /** The partition's ledger directory. */
  dir: string
  /** Checkpoint origin of this partition's log. */
  origin: string
  /** Stream replicas (3 on a cluster of three or more; 1 on a single server). */
  replicas: number
  ledger?: Omit<OpenLedgerOptions, 'dir' | 'origin'>
  ingest?: Omit<IngestOptions, 'ledger' | 'url' | 'publish'>
  /** Unacknowledged messages the consumer hands out at most (default 2,000). */
  maxAckPending?: number
  /** Redelivery delay of a message whose commit failed (default 2 s). */
  retryDelayMs?: number
}

export interface PartitionWorkerStats {
  acked: number
  retried: number
}

export interface PartitionWorker {
  readonly partition: number
  readonly ledger: Ledger
  readonly ingest: Ingest
  stats(): PartitionWorkerStats
  /** Stops consuming, lets what was received commit and be acknowledged, closes the ledger (signing a final checkpoint). */
  close(): Promise<void>
}

const ACK_WAIT_MS = 30_000

/** Creates or checks the partition's stream and durable consumer; a stream of another partition layout is refused. */
export async function ensurePartitionStream(
  nc: NatsConnection,
  partition: number,
  count: number,
  replicas: number,
  maxAckPending = 2000,
): Promise<{ stream: string; durable: string }> {
  const jsm = await jetstreamManager(nc, { timeout: 20_000 })
  const stream = streamName(partition, count)
  const subjects = partitionSubjects(partition, count)
  try {
    const info = await jsm.streams.info(stream)
    if (JSON.stringify(info.config.subjects) !== JSON.stringify(subjects)) {
      throw new LedgerError(
        'ERR_LEDGER_BAD_INPUT',
        `stream ${stream} exists with subjects ${info.config.subjects?.join(' ')}, expected ${subjects.join(' ')}`,
        { stream },
      )
    }
  } catch (e) {
    if (e instanceof LedgerError) throw e
    // Work-queue retention: a reading leaves the stream once acknowledged, i.e. once it is durable in the partition's ledger.
    await jsm.streams.add({
      name: stream,
      subjects,
      num_replicas: replicas,
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
    })
  }
  const durable = `coldproof-ingest-${partition}`
  await jsm.consumers.add(stream, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: ACK_WAIT_MS * 1_000_000,
    max_ack_pending: maxAckPending,
    num_replicas: replicas,
  })
  return { stream, durable }
}

export async function startPartitionWorker(opts: PartitionWorkerOptions): Promise<PartitionWorker> {
  const { nc, partition, count, replicas, retryDelayMs = 2000 } = opts
  const { stream, durable } = await ensurePartitionStream(nc, partition, count, replicas, opts.maxAckPending)
  const ledger = await openLedger({ ...opts.ledger, dir: opts.dir, origin: opts.origin })
  const stats: PartitionWorkerStats = { acked: 0, retried: 0 }
  const ingest = createIngest({
    ...opts.ingest,
    ledger,
    url: 'nats:', // the ingest's own MQTT client is never started here
    publish: (topic, payload) => {
      if (!nc.isClosed()) nc.publish(topic.replaceAll('/', '.'), payload)
    },
  })
  ingest.on('error', () => {
    /* counted in stats.retried; the message is redelivered */
  })
  let messages: ConsumerMessages | undefined
  try {
    messages = await (await jetstream(nc).consumers.get(stream, durable)).consume({ max_messages: 256 })
  } catch (e) {
    await ledger.close()
    throw e
  }
  const onMessage = (m: JsMsg) => {
    ingest.handle(subjectTopic(m.subject), m.data).then(
      () => {
        m.ack()
        stats.acked++
      },
      () => {
        m.nak(retryDelayMs)
        stats.retried++
      },
    )
  }
  const loop = (async () => {
    for await (const m of messages) onMessage(m)
  })()

  // Say again what the ledger holds (after a restart or a restore), as the MQTT ingest does on start.
  const announce = async () => {
    const devices = ledger.devices().filter((d) => !d.revoked)
    if (ledger.size() > 0) await ledger.whenAnchored(ledger.size() - 1)
    for (const d of devices) {
      const hash = d.contiguous > 0 && d.contiguousHash ? fromHex(d.contiguousHash) : GENESIS_PREV_HASH
      nc.publish(deviceTopic(d.deviceId, 'receipt').replaceAll('/', '.'), encodeReceipt({ seq: d.contiguous, hash }))
    }
  }
  const announced = announce().catch(() => undefined)
  const gapEvery = opts.ingest?.gapCheckIntervalMs ?? 5000
  const gapTimer =
    gapEvery > 0
      ? setInterval(() => {
          ingest.checkGaps().catch(() => undefined)
        }, gapEvery)
      : undefined
  gapTimer?.unref()

  return {
    partition,
    ledger,
    ingest,
    stats: () => ({ ...stats }),
    async close() {
      if (gapTimer) clearInterval(gapTimer)
      await messages!.close().catch(() => undefined)
      await loop.catch(() => undefined)
      await announced
      await ingest.close()
      await ledger.close()
    },
  }
}
