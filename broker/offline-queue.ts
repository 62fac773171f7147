/**
 * Caps the offline (and in-flight) QoS 1/2 queue of each persistent session.
 * aedes-persistence keeps one unbounded array per client id, so a subscriber
 * that stays away would grow the broker's memory without limit.
 *
 * At the cap the NEWEST message for that client is dropped (as Mosquitto's
 * max_queued_messages does), counted and logged; older queued messages stay.
 * Nothing is lost end to end: the ledger never receipts a reading it did not
 * store, so the device keeps it and resends it on reconnect or when the
 * ingest, seeing a gap in the device's sequence, asks for it (ARCHITECTURE.md
 * decision 5).
 */
import type { Readable } from 'node:stream'

/** The part of the aedes-persistence promise API this wrapper touches. */
interface QueuePersistence {
  outgoingEnqueue(sub: { clientId: string }, packet: unknown): Promise<void>
  outgoingEnqueueCombi(subs: { clientId: string }[], packet: unknown): Promise<void>
  outgoingClearMessageId(client: { id: string }, packet: unknown): Promise<unknown>
  outgoingUpdate(client: { id: string }, packet: unknown): Promise<void>
  outgoingStream(client: { id: string }): Readable
}

const RECOUNT_INTERVAL_MS = 1000

/**
 * Patches `persistence` in place (own properties shadow its methods) and
 * returns it. `onDrop(clientId, queued)` is called for every dropped message.
 */
export function capOfflineQueue<P extends object>(
  persistence: P,
  cap: number,
  onDrop: (clientId: string, queued: number) => void,
  now: () => number = Date.now,
): P {
  if (!Number.isInteger(cap) || cap < 1)
    throw new RangeError(`"maxQueuedMessages" expected an integer >= 1, got ${cap}`)
  const p = persistence as unknown as QueuePersistence
  const enqueue = p.outgoingEnqueue.bind(p)
  const enqueueCombi = p.outgoingEnqueueCombi.bind(p)
  const clear = p.outgoingClearMessageId.bind(p)
  const update = p.outgoingUpdate.bind(p)
  // A message dropped for a client that is online is still delivered live by
  // aedes, which first updates its (absent) stored copy: that update must not
  // fail, or aedes would disconnect the client. Bounded FIFO of such keys.
  const dropped = new Set<string>()
  const keyOf = (clientId: string, packet: unknown) => {
    const pk = packet as { brokerId?: string; brokerCounter?: number }
    return `${clientId}\0${pk.brokerId}\0${pk.brokerCounter}`
  }
  const remember = (clientId: string, packet: unknown) => {
    dropped.add(keyOf(clientId, packet))
    if (dropped.size > 10_000) dropped.delete(dropped.values().next().value as string)
  }
  // Our count of each client's queue; recounted from the store when it says
  // "full", so a drift in our bookkeeping cannot drop messages for good.
  const counts = new Map<string, number>()
  const recountedAt = new Map<string, number>()

  async function hasRoom(clientId: string): Promise<boolean> {
    const n = counts.get(clientId) ?? 0
    if (n < cap) return true
    const last = recountedAt.get(clientId) ?? -Infinity
    if (now() - last >= RECOUNT_INTERVAL_MS) {
      recountedAt.set(clientId, now())
      let actual = 0
      for await (const _ of p.outgoingStream({ id: clientId })) actual++
      counts.set(clientId, actual)
      if (actual < cap) return true
    }
    onDrop(clientId, counts.get(clientId) ?? n)
    return false
  }
  const bump = (id: string) => counts.set(id, (counts.get(id) ?? 0) + 1)

  Object.assign(p, {
    async outgoingEnqueue(sub: { clientId: string }, packet: unknown) {
      if (!(await hasRoom(sub.clientId))) return void remember(sub.clientId, packet)
      bump(sub.clientId)
      return enqueue(sub, packet)
    },
    async outgoingEnqueueCombi(subs: { clientId: string }[], packet: unknown) {
      const kept: { clientId: string }[] = []
      for (const s of subs) {
        if (await hasRoom(s.clientId)) kept.push(s)
        else remember(s.clientId, packet)
      }
      if (kept.length === 0) return
      for (const s of kept) bump(s.clientId)
      return enqueueCombi(kept, packet)
    },
    async outgoingUpdate(client: { id: string }, packet: unknown) {
      try {
        return await update(client, packet)
      } catch (e) {
        if (!dropped.delete(keyOf(client.id, packet))) throw e
      }
    },
    async outgoingClearMessageId(client: { id: string }, packet: unknown) {
      const removed = await clear(client, packet)
      if (removed) {
        const n = (counts.get(client.id) ?? 1) - 1
        if (n <= 0) counts.delete(client.id)
        else counts.set(client.id, n)
      }
      return removed
    },
  })
  return persistence
}
