/**
 * Indexed per-client outgoing queues for aedes-persistence's memory store.
 *
 * aedes-persistence (11.x) keeps each client's in-flight and offline QoS 1/2
 * messages in one array and finds a message by scanning it from the start:
 * `outgoingUpdate` (giving a delivered message its packet id) and
 * `outgoingClearMessageId` (its PUBACK) are O(queue length). The ingest's
 * persistent session holds every message it has received but not yet
 * acknowledged (its PUBACK waits for the commit), so under a backlog each
 * delivery scanned thousands of entries: 7-12 % of the server's CPU at
 * saturation. Here each client's queue is a Map in queue order with indexes by
 * (brokerId, brokerCounter) and by packet id, so both are O(1) on the usual
 * path; the order and every answer stay those of the array (the
 * cross-broker id collision case, absent with one broker, falls back to the
 * library's scan). broker/outgoing-index.test.ts runs both side by side.
 *
 * Patches the persistence in place (own properties shadow its methods), like
 * offline-queue.ts, which wraps these methods in turn.
 */
import { Readable } from 'node:stream'
import memoryPersistence from 'aedes-persistence'

// The packet copy the library stores (aedes-packet, re-exported by aedes-persistence's CommonJS module).
const Packet = (memoryPersistence as unknown as { Packet: new (original: object) => QueuedPacket }).Packet

interface QueuedPacket {
  brokerId?: string
  brokerCounter?: number
  messageId?: number
}

type Callback = (err: unknown, ...rest: unknown[]) => void

/** One client's queue: slots numbered in arrival order (a Map iterates in insertion order). */
class ClientQueue {
  #next = 0
  readonly items = new Map<number, QueuedPacket>()
  readonly #byCounter = new Map<string, number[]>()
  readonly #byMessageId = new Map<number | undefined, Set<number>>()
  readonly #perBroker = new Map<string | undefined, number>()

  push(p: QueuedPacket): void {
    const slot = this.#next++
    this.items.set(slot, p)
    this.#index(slot, p)
  }

  /** aedes-persistence's outgoingUpdate: the first match in queue order, or throws. */
  update(packet: QueuedPacket): void {
    if (this.#perBroker.get(packet.brokerId) === this.items.size) {
      // Every entry shares the packet's broker id: the array scan would match the first equal counter only.
      const slot = this.#byCounter.get(counterKey(packet))?.[0]
      if (slot === undefined) throw new Error('no such packet')
      this.#setMessageId(slot, packet.messageId)
      return
    }
    for (const [slot, temp] of this.items) {
      if (temp.brokerId === packet.brokerId) {
        if (temp.brokerCounter === packet.brokerCounter) {
          this.#setMessageId(slot, packet.messageId)
          return
        }
      } else if (temp.messageId === packet.messageId) {
        this.#unindex(slot, temp)
        this.items.set(slot, packet)
        this.#index(slot, packet)
        return
      }
    }
    throw new Error('no such packet')
  }

  /** aedes-persistence's outgoingClearMessageId: removes and returns the first entry with that packet id. */
  clear(messageId: number | undefined): QueuedPacket | undefined {
    const slots = this.#byMessageId.get(messageId)
    if (!slots) return undefined
    let first = Infinity
    for (const s of slots) if (s < first) first = s
    const temp = this.items.get(first)!
    this.items.delete(first)
    this.#unindex(first, temp)
    return temp
  }

  #setMessageId(slot: number, messageId: number | undefined): void {
    const temp = this.items.get(slot)!
    this.#drop(this.#byMessageId, temp.messageId, slot)
    temp.messageId = messageId
    this.#add(this.#byMessageId, messageId, slot)
  }

  #index(slot: number, p: QueuedPacket): void {
    const k = counterKey(p)
    const list = this.#byCounter.get(k)
    if (list) list.push(slot)
    else this.#byCounter.set(k, [slot])
    this.#add(this.#byMessageId, p.messageId, slot)
    this.#perBroker.set(p.brokerId, (this.#perBroker.get(p.brokerId) ?? 0) + 1)
  }

  #unindex(slot: number, p: QueuedPacket): void {
    const k = counterKey(p)
    const list = this.#byCounter.get(k)
    if (list) {
      const at = list.indexOf(slot)
      if (at >= 0) list.splice(at, 1)
      if (list.length === 0) this.#byCounter.delete(k)
    }
    this.#drop(this.#byMessageId, p.messageId, slot)
    const n = (this.#perBroker.get(p.brokerId) ?? 1) - 1
    if (n <= 0) this.#perBroker.delete(p.brokerId)
    else this.#perBroker.set(p.brokerId, n)
  }

  #add(m: Map<number | undefined, Set<number>>, key: number | undefined, slot: number): void {
    const s = m.get(key)
    if (s) s.add(slot)
    else m.set(key, new Set([slot]))
  }

  #drop(m: Map<number | undefined, Set<number>>, key: number | undefined, slot: number): void {
    const s = m.get(key)
    if (!s) return
    s.delete(slot)
    if (s.size === 0) m.delete(key)
  }
}

const counterKey = (p: QueuedPacket) => `${p.brokerId}\0${p.brokerCounter}`

/** Answers through `cb` when aedes passes one (the callback form of aedes-persistence), else as a promise. */
function settle<T>(run: () => T, cb: Callback | undefined, toArgs: (r: T) => unknown[]): Promise<T> | undefined {
  let result: T
  try {
    result = run()
  } catch (e) {
    if (cb) return void process.nextTick(cb, e)
    return Promise.reject(e)
  }
  if (cb) return void process.nextTick(cb, null, ...toArgs(result))
  return Promise.resolve(result)
}

/** Replaces the outgoing-queue methods of an aedes-persistence memory store with indexed ones; returns it. */
export function indexOutgoing<P extends object>(persistence: P): P {
  if (typeof Packet !== 'function')
    throw new TypeError('indexOutgoing: aedes-persistence no longer exports Packet; check the pinned version')
  const queues = new Map<string, ClientQueue>()
  const queueOf = (id: string) => {
    let q = queues.get(id)
    if (!q) queues.set(id, (q = new ClientQueue()))
    return q
  }
  const enqueue = (clientId: string, packet: object) => queueOf(clientId).push(new Packet(packet))
  Object.assign(persistence, {
    outgoingEnqueue(sub: { clientId: string }, packet: object, cb?: Callback) {
      return settle(
        () => enqueue(sub.clientId, packet),
        cb,
        () => [packet],
      )
    },
    outgoingEnqueueCombi(subs: { clientId: string }[], packet: object, cb?: Callback) {
      return settle(
        () => {
          for (const s of subs) enqueue(s.clientId, packet)
        },
        cb,
        () => [packet],
      )
    },
    outgoingUpdate(client: { id: string }, packet: QueuedPacket, cb?: Callback) {
      return settle(
        () => queueOf(client.id).update(packet),
        cb,
        () => [client, packet],
      )
    },
    outgoingClearMessageId(client: { id: string }, packet: QueuedPacket, cb?: Callback) {
      return settle(
        () => {
          const q = queues.get(client.id)
          const removed = q?.clear(packet.messageId)
          // An emptied queue is forgotten: every device id that ever connected would otherwise keep one.
          if (q && q.items.size === 0) queues.delete(client.id)
          return removed
        },
        cb,
        (r) => [r],
      )
    },
    outgoingStream(client: { id: string }) {
      // A snapshot, as the library's: entries cleared while it is read are still in it.
      return Readable.from([...(queues.get(client.id)?.items.values() ?? [])])
    },
  })
  return persistence
}
