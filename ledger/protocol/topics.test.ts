/** MQTT topics of protocol v1 (topics.ts): partition rule, format and parse. */
import t from 'tap'
import { sha256 } from '@noble/hashes/sha2.js'
import {
  deviceTopic,
  parseDeviceTopic,
  partitionOf,
  readingsFilters,
  PARTITIONS,
  TOPIC_PREFIX,
  type DeviceTopicKind,
} from './topics.ts'
import { ProtocolError } from './errors.ts'

t.test('partition = high nibble of the first byte of SHA-256(UTF-8 device id)', async (t) => {
  for (const id of ['a', 'truck-7-probe-1', 'dry-ice-box-0042', '0', 'z'.repeat(32)]) {
    const h = sha256(new TextEncoder().encode(id))
    t.equal(partitionOf(id), h[0] >> 4, id)
  }
  // Worked example from docs/PROTOCOL.md: SHA-256("truck-7-probe-1") starts with 0xd?, so partition "d".
  t.equal(partitionOf('truck-7-probe-1').toString(16), 'd')
  t.throws(() => partitionOf('Bad Id'), { code: 'ERR_READING_BAD_DEVICE_ID' })
  t.throws(
    () => partitionOf('Bad Id'),
    { code: 'ERR_READING_BAD_DEVICE_ID' },
    'refused again: only valid ids are memoised',
  )
  t.equal(partitionOf('truck-7-probe-1').toString(16), 'd', 'the memoised partition is the same')
})

t.test('partitions spread a fleet over all 16 values', async (t) => {
  const counts = new Array(PARTITIONS).fill(0)
  for (let i = 0; i < 1600; i++) counts[partitionOf(`dev-${i}`)]++
  t.ok(
    counts.every((c) => c > 50),
    `every partition gets devices: ${counts.join(',')}`,
  )
})

t.test('format and parse round trip for every kind', async (t) => {
  for (const id of ['a', 'truck-7-probe-1', 'x'.repeat(32)]) {
    for (const kind of ['readings', 'receipt', 'resend'] as DeviceTopicKind[]) {
      const topic = deviceTopic(id, kind)
      t.equal(topic, `${TOPIC_PREFIX}/${partitionOf(id).toString(16)}/${id}/${kind}`)
      t.same(parseDeviceTopic(topic), { deviceId: id, partition: partitionOf(id), kind })
    }
  }
})

t.test('wrong partition digit is refused with the expected one as evidence', async (t) => {
  const id = 'truck-7-probe-1'
  const right = partitionOf(id)
  for (let p = 0; p < 16; p++) {
    if (p === right) continue
    const topic = `coldproof/v1/${p.toString(16)}/${id}/readings`
    try {
      parseDeviceTopic(topic)
      t.fail(`${topic} parsed`)
    } catch (e) {
      t.ok(
        e instanceof ProtocolError &&
          e.code === 'ERR_TOPIC_INVALID' &&
          e.message.includes(`expected ${right.toString(16)}`),
        `partition ${p.toString(16)} refused`,
      )
    }
  }
})

t.test('malformed topics', async (t) => {
  const id = 'truck-7-probe-1',
    p = partitionOf(id).toString(16)
  for (const topic of [
    '',
    'coldproof',
    `coldproof/v1/${p}/${id}`,
    `coldproof/v2/${p}/${id}/readings`,
    `coldproof/v1/${p}/${id}/readings/extra`,
    `coldproof/v1/${p.toUpperCase()}/${id}/readings`,
    `coldproof/v1/1${p}/${id}/readings`,
    `coldproof/v1/${p}/${id}/status`,
    `coldproof/v1/${p}/Truck-7/readings`,
    `coldproof/v1/+/${id}/readings`,
    `coldproof/v1/${p}/+/readings`,
    `coldproof/v1/#`,
    `/coldproof/v1/${p}/${id}/readings`,
    `coldproof/v1/${p}//readings`,
    `Coldproof/v1/${p}/${id}/readings`,
  ]) {
    t.throws(() => parseDeviceTopic(topic), { code: 'ERR_TOPIC_INVALID' }, JSON.stringify(topic))
  }
  t.throws(() => parseDeviceTopic(42 as unknown as string), { code: 'ERR_TOPIC_INVALID' }, 'a non-string')
})

t.test('subscription filters for ingest partitions', async (t) => {
  t.same(readingsFilters(), ['coldproof/v1/+/+/readings'])
  t.same(readingsFilters([]), ['coldproof/v1/+/+/readings'])
  t.same(readingsFilters([...Array(16).keys()]), ['coldproof/v1/+/+/readings'])
  t.same(readingsFilters([0, 10, 15]), [
    'coldproof/v1/0/+/readings',
    'coldproof/v1/a/+/readings',
    'coldproof/v1/f/+/readings',
  ])
  for (const bad of [-1, 16, 1.5]) t.throws(() => readingsFilters([bad]), RangeError)
  // Every device's readings topic matches exactly one partition filter (MQTT 4.7.1.3: '+' matches one level).
  const matches = (filter: string, topic: string) => {
    const f = filter.split('/'),
      s = topic.split('/')
    return f.length === s.length && f.every((seg, i) => seg === '+' || seg === s[i])
  }
  const id = 'dry-ice-box-0042'
  const topic = deviceTopic(id, 'readings')
  const matching = [...Array(16).keys()].filter((p) => matches(readingsFilters([p])[0], topic))
  t.same(matching, [partitionOf(id)])
})
