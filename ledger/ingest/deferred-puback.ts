/**
 * PUBACK after commit (ARCHITECTURE.md decision 5), without serialising the ingest.
 *
 * mqtt.js handles incoming packets one at a time: for a QoS 1 PUBLISH it calls
 * `handleMessage(packet, cb)` and sends the PUBACK when `cb` is called, and it
 * reads the next packet only after that. Holding `cb` until the entry is
 * durable would allow one message per fsync, which is the one-fsync-per-
 * reading pattern group commit exists to avoid. (`customHandleAcks` is an
 * MQTT 5 feature; aedes speaks 3.1.1.)
 *
 * So `handleMessage` returns at once and the PUBACK itself is held back: the
 * client's packet writer is wrapped so that a PUBACK for a tracked message id
 * is written only when that message's commit promise has resolved. Commits
 * resolve in submit order, so PUBACKs leave in the order the PUBLISHes
 * arrived, as MQTT 3.1.1 4.6.0-2 requires. A PUBACK whose connection was lost
 * meanwhile is dropped: the broker redelivers the message on the next
 * connection of the persistent session [MQTT-4.4.0-1], and the ingest treats
 * the redelivery as an idempotent duplicate. A commit that fails is never
 * acknowledged, for the same redelivery.
 *
 * This relies on mqtt.js 5.x internals (`_sendPacket`), checked by
 * ledger/test/ingest.test.ts ("acks follow commits") and broker/test/library-internals.test.ts;
 * package.json pins mqtt.js to the version checked.
 */
import type { MqttClient } from 'mqtt'

type SendPacket = (
  packet: { cmd: string; messageId?: number },
  cb?: (err?: unknown) => void,
  cbStorePut?: unknown,
  noStore?: boolean,
) => void

export interface DeferredPubacks {
  /** Holds the PUBACK of `messageId` until `committed` resolves. Call before `handleMessage`'s callback. */
  track(messageId: number, committed: Promise<unknown>): void
  /** Never sends the PUBACK of `messageId` on this connection (the broker redelivers it later). */
  withhold(messageId: number): void
  /** PUBACKs still waiting for their commit. */
  readonly waiting: number
  /** Resolves when every tracked PUBACK has been sent or dropped. */
  settled(): Promise<void>
}

export function deferPubacks(client: MqttClient): DeferredPubacks {
  const c = client as unknown as { _sendPacket: SendPacket; connected: boolean }
  if (typeof c._sendPacket !== 'function')
    throw new Error('deferPubacks: this mqtt.js version has no _sendPacket; PUBACK-after-commit cannot be enforced')
  const original = c._sendPacket.bind(client)
  const tracked = new Map<number, { committed: Promise<unknown> | null; generation: number }>()
  const inFlight = new Set<Promise<void>>()
  let generation = 0
  client.on('connect', () => {
    generation++
  })
  client.on('close', () => {
    generation++
  })

  c._sendPacket = (packet, cb, cbStorePut, noStore) => {
    const t = packet.cmd === 'puback' && packet.messageId !== undefined ? tracked.get(packet.messageId) : undefined
    if (!t) return original(packet, cb, cbStorePut, noStore)
    tracked.delete(packet.messageId!)
    // Let mqtt.js go on reading packets now; the PUBACK bytes go out after the commit.
    cb?.()
    if (!t.committed) return
    // Each side leaves inFlight itself (no finally): one promise and two closures per message, not two and three.
    const sent: Promise<void> = t.committed.then(
      () => {
        inFlight.delete(sent)
        if (t.generation === generation && c.connected) original(packet)
      },
      () => {
        inFlight.delete(sent) // not durable: no PUBACK, the broker redelivers
      },
    )
    inFlight.add(sent)
  }

  return {
    track(messageId, committed) {
      tracked.set(messageId, { committed, generation })
    },
    withhold(messageId) {
      tracked.set(messageId, { committed: null, generation })
    },
    get waiting() {
      return tracked.size + inFlight.size
    },
    async settled() {
      while (inFlight.size) await Promise.allSettled([...inFlight])
    },
  }
}
