import t from 'tap'
import { PARTITIONS, deviceTopic, partitionOf, readingsFilters } from '../ledger/protocol/index.ts'
import { mayPublish, maySubscribe } from './acl.ts'
import type { Identity } from './acl.ts'

const dev: Identity = { kind: 'device', deviceId: 'fridge-1' }
const ingest: Identity = { kind: 'service', username: 'ingest', role: 'ingest' }
const observer: Identity = { kind: 'service', username: 'ops', role: 'observer' }
const p = partitionOf('fridge-1')
const part: Identity = { kind: 'service', username: 'ingest-p', role: 'ingest', partitions: [p] }
const otherP = (p + 1) % PARTITIONS
const wrongPartitionTopic = `coldproof/v1/${otherP.toString(16)}/fridge-1/readings`
// a device id in another partition
const otherDevice = Array.from({ length: 200 }, (_, i) => `dev-${i}`).find((id) => partitionOf(id) !== p)!

t.test('device', async (t) => {
  t.ok(mayPublish(dev, deviceTopic('fridge-1', 'readings')))
  // A wrong partition digit on its own readings passes: the ingest refuses it as ERR_TOPIC_INVALID, as behind any broker.
  t.ok(mayPublish(dev, wrongPartitionTopic), 'own readings, wrong partition digit: left to the ingest')
  for (const topic of [
    deviceTopic('fridge-2', 'readings'),
    deviceTopic('fridge-1', 'receipt'),
    deviceTopic('fridge-1', 'resend'),
    '$SYS/x',
    'coldproof/v1/+/fridge-1/readings',
    'coldproof/v1/g/fridge-1/readings',
    'coldproof/v1/dd/fridge-1/readings',
    'coldproof/v2/0/fridge-1/readings',
    'coldproof/v1/0/fridge-1/readings/x',
    '',
  ]) {
    t.notOk(mayPublish(dev, topic), `publish ${topic}`)
  }
  t.ok(maySubscribe(dev, deviceTopic('fridge-1', 'receipt')))
  t.ok(maySubscribe(dev, deviceTopic('fridge-1', 'resend')))
  // Same answers as splitting the topic on '/' (the rule as first written), near misses and odd ids included.
  const bySplit = (deviceId: string, topic: string) => {
    const l = topic.split('/')
    return (
      l.length === 5 &&
      `${l[0]}/${l[1]}` === 'coldproof/v1' &&
      /^[0-9a-f]$/.test(l[2]) &&
      l[3] === deviceId &&
      l[4] === 'readings'
    )
  }
  for (const deviceId of ['fridge-1', 'f', '', 'a/b', 'fridge-1/readings', 'Ab']) {
    for (const topic of [
      `coldproof/v1/0/${deviceId}/readings`,
      `coldproof/v1/f/${deviceId}/readings`,
      `coldproof/v1/F/${deviceId}/readings`,
      `coldproof/v1//${deviceId}/readings`,
      `coldproof/v1/a/${deviceId}/readingsx`,
      `coldproof/v1/a/${deviceId}x/readings`,
      `coldproof/v1/a/${deviceId}/readings/`,
      `coldproof/v1/a/b/readings`,
      `coldproof/v1/a//readings`,
      `coldproof/v10/a/${deviceId}/readings`,
      `xcoldproof/v1/a/${deviceId}/readings`,
      `coldproof/v1/ab/${deviceId}/readings`,
      `coldproof/v1/a/fridge-1/readings`,
      `coldproof/v1/a/a/b/readings`,
    ])
      t.equal(mayPublish({ kind: 'device', deviceId }, topic), bySplit(deviceId, topic), `${deviceId}: ${topic}`)
  }
  for (const f of [
    deviceTopic('fridge-1', 'readings'),
    deviceTopic('fridge-2', 'receipt'),
    'coldproof/v1/+/fridge-1/receipt',
    'coldproof/v1/#',
    '#',
    '+/+/+/+/+',
  ]) {
    t.notOk(maySubscribe(dev, f), `subscribe ${f}`)
  }
})

t.test('ingest', async (t) => {
  t.ok(maySubscribe(ingest, readingsFilters()[0]))
  for (const f of readingsFilters([0, 5, 15])) t.ok(maySubscribe(ingest, f), f)
  t.ok(maySubscribe(ingest, deviceTopic('fridge-1', 'readings')))
  t.ok(maySubscribe(ingest, 'coldproof/v1/+/fridge-1/readings'))
  for (const f of [
    '#',
    'coldproof/#',
    'coldproof/v1/+/+/+',
    'coldproof/v1/+/+/receipt',
    wrongPartitionTopic,
    'coldproof/v1/g/+/readings',
    'coldproof/v1/+/Bad/readings',
    'coldproof/v2/+/+/readings',
  ]) {
    t.notOk(maySubscribe(ingest, f), `subscribe ${f}`)
  }
  t.ok(mayPublish(ingest, deviceTopic('fridge-1', 'receipt')))
  t.ok(mayPublish(ingest, deviceTopic('fridge-1', 'resend')))
  for (const topic of [
    deviceTopic('fridge-1', 'readings'),
    `coldproof/v1/${otherP.toString(16)}/fridge-1/receipt`,
    'coldproof/v1/+/fridge-1/receipt',
    'other',
  ]) {
    t.notOk(mayPublish(ingest, topic), `publish ${topic}`)
  }
})

t.test('partitioned ingest', async (t) => {
  t.ok(maySubscribe(part, readingsFilters([p])[0]))
  t.notOk(maySubscribe(part, readingsFilters([otherP])[0]))
  t.notOk(maySubscribe(part, readingsFilters()[0]), 'all partitions')
  t.ok(maySubscribe(part, 'coldproof/v1/+/fridge-1/readings'), 'one device of its partition')
  t.notOk(maySubscribe(part, `coldproof/v1/+/${otherDevice}/readings`), 'one device of another partition')
  t.ok(mayPublish(part, deviceTopic('fridge-1', 'receipt')))
  t.notOk(mayPublish(part, deviceTopic(otherDevice, 'receipt')))
  const all: Identity = {
    kind: 'service',
    username: 'x',
    role: 'ingest',
    partitions: Array.from({ length: PARTITIONS }, (_, i) => i),
  }
  t.ok(maySubscribe(all, readingsFilters()[0]), 'every partition listed = all')
})

t.test('observer: reads everything ColdProof, writes nothing', async (t) => {
  t.ok(maySubscribe(observer, 'coldproof/v1/+/+/+'))
  t.ok(maySubscribe(observer, 'coldproof/v1/+/+/receipt'))
  t.notOk(maySubscribe(observer, '#'))
  t.notOk(mayPublish(observer, deviceTopic('fridge-1', 'receipt')))
  t.notOk(mayPublish(observer, deviceTopic('fridge-1', 'readings')))
})
