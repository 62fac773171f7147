/**
 * MQTT topics of protocol v1 (docs/PROTOCOL.md, "Topics").
 *
 *   coldproof/v1/{partition}/{deviceId}/readings   device -> ledger, QoS 1
 *   coldproof/v1/{partition}/{deviceId}/receipt    ledger -> device, QoS 1, retained
 *   coldproof/v1/{partition}/{deviceId}/resend     ledger -> device, QoS 1
 *
 * The partition is one lowercase hex digit, the high nibble of the first byte
 * of SHA-256(deviceId). aedes has no shared subscriptions, so ingest processes
 * split the fleet by subscribing to `coldproof/v1/{p}/+/readings` for their p.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { ProtocolError } from './errors.ts'
import { DEVICE_ID_PATTERN, checkDeviceId } from './reading.ts'
import { utf8 } from './bytes.ts'

export const TOPIC_PREFIX = 'coldproof/v1'
export const PARTITIONS = 16
export type DeviceTopicKind = 'readings' | 'receipt' | 'resend'
const KINDS = new Set<string>(['readings', 'receipt', 'resend'])
// The prefix's two levels, compared one by one (no joined string per parsed topic).
const [PREFIX_ROOT, PREFIX_VERSION] = TOPIC_PREFIX.split('/')

// The partition is asked for several times per reading (broker ACL, ingest topic check, receipt and
// resend topics); a SHA-256 each time was 5 % of the server's CPU at 1,000 devices. Bounded memo.
const partitions = new Map<string, number>()
const MAX_MEMO = 100_000

export function partitionOf(deviceId: string): number {
  let p = partitions.get(deviceId)
  if (p === undefined) {
    p = sha256(utf8(checkDeviceId(deviceId)))[0] >> 4
    if (partitions.size >= MAX_MEMO) partitions.clear()
    partitions.set(deviceId, p)
  }
  return p
}

export function deviceTopic(deviceId: string, kind: DeviceTopicKind): string {
  return `${TOPIC_PREFIX}/${partitionOf(deviceId).toString(16)}/${deviceId}/${kind}`
}

/** Subscription filter for the readings of some partitions (all when omitted). */
export function readingsFilters(partitions?: readonly number[]): string[] {
  if (!partitions || partitions.length === 0 || partitions.length === PARTITIONS)
    return [`${TOPIC_PREFIX}/+/+/readings`]
  return partitions.map((p) => {
    if (!Number.isInteger(p) || p < 0 || p >= PARTITIONS)
      throw new RangeError(`partition must be 0..${PARTITIONS - 1}, got ${p}`)
    return `${TOPIC_PREFIX}/${p.toString(16)}/+/readings`
  })
}

export interface ParsedTopic {
  deviceId: string
  partition: number
  kind: DeviceTopicKind
}

/** Parses a device topic; throws ERR_TOPIC_INVALID, including for a wrong partition digit. */
export function parseDeviceTopic(topic: string): ParsedTopic {
  const parts = typeof topic === 'string' ? topic.split('/') : []
  if (
    parts.length !== 5 ||
    parts[0] !== PREFIX_ROOT ||
    parts[1] !== PREFIX_VERSION ||
    !KINDS.has(parts[4]) ||
    !DEVICE_ID_PATTERN.test(parts[3]) ||
    !/^[0-9a-f]$/.test(parts[2])
  ) {
    throw new ProtocolError(
      'ERR_TOPIC_INVALID',
      `"${String(topic).slice(0, 120)}" is not a ${TOPIC_PREFIX} device topic`,
      { topic },
    )
  }
  const deviceId = parts[3]
  const partition = parseInt(parts[2], 16)
  if (partition !== partitionOf(deviceId)) {
    throw new ProtocolError(
      'ERR_TOPIC_INVALID',
      `topic partition ${parts[2]} is wrong for device ${deviceId} (expected ${partitionOf(deviceId).toString(16)})`,
      { topic },
    )
  }
  return { deviceId, partition, kind: parts[4] as DeviceTopicKind }
}
