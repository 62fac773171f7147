/**
 * Topic ACL (ARCHITECTURE.md decisions 3 and 11): who may publish or subscribe
 * where. Pure functions over the wire protocol's topic layout
 *   coldproof/v1/{partition}/{deviceId}/{readings|receipt|resend}
 * The broker checks topics only, never payloads.
 */
import {
  DEVICE_ID_PATTERN,
  PARTITIONS,
  TOPIC_PREFIX,
  deviceTopic,
  parseDeviceTopic,
  partitionOf,
} from '../ledger/protocol/index.ts'
import type { DeviceTopicKind } from '../ledger/protocol/index.ts'
import type { ServiceRole } from './service-accounts.ts'

export type Identity =
  | { kind: 'device'; deviceId: string }
  | { kind: 'service'; username: string; role: ServiceRole; partitions?: readonly number[] }

const ALL_KINDS: readonly DeviceTopicKind[] = ['readings', 'receipt', 'resend']

function partitionAllowed(id: Identity & { kind: 'service' }, p: number): boolean {
  return !id.partitions || id.partitions.includes(p)
}

function allPartitions(id: Identity & { kind: 'service' }): boolean {
  return !id.partitions || Array.from({ length: PARTITIONS }, (_, p) => p).every((p) => id.partitions!.includes(p))
}

/**
 * A device may publish under its own id to readings with any partition digit:
 * the digit is the ingest's check (ERR_TOPIC_INVALID, quarantined and counted),
 * so a wrong one is refused alike on this broker and on an external one whose
 * ACL cannot compute it (docs/PROTOCOL.md, "Topics").
 */
function ownReadingsTopic(deviceId: string, topic: string): boolean {
  // `${TOPIC_PREFIX}/{hex digit}/${deviceId}/readings`, compared in place: every device publish is checked
  // here, and splitting the topic made five strings and an array each time.
  const at = TOPIC_PREFIX.length
  return (
    topic.length === at + 3 + deviceId.length + OWN_READINGS_SUFFIX.length &&
    topic.startsWith(TOPIC_PREFIX) &&
    topic[at] === '/' &&
    HEX_DIGITS.includes(topic[at + 1]) &&
    topic[at + 2] === '/' &&
    topic.startsWith(deviceId, at + 3) &&
    topic.endsWith(OWN_READINGS_SUFFIX) &&
    !deviceId.includes('/')
  )
}
const OWN_READINGS_SUFFIX = '/readings'
const HEX_DIGITS = '0123456789abcdef'

export function mayPublish(id: Identity, topic: string): boolean {
  if (id.kind === 'device') return ownReadingsTopic(id.deviceId, topic)
  if (id.role !== 'ingest') return false
  let parsed
  try {
    parsed = parseDeviceTopic(topic)
  } catch {
    return false
  }
  return (parsed.kind === 'receipt' || parsed.kind === 'resend') && partitionAllowed(id, parsed.partition)
}

/**
 * A filter is allowed only if every topic it can match is allowed: no '#',
 * '+' in the partition level only for an account with every partition, '+'
 * in the kind level only for a role allowed every kind.
 */
export function maySubscribe(id: Identity, filter: string): boolean {
  if (id.kind === 'device')
    return filter === deviceTopic(id.deviceId, 'receipt') || filter === deviceTopic(id.deviceId, 'resend')
  const kinds: readonly DeviceTopicKind[] = id.role === 'ingest' ? ['readings'] : ALL_KINDS
  const l = filter.split('/')
  if (l.length !== 5 || `${l[0]}/${l[1]}` !== TOPIC_PREFIX) return false
  const [, , part, device, kind] = l
  if (kind === '+' ? kinds.length !== ALL_KINDS.length : !kinds.includes(kind as DeviceTopicKind)) return false
  if (device !== '+' && !DEVICE_ID_PATTERN.test(device)) return false
  if (part === '+') return device === '+' ? allPartitions(id) : partitionAllowed(id, partitionOf(device))
  if (!/^[0-9a-f]$/.test(part)) return false
  const p = parseInt(part, 16)
  return partitionAllowed(id, p) && (device === '+' || partitionOf(device) === p)
}
