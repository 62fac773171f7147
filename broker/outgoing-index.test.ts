import t from 'tap'
import memoryPersistence from 'aedes-persistence'
import { indexOutgoing } from './outgoing-index.ts'
import { capOfflineQueue } from './offline-queue.ts'

interface Pk {
  cmd: string
  topic: string
  payload: Buffer
  qos: number
  retain: boolean
  dup: boolean
  brokerId: string
  brokerCounter: number
  messageId?: number
}
interface P {
  outgoingEnqueue(sub: { clientId: string }, packet: object): Promise<void>
  outgoingEnqueueCombi(subs: { clientId: string }[], packet: object): Promise<void>
  outgoingUpdate(client: { id: string }, packet: object): Promise<void>
  outgoingClearMessageId(client: { id: string }, packet: object): Promise<Pk | undefined>
  outgoingStream(client: { id: string }): AsyncIterable<Pk>
}

const fresh = () => (memoryPersistence as unknown as () => P)()
const pkt = (brokerId: string, n: number, messageId?: number): Pk => ({
  cmd: 'publish',
  topic: 't',
  payload: Buffer.from(String(n)),
  qos: 1,
  retain: false,
  dup: false,
  brokerId,
  brokerCounter: n,
  ...(messageId === undefined ? {} : { messageId }),
})
async function queued(p: P, id: string): Promise<string[]> {
  const out: string[] = []
  for await (const x of p.outgoingStream({ id })) out.push(`${x.brokerId}/${x.brokerCounter}#${x.messageId}`)
  return out
}
/** What a call did: its result, or the error's message. */
async function outcome(run: () => Promise<unknown>): Promise<string> {
  try {
    const r = (await run()) as Pk | undefined
    return r ? `ok ${r.brokerId}/${r.brokerCounter}#${r.messageId}` : 'ok'
  } catch (e) {
    return `error ${(e as Error).message}`
  }
}

/** A small deterministic generator (mulberry32): the same operations on every run. */
function rng(seed: number) {
  let a = seed
  return (n: number) => {
    a = (a + 0x6d2b79f5) | 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) % n
  }
}

t.test('answers every call as the library does, in the same queue order', async (t) => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const lib = fresh()
    const idx = indexOutgoing(fresh())
    const rand = rng(seed)
    const clients = ['ingest', 'dev-1', 'dev-2']
    // Two broker ids make the cross-broker packet-id case (the library's fallback scan) happen too.
    const brokers = seed === 1 ? ['b'] : ['b', 'other']
    let counter = 0
    const diffs: string[] = []
    for (let step = 0; step < 1500; step++) {
      const client = clients[rand(clients.length)]
      const op = rand(10)
      let call: (p: P) => Promise<unknown>
      if (op < 3) {
        const b = brokers[rand(brokers.length)]
        const n = ++counter
        call = (q) => q.outgoingEnqueue({ clientId: client }, pkt(b, n))
      } else if (op < 4) {
        const b = brokers[rand(brokers.length)]
        const n = ++counter
        call = (q) => q.outgoingEnqueueCombi([{ clientId: 'dev-1' }, { clientId: 'dev-2' }], pkt(b, n))
      } else if (op < 7) {
        // Delivery: a packet id for a queued (or unknown) counter; ids collide on purpose (few ids).
        // A fresh object per store: the library keeps the very object it is given in one case.
        const [b, n, id] = [brokers[rand(brokers.length)], 1 + rand(counter + 2), 1 + rand(8)]
        call = (q) => q.outgoingUpdate({ id: client }, pkt(b, n, id))
      } else {
        const id = rand(4) === 0 ? undefined : 1 + rand(8)
        call = (q) => q.outgoingClearMessageId({ id: client }, { ...pkt('b', 0), messageId: id })
      }
      const [a, b] = [await outcome(() => call(lib)), await outcome(() => call(idx))]
      if (a !== b) diffs.push(`seed ${seed} step ${step}: library ${a}, indexed ${b}`)
      if (step % 50 === 0)
        for (const c of clients) {
          const [qa, qb] = [await queued(lib, c), await queued(idx, c)]
          if (qa.join() !== qb.join()) diffs.push(`seed ${seed} step ${step}: queue of ${c} differs`)
        }
    }
    for (const c of clients) t.same(await queued(idx, c), await queued(lib, c), `seed ${seed}: final queue of ${c}`)
    t.same(diffs.slice(0, 5), [], `seed ${seed}: every call answered alike`)
  }
})

t.test('under the offline-queue cap: capped, cleared and updated as before', async (t) => {
  const drops: string[] = []
  const p = capOfflineQueue(indexOutgoing(fresh()), 2, (id) => drops.push(id))
  for (let n = 1; n <= 3; n++) await p.outgoingEnqueue({ clientId: 'a' }, pkt('b', n))
  t.same(await queued(p, 'a'), ['b/1#undefined', 'b/2#undefined'])
  t.same(drops, ['a'])
  // The dropped one is still delivered live: its update must not fail.
  await p.outgoingUpdate({ id: 'a' }, pkt('b', 3, 9))
  await p.outgoingUpdate({ id: 'a' }, pkt('b', 1, 7))
  t.equal((await p.outgoingClearMessageId({ id: 'a' }, { messageId: 7 }))?.brokerCounter, 1)
  await p.outgoingEnqueue({ clientId: 'a' }, pkt('b', 4))
  t.same(await queued(p, 'a'), ['b/2#undefined', 'b/4#undefined'])
})

t.test('a large in-flight queue: every PUBACK clears its own message, in any order', async (t) => {
  const p = indexOutgoing(fresh())
  const n = 20_000
  for (let i = 1; i <= n; i++) await p.outgoingEnqueue({ clientId: 'ingest' }, pkt('b', i))
  for (let i = 1; i <= n; i++) await p.outgoingUpdate({ id: 'ingest' }, pkt('b', i, ((i - 1) % 65535) + 1))
  let cleared = 0
  for (let i = n; i >= 1; i -= 2) if (await p.outgoingClearMessageId({ id: 'ingest' }, { messageId: i })) cleared++
  t.equal(cleared, n / 2)
  const left = await queued(p, 'ingest')
  t.equal(left.length, n / 2)
  t.equal(left[0], 'b/1#1', 'queue order kept')
})
