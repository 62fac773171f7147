import t from 'tap'
import memoryPersistence from 'aedes-persistence'
import { capOfflineQueue } from './offline-queue.ts'

interface P {
  outgoingEnqueue(sub: { clientId: string }, packet: object): Promise<void>
  outgoingEnqueueCombi(subs: { clientId: string }[], packet: object): Promise<void>
  outgoingUpdate(client: { id: string }, packet: object): Promise<void>
  outgoingClearMessageId(client: { id: string }, packet: object): Promise<unknown>
  outgoingStream(client: { id: string }): AsyncIterable<{ payload: Buffer; messageId?: number }>
}

const fresh = () => (memoryPersistence as unknown as () => P)()
const pkt = (n: number) => ({
  cmd: 'publish',
  topic: 't',
  payload: Buffer.from([n]),
  qos: 1,
  retain: false,
  dup: false,
  brokerId: 'b',
  brokerCounter: n,
})
async function queued(p: P, id: string): Promise<number[]> {
  const out: number[] = []
  for await (const x of p.outgoingStream({ id })) out.push(x.payload[0])
  return out
}

t.test('caps each client separately, drops the newest, keeps the oldest', async (t) => {
  const drops: string[] = []
  const p = capOfflineQueue(fresh(), 2, (id) => drops.push(id))
  for (let n = 1; n <= 4; n++) await p.outgoingEnqueueCombi([{ clientId: 'a' }, { clientId: 'b' }], pkt(n))
  await p.outgoingEnqueue({ clientId: 'a' }, pkt(5))
  t.same(await queued(p, 'a'), [1, 2])
  t.same(await queued(p, 'b'), [1, 2])
  t.same(drops, ['a', 'b', 'a', 'b', 'a'])
})

t.test('a delivered (cleared) message makes room again', async (t) => {
  const p = capOfflineQueue(fresh(), 2, () => {})
  await p.outgoingEnqueue({ clientId: 'a' }, pkt(1))
  await p.outgoingEnqueue({ clientId: 'a' }, pkt(2))
  const first = { ...pkt(1), messageId: 7 }
  await p.outgoingUpdate({ id: 'a' }, first) // aedes assigns the message id when it sends
  t.ok(await p.outgoingClearMessageId({ id: 'a' }, { messageId: 7 }), 'PUBACK clears it')
  await p.outgoingEnqueue({ clientId: 'a' }, pkt(3))
  t.same(await queued(p, 'a'), [2, 3])
})

t.test('live delivery of a dropped message does not fail; an unknown one still does', async (t) => {
  const p = capOfflineQueue(fresh(), 1, () => {})
  await p.outgoingEnqueue({ clientId: 'a' }, pkt(1))
  await p.outgoingEnqueue({ clientId: 'a' }, pkt(2)) // dropped
  await t.resolves(
    p.outgoingUpdate({ id: 'a' }, { ...pkt(2), messageId: 9 }),
    'aedes may update the copy it tried to store',
  )
  await t.rejects(p.outgoingUpdate({ id: 'a' }, { ...pkt(99), messageId: 10 }), /no such packet/)
})

t.test('a drifted count is corrected from the store', async (t) => {
  let now = 0
  const inner = fresh()
  const p = capOfflineQueue(
    inner,
    2,
    () => {},
    () => now,
  )
  await p.outgoingEnqueue({ clientId: 'a' }, pkt(1))
  await p.outgoingEnqueue({ clientId: 'a' }, pkt(2))
  // Remove one behind the wrapper's back (as if our bookkeeping had missed it).
  const orig = Object.getPrototypeOf(inner).outgoingClearMessageId as P['outgoingClearMessageId']
  await p.outgoingUpdate({ id: 'a' }, { ...pkt(1), messageId: 3 })
  await orig.call(inner, { id: 'a' }, { messageId: 3 })
  now = 5000
  await p.outgoingEnqueue({ clientId: 'a' }, pkt(3))
  t.same(await queued(p, 'a'), [2, 3], 'recounted: there was room')
})

t.test('refuses a bad cap', async (t) => {
  t.throws(() => capOfflineQueue(fresh(), 0, () => {}), RangeError)
})
