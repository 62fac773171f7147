import t from 'tap'
import { decodeReading } from '../../ledger/protocol/index.ts'
import { createFleet, type Timers } from '../fleet.ts'
import { memoryIdentity } from '../identity.ts'
import { parseScenario } from '../scenario/index.ts'
import { createMemoryLink } from '../memory-link.ts'
import { START } from './helpers.ts'

t.test('10,000 devices sample and sign on one scheduler timer', async (t) => {
  const N = 10_000
  const scenario = parseScenario({
    name: 'scale',
    seed: 3,
    acceleration: 600_000,
    shipments: [
      {
        shipmentId: 'big',
        product: 'p',
        storageClass: '2-8',
        devices: Array.from({ length: N }, (_, i) => ({ deviceId: `sc-${i}` })),
        legs: [{ durationMin: 5, model: 'reefer', setpointC: 5, ambient: { meanC: 20 } }],
      },
    ],
  })
  let pending = 0,
    maxPending = 0,
    created = 0
  const timers: Timers = {
    setTimeout(fn, ms) {
      pending++
      created++
      maxPending = Math.max(maxPending, pending)
      return setTimeout(() => {
        pending--
        fn()
      }, ms)
    },
    clearTimeout(h) {
      pending--
      clearTimeout(h as NodeJS.Timeout)
    },
  }
  const perDevice = new Map<string, number>()
  // Distinct readings: a reading without a receipt is re-sent after its receipt timeout (wall time),
  // which a loaded machine can reach; a re-send is the same reading again, not a new one.
  const received = new Set<string>()
  // One fixed key for speed: key generation is not what this test measures.
  const key = new Uint8Array(32).fill(1)
  const fleet = createFleet({
    scenario,
    startMs: START,
    timers,
    batchSize: 1000,
    identity: (id) => memoryIdentity(id, key),
    link: () =>
      createMemoryLink((p) => {
        const f = decodeReading(p).fields
        received.add(`${f.deviceId}/${f.seq}`)
      }),
    onReading: (id, p) => {
      const n = (perDevice.get(id) ?? 0) + 1
      perDevice.set(id, n)
      if (decodeReading(p).fields.seq !== n) t.fail(`${id}: reading ${n} has seq ${decodeReading(p).fields.seq}`)
    },
    log: () => {},
  })
  await fleet.start()
  await fleet.finished
  await fleet.stop()
  t.equal(perDevice.size, N, 'every device sampled')
  t.ok(
    [...perDevice.values()].every((n) => n === 2),
    'each took its 2 samples (0 and 5 min)',
  )
  t.equal(received.size, 2 * N, 'every reading reached the link')
  t.equal(maxPending, 1, 'never more than one timer pending')
  t.ok(created < (2 * N) / 100, `${created} timer arms for ${2 * N} samples`)
  t.ok(fleet.status().every((s) => s.seq === 2 && s.finished))
})
