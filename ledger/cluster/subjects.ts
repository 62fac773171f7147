/**
 * NATS subjects of the cluster mode (docs/SCALING.md). nats-server maps the
 * MQTT topic a/b/c to the subject a.b.c; device ids hold no dots, so the
 * mapping is one-to-one. Readings of the 16 topic partitions (the hex digit
 * of docs/PROTOCOL.md, "Topics") are split over P ingest partitions, P a
 * divisor of 16: topic partition d belongs to ingest partition d mod P, so a
 * device's chain always lands in one ingest partition, in order.
 */
import { deviceTopic, partitionOf, PARTITIONS, TOPIC_PREFIX, type DeviceTopicKind } from '../protocol/index.ts'
import { LedgerError } from '../store/index.ts'

/** A NATS subject of a device topic (MQTT "/" becomes NATS "."). */
export function deviceSubject(deviceId: string, kind: DeviceTopicKind): string {
  return deviceTopic(deviceId, kind).replaceAll('/', '.')
}

/** The MQTT topic of a NATS subject (inverse of deviceSubject). */
export function subjectTopic(subject: string): string {
  return subject.replaceAll('.', '/')
}

export const CLUSTER_PARTITION_COUNTS = [1, 2, 4, 8, 16] as const

export function checkPartitionCount(p: unknown): number {
  if (!CLUSTER_PARTITION_COUNTS.includes(p as 1)) {
    throw new LedgerError(
      'ERR_LEDGER_BAD_INPUT',
      `the number of ingest partitions must be one of ${CLUSTER_PARTITION_COUNTS.join(', ')} (a divisor of the ${PARTITIONS} topic partitions), got ${JSON.stringify(p)}`,
      { field: 'partitions' },
    )
  }
  return p as number
}

/** The ingest partition (0..count-1) that holds a device's chain. */
export function ingestPartitionOf(deviceId: string, count: number): number {
  return partitionOf(deviceId) % checkPartitionCount(count)
}

/** The JetStream stream holding the readings of ingest partition k of `count`. */
export function streamName(k: number, count: number): string {
  return `COLDPROOF_READINGS_${k}_OF_${checkPartitionCount(count)}`
}

/** The readings subjects of ingest partition k of `count`. */
export function partitionSubjects(k: number, count: number): string[] {
  checkPartitionCount(count)
  if (!Number.isInteger(k) || k < 0 || k >= count)
    throw new LedgerError('ERR_LEDGER_BAD_INPUT', `ingest partition must be 0..${count - 1}, got ${k}`, {
      field: 'partition',
    })
  const out: string[] = []
  for (let d = k; d < PARTITIONS; d += count)
    out.push(`${TOPIC_PREFIX.replaceAll('/', '.')}.${d.toString(16)}.*.readings`)
  return out
}
