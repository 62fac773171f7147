/**
 * Starting aedes with the broker's hooks, its offline-queue cap and its event
 * log lines, and the TCP or TLS server that feeds it sockets.
 */
import net from 'node:net'
import tls from 'node:tls'
import { Aedes } from 'aedes'
import type { AedesOptions } from 'aedes'
import memoryPersistence from 'aedes-persistence'
import type { BrokerContext } from './broker-context.ts'
import { refused, remoteOf } from './broker-context.ts'
import { capOfflineQueue } from './offline-queue.ts'
import { indexOutgoing } from './outgoing-index.ts'

// aedes-persistence is CommonJS whose types declare an ES default export;
// at run time the default import is module.exports, the factory itself.
const newMemoryPersistence = memoryPersistence as unknown as () => object

/**
 * aedes's message emitter (mqemitter 7) runs at most `concurrency` messages at
 * once (aedes's default: 100) and queues the rest; when one finishes it starts
 * the next queued one synchronously, inside the finishing one's stack. Queued
 * messages that finish synchronously (no subscriber, or a synchronous one:
 * aedes's own $SYS messages on every connect and disconnect) therefore recurse
 * one level each: with a slow consumer holding the slots and a few thousand such
 * messages queued (10,000 devices connecting), the stack overflows and takes the
 * process down ("Maximum call stack size exceeded", seen in the 10,000-device
 * bench). 0 lifts the limit, so nothing queues and nothing recurses. It bounded
 * nothing anyway: the queue is unbounded, while what is in flight is bounded by
 * the connections (each parses its next packets only after the current ones)
 * and the capped offline queues. broker/test/mq-recursion.test.ts reproduces both.
 * Upstream knows the overflow without a reproduction (mcollina/mqemitter pull
 * request 204, open: "On very high loads mqemitter `_do` could throw").
 */
export const MQ_CONCURRENCY = 0

type Hooks = Pick<
  AedesOptions,
  'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'
>

/** A started aedes whose connects, disconnects and errors are logged; `onDisconnect` gets each client id that leaves. */
export async function startAedes(
  ctx: BrokerContext,
  hooks: Hooks,
  onDisconnect: (clientId: string) => void,
): Promise<Aedes> {
  const { log, counters: m } = ctx
  const { maxQueuedMessages, drainTimeoutMs, connectTimeoutMs } = ctx.s
  const persistence = capOfflineQueue(indexOutgoing(newMemoryPersistence()), maxQueuedMessages, (clientId, queued) => {
    m.offlineQueueDropped++
    // One line per power of ten drops keeps an outage from flooding the log.
    if (Number.isInteger(Math.log10(m.offlineQueueDropped)))
      log.warn(
        { event: 'offline_queue_full', clientId, queued, dropped: m.offlineQueueDropped },
        `offline queue of "${clientId}" is full (${queued}): newest message dropped`,
      )
  })
  const aedes = await Aedes.createBroker({
    persistence,
    concurrency: MQ_CONCURRENCY,
    drainTimeout: drainTimeoutMs,
    connectTimeout: connectTimeoutMs,
    // Device ids are up to 32 characters; aedes applies this limit to MQTT 3.1 clients (3.1.1 servers may accept longer ids, section 3.1.3.1).
    maxClientsIdLength: 64,
    ...hooks,
  })
  aedes.on('client', () => void m.total++)
  aedes.on('clientDisconnect', (c) => {
    log.info({ event: 'disconnected', clientId: c.id }, 'client disconnected')
    onDisconnect(c.id)
  })
  aedes.on('clientError', (c, err) =>
    log.info({ event: 'client_error', clientId: c.id, err: err.message }, `client error: ${err.message}`),
  )
  aedes.on('connectionError', (c, err) => {
    // aedes's connect timer reports a socket that never sent CONNECT this way (and closes it).
    if (/connect did not arrive in time/.test(err.message))
      return refused(ctx, 'connect_timeout', undefined, `no CONNECT within ${connectTimeoutMs} ms`, {
        remote: remoteOf(c),
      })
    log.info({ event: 'connection_error', remote: remoteOf(c), err: err.message }, `connection error: ${err.message}`)
  })
  aedes.on('keepaliveTimeout', (c) => log.info({ event: 'keepalive_timeout', clientId: c.id }, 'keepalive timeout'))
  return aedes
}

/** The listening TCP (or, with TLS options, TLS) server and its mqtt:// or mqtts:// URL. */
export async function listenForSockets(
  ctx: BrokerContext,
  onSocket: (socket: net.Socket) => void,
): Promise<{ server: net.Server; port: number; url: string }> {
  const { tls: tlsOpts, connectTimeoutMs, maxConnections, maxIdleSockets, port, host } = ctx.s
  const srv = tlsOpts
    ? tls.createServer(
        {
          cert: tlsOpts.cert,
          key: tlsOpts.key,
          ca: tlsOpts.ca,
          minVersion: 'TLSv1.2',
          handshakeTimeout: connectTimeoutMs,
        },
        onSocket,
      )
    : net.createServer(onSocket)
  // Hard TCP cap: the authenticated limit plus the idle sockets, with room for
  // the ones being closed (a closed socket leaves the count only on its 'close' event).
  srv.maxConnections = maxConnections + 2 * maxIdleSockets
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject)
    srv.listen(port, host, () => {
      srv.off('error', reject)
      resolve()
    })
  })
  srv.on('error', (err) => ctx.log.error({ event: 'server_error', err: err.message }, 'server error'))
  const addr = srv.address() as net.AddressInfo
  const url = `${tlsOpts ? 'mqtts' : 'mqtt'}://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`
  return { server: srv, port: addr.port, url }
}
