/**
 * PUBLISH and SUBSCRIBE authorisation: size limit, topic ACLs, and the
 * per-device rate limit that holds publishes back before it refuses them.
 */
import type { AedesPublishPacket, Client, PublishPacket, Subscription } from 'aedes'
import { mayPublish, maySubscribe } from './acl.ts'
import type { BrokerContext } from './broker-context.ts'
import { refused, remoteOf } from './broker-context.ts'
import type { HeldPublishes } from './held-publishes.ts'
import { TokenBucket } from './rate-limit.ts'

export interface PublishHooks {
  authorizePublish(client: Client | null, packet: PublishPacket, done: (err?: Error | null) => void): void
  authorizeSubscribe(
    client: Client,
    sub: Subscription,
    cb: (err: Error | null, sub?: Subscription | null) => void,
  ): void
  authorizeForward(client: Client, packet: AedesPublishPacket): AedesPublishPacket
  /** On disconnect: forgets a device's rate-limit bucket once it is full again. */
  forgetBucket(deviceId: string): void
}

export function createPublishHooks(ctx: BrokerContext, held: HeldPublishes): PublishHooks {
  const { maxPayloadBytes, rateLimit, clock } = ctx.s
  const m = ctx.counters
  // One bucket per device id, not per connection: reconnecting must not refill it. A full bucket
  // is the same as a new one, so it is dropped when its device disconnects; at most one per device.
  const buckets = new Map<string, TokenBucket>()
  // Counts an accepted publish and lets it through: one shared function, not a wrapping callback per publish.
  const accept = (done: (err?: Error | null) => void): void => {
    m.messagesIn++
    done(null)
  }
  return {
    authorizePublish(client, packet, done) {
      const id = client && ctx.identities.get(client)
      // client is null only for a will left by a session of an earlier broker run.
      if (!client || !id) return done(new Error('publish without an authenticated identity'))
      const size = packet.payload?.length ?? 0
      if (size > maxPayloadBytes) {
        refused(
          ctx,
          'payload_too_large',
          client,
          `payload of ${size} bytes on "${packet.topic.slice(0, 120)}" exceeds ${maxPayloadBytes}`,
        )
        return done(new Error('payload_too_large'))
      }
      if (!mayPublish(id, packet.topic)) {
        refused(ctx, 'publish_denied', client, `may not publish to "${packet.topic.slice(0, 120)}"`)
        return done(new Error('publish_denied'))
      }
      if (id.kind !== 'device') return accept(done)
      // Readings are a stream, not state: a retained reading would be replayed to every new subscriber.
      packet.retain = false
      if (!rateLimit) return accept(done)
      let bucket = buckets.get(id.deviceId)
      if (!bucket) buckets.set(id.deviceId, (bucket = new TokenBucket(rateLimit, clock())))
      const delay = bucket.take(clock())
      if (delay < 0) {
        refused(
          ctx,
          'rate_limited',
          client,
          `over ${rateLimit.perSecond}/s (burst ${rateLimit.burst}) with more than ${rateLimit.maxDelayMs} ms of held-back publishes`,
        )
        return done(new Error('rate_limited'))
      }
      if (delay === 0 && !held.has(client)) return accept(done)
      m.throttled++
      // A rate-limit hit: logged once per connection (its count is in metrics().throttled).
      if (!held.seen(client))
        ctx.securityLog.warn(
          'throttled',
          {
            event: 'throttled',
            kind: 'throttled',
            clientId: client.id,
            remote: remoteOf(client),
            detail: `over ${rateLimit.perSecond}/s (burst ${rateLimit.burst}): publishes held back`,
          },
          `throttled: ${client.id} publishes over ${rateLimit.perSecond}/s`,
        )
      held.hold(client, delay, () => accept(done))
    },

    authorizeSubscribe(client, sub, cb) {
      const id = ctx.identities.get(client)
      if (id && maySubscribe(id, sub.topic)) return cb(null, sub)
      refused(ctx, 'subscribe_denied', client, `may not subscribe to "${sub.topic.slice(0, 120)}"`)
      cb(null, null) // SUBACK 0x80 for this filter, the connection stays (MQTT 3.1.1 section 3.9.3)
    },

    authorizeForward(_client, packet) {
      m.messagesOut++
      return packet
    },

    forgetBucket(deviceId) {
      const b = buckets.get(deviceId)
      if (b?.full(clock())) buckets.delete(deviceId)
    },
  }
}
