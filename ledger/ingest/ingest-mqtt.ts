/**
 * The ingest's MQTT client: a persistent QoS 1 session whose PUBACKs wait for
 * each message's commit (deferred-puback.ts).
 */
import mqtt, { type MqttClient } from 'mqtt'
import { deferPubacks, type DeferredPubacks } from './deferred-puback.ts'
import type { IngestOptions } from './ingest.ts'
import { readingsFilters } from '../protocol/index.ts'

export interface MessageSink {
  /** True once close() has begun: nothing more is judged. */
  closing(): boolean
  /** Judges and commits one message; resolves once its outcome is durable. */
  handle(topic: string, payload: Uint8Array): Promise<unknown>
  /** A commit failed: the message is not acknowledged and the broker redelivers it. */
  commitFailed(e: unknown): void
  mqttError(e: Error): void
}

/** Connects (without waiting for CONNACK) with every message routed to `sink`. */
export function openIngestClient(
  opts: IngestOptions,
  clientId: string,
  sink: MessageSink,
): { client: MqttClient; acks: DeferredPubacks } {
  const client = mqtt.connect(opts.url, {
    clientId,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    ...(opts.username !== undefined ? { username: opts.username } : {}),
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    ...opts.mqttOptions,
  })
  const acks = deferPubacks(client)
  const commitFailed = (e: unknown): void => sink.commitFailed(e)
  client.handleMessage = (packet, cb) => {
    if (sink.closing()) {
      // Closing: judge nothing more and hold back the PUBACK; the broker redelivers on the next connection.
      if (packet.qos > 0 && packet.messageId !== undefined) acks.withhold(packet.messageId)
      cb()
      return
    }
    const done = sink.handle(
      packet.topic,
      packet.payload instanceof Uint8Array ? packet.payload : Buffer.from(packet.payload),
    )
    if (packet.qos > 0 && packet.messageId !== undefined) acks.track(packet.messageId, done)
    // A commit that failed is not acknowledged (the broker redelivers); report it without crashing.
    done.catch(commitFailed)
    cb()
  }
  client.on('error', (e) => sink.mqttError(e))
  return { client, acks }
}

/** Resolves on the first CONNACK, rejects on the first error. */
export function firstConnect(c: MqttClient): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onErr = (e: Error) => {
      c.off('connect', onConnect)
      reject(e)
    }
    const onConnect = () => {
      c.off('error', onErr)
      resolve()
    }
    c.once('connect', onConnect)
    c.once('error', onErr)
  })
}

/** Subscribes to the partitions' readings; throws unless the broker grants QoS 1. */
export async function subscribeReadings(c: MqttClient, partitions: number[] | undefined): Promise<void> {
  const grants = await c.subscribeAsync(readingsFilters(partitions), { qos: 1 })
  for (const g of grants)
    if (g.qos !== 1) throw new Error(`broker granted QoS ${g.qos} for ${g.topic}; the ingest needs QoS 1`)
}
