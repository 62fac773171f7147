/**
 * The embedded MQTT broker (aedes 1.x, MQTT 3.1.1 only): device authentication,
 * topic ACLs, size and rate limits, login backoff, caps on idle sockets (no
 * CONNECT yet), counters and throttled security logging. ARCHITECTURE.md decisions 3, 5, 10, 11;
 * operators' guide: docs/OPERATIONS.md.
 *
 * createBroker(opts) returns an unstarted broker; listen() starts it.
 */
import net from 'node:net'
import tls from 'node:tls'
import { Aedes } from 'aedes'
import type { AedesPublishPacket, Client, ConnectPacket, PublishPacket, Subscription } from 'aedes'
import memoryPersistence from 'aedes-persistence'
import { pino } from 'pino'
import type { Logger } from 'pino'
import { DEVICE_ID_PATTERN } from '../ledger/protocol/index.ts'
import { mayPublish, maySubscribe } from './acl.ts'
import type { Identity } from './acl.ts'
import { checkDeviceToken } from './device-auth.ts'
import { capOfflineQueue } from './offline-queue.ts'
import { TokenBucket } from './rate-limit.ts'
import type { RateLimitOptions } from './rate-limit.ts'
import { CONNACK_CODE, REFUSAL_REASONS, SECURITY_KIND } from './refusals.ts'
import type { RefusalReason, SecurityKind } from './refusals.ts'
import { LoginGuard } from './login-guard.ts'
import type { LoginGuardOptions } from './login-guard.ts'
import { createThrottledLog } from './throttled-log.ts'
import type { ThrottledLogOptions } from './throttled-log.ts'
import type { DeviceRegistry } from './registry.ts'
import { ReplayCache } from './replay-cache.ts'
import { parsePasswordHash, verifyServicePassword } from './service-accounts.ts'
import type { ServiceAccount } from './service-accounts.ts'

export interface BrokerTlsOptions {
  /** PEM certificate chain and private key: the broker then speaks mqtts. */
  cert: string | Buffer
  key: string | Buffer
  ca?: string | Buffer
}

export interface BrokerOptions {
  /** Where devices are registered; looked up on every CONNECT. */
  registry: DeviceRegistry
  /** username -> account. Service account names must not be used as device ids. */
  serviceAccounts?: Readonly<Record<string, ServiceAccount>>
  /** Default 127.0.0.1: loopback only until an operator opens it. */
  host?: string
  /** Default 1883 (8883 with TLS); 0 picks a free port. */
  port?: number
  tls?: BrokerTlsOptions
  /** The broker name devices sign into their token. Default 'coldproof'. */
  audience?: string
  /** Largest PUBLISH payload accepted. Default 4096 (a reading is at most 153 bytes). */
  maxPayloadBytes?: number
  /** Largest MQTT packet, refused from its header before it is buffered. Default maxPayloadBytes + 1024. */
  maxPacketBytes?: number
  /** Authenticated connections. Default 10000. */
  maxConnections?: number
  /** Per-device publish rate limit; false disables it. Default 50/s, burst 500, maxDelayMs 10000 (see rate-limit.ts). */
  rateLimit?: RateLimitOptions | false
  /** Accepted CONNECT keepalive in seconds (0 = never is refused). Default 1..1200. */
  keepalive?: { min: number; max: number }
  /** Allowed difference between a token's time and the broker clock. Default 120000 (2 min). */
  tokenSkewMs?: number
  /** Live token nonces remembered for replay refusal. Default 100000. */
  replayCacheMax?: number
  /** Cap of each persistent session's QoS 1/2 queue. Default 100000. */
  maxQueuedMessages?: number
  /** A client whose socket does not drain within this is disconnected. Default 10000. */
  drainTimeoutMs?: number
  /** A socket that sends no CONNECT within this (or, with TLS, completes no handshake) is closed. Default 5000. */
  connectTimeoutMs?: number
  /** Idle sockets (no complete CONNECT yet), in total; a new one closes the oldest above it. Default 1000. */
  maxIdleSockets?: number
  /** Idle sockets per remote address; a new one above it is closed at once. Default 64. */
  maxIdleSocketsPerAddress?: number
  /** Failed-login backoff and the bound on concurrent password checks (see login-guard.ts). */
  loginGuard?: LoginGuardOptions
  /** Refusal log lines: the first `burst` per reason and window in full, then one summary (default 20 per 60 s). */
  securityLog?: Omit<ThrottledLogOptions, 'now'>
  logger?: Logger
  clock?: () => number
}

export interface BrokerMetrics {
  connections: { current: number; total: number; sockets: number }
  /** PUBLISH packets accepted from clients (counted when authorised, before routing). */
  messagesIn: number
  /** PUBLISH packets forwarded to subscribers (live, queued and retained). */
  messagesOut: number
  bytesIn: number
  bytesOut: number
  refusals: Record<RefusalReason, number>
  /** Refusals grouped by kind (refusals.ts, SECURITY_KIND). */
  securityEvents: Record<SecurityKind, number>
  /** Password logins: scrypt checks started, checks running or waiting now. */
  logins: { passwordChecks: number; pendingChecks: number }
  /** Open sockets that have sent no complete CONNECT yet. */
  idleSockets: number
  /** Refusal log lines not written one by one (summarised instead). */
  logSuppressed: number
  /** Publishes held back by the rate limit (not refused). */
  throttled: number
  /** Messages dropped at a persistent session's queue cap. */
  offlineQueueDropped: number
}

export interface Broker {
  listen(): Promise<{ port: number; url: string }>
  close(): Promise<void>
  metrics(): BrokerMetrics
  /** Closes the live connection of a device (after its revocation). True if one was open. */
  disconnectDevice(deviceId: string): boolean
  /** The name devices sign into their login token (docs/PROTOCOL.md, "Device authentication"). */
  readonly audience: string
}

type AuthError = Error & { returnCode: number }

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

export function createBroker(opts: BrokerOptions): Broker {
  const {
    registry,
    serviceAccounts = {},
    host = '127.0.0.1',
    tls: tlsOpts,
    port = tlsOpts ? 8883 : 1883,
    audience = 'coldproof',
    maxPayloadBytes = 4096,
    maxConnections = 10_000,
    rateLimit = { perSecond: 50, burst: 500, maxDelayMs: 10_000 },
    keepalive = { min: 1, max: 1200 },
    tokenSkewMs = 120_000,
    replayCacheMax = 100_000,
    maxQueuedMessages = 100_000,
    drainTimeoutMs = 10_000,
    connectTimeoutMs = 5000,
    maxIdleSockets = 1000,
    maxIdleSocketsPerAddress = 64,
    logger = pino({ name: 'broker' }),
    clock = Date.now,
  } = opts
  const maxPacketBytes = opts.maxPacketBytes ?? maxPayloadBytes + 1024
  if (!registry || typeof registry.lookupDevice !== 'function') throw new TypeError('"registry" expected an object with lookupDevice(deviceId)')
  for (const [name, acct] of Object.entries(serviceAccounts)) {
    parsePasswordHash(acct.passwordHash) // a bad hash fails at start-up, not at the first login
    if (acct.role !== 'ingest' && acct.role !== 'observer') throw new TypeError(`service account "${name}": role must be 'ingest' or 'observer', got ${JSON.stringify(acct.role)}`)
  }
  if (rateLimit) new TokenBucket(rateLimit, 0) // validates the options
  if (!(maxPayloadBytes > 0) || !(maxPacketBytes >= maxPayloadBytes)) throw new RangeError(`need 0 < maxPayloadBytes <= maxPacketBytes, got ${maxPayloadBytes}, ${maxPacketBytes}`)
  if (!(Number.isInteger(maxIdleSockets) && maxIdleSockets >= 1) || !(Number.isInteger(maxIdleSocketsPerAddress) && maxIdleSocketsPerAddress >= 1)) {
    throw new RangeError(`maxIdleSockets and maxIdleSocketsPerAddress expected positive integers, got ${maxIdleSockets}, ${maxIdleSocketsPerAddress}`)
  }
  if (!(connectTimeoutMs > 0)) throw new RangeError(`connectTimeoutMs expected a positive number of ms, got ${connectTimeoutMs}`)
  const guard = new LoginGuard(opts.loginGuard)

  const log = logger
  const securityLog = createThrottledLog(logger, 'refused', opts.securityLog)
  const replay = new ReplayCache(replayCacheMax)
  const identities = new WeakMap<Client, Identity>()
  const keepalives = new WeakMap<Client, number>()
  // One bucket per device id, not per connection: reconnecting must not refill it. A full bucket
  // is the same as a new one, so it is dropped when its device disconnects; at most one per device.
  const buckets = new Map<string, TokenBucket>()
  type Held = { queue: { due: number; release: () => void }[]; timer?: NodeJS.Timeout }
  const heldBack = new WeakMap<Client, Held>()
  const holders = new Set<Held>()
  const sockets = new Set<net.Socket>()
  // Idle sockets (no complete CONNECT yet), oldest first (Map keeps insertion order), and their
  // count per address. A CONNECT takes a socket out: logins in progress are bounded by the login guard.
  const idle = new Map<net.Socket, string>()
  const idleByAddress = new Map<string, number>()
  const m = {
    total: 0,
    messagesIn: 0,
    messagesOut: 0,
    closedBytesIn: 0,
    closedBytesOut: 0,
    throttled: 0,
    offlineQueueDropped: 0,
    refusals: Object.fromEntries(Object.keys(REFUSAL_REASONS).map((k) => [k, 0])) as Record<RefusalReason, number>,
  }
  let aedes: Aedes | undefined
  let server: net.Server | undefined
  let closing: Promise<void> | undefined

  const remoteOf = (c: Client) => (c.conn as net.Socket | undefined)?.remoteAddress
  /** One refusal: counted exactly, logged as one JSON line (thinned per reason under a flood). */
  function refused(reason: RefusalReason, c: Client | undefined, detail: string, extra: Record<string, unknown> = {}): void {
    m.refusals[reason]++
    securityLog.warn(reason, { event: 'refused', reason, kind: SECURITY_KIND[reason], detail, clientId: c?.id ?? undefined, remote: c && remoteOf(c), ...extra }, `refused: ${reason}: ${detail}`)
  }
  function notIdle(socket: net.Socket | undefined): void {
    const addr = socket && idle.get(socket)
    if (addr === undefined) return
    idle.delete(socket!)
    const n = (idleByAddress.get(addr) ?? 1) - 1
    if (n > 0) idleByAddress.set(addr, n)
    else idleByAddress.delete(addr)
  }
  const clientsById = () => (aedes as unknown as { clients: Record<string, Client | undefined> }).clients

  // preConnect runs before authenticate and is the only hook that sees the
  // CONNECT packet; keep its keepalive for the check in authenticate.
  function preConnect(client: Client, packet: ConnectPacket, cb: (err: Error | null, ok: boolean) => void): void {
    keepalives.set(client, packet.keepalive ?? 0)
    notIdle(client.conn as net.Socket)
    if (packet.protocolVersion !== 4) {
      const level = packet.protocolVersion
      refused('protocol_version', client, `protocol level ${level}${packet.protocolId ? ` (${String(packet.protocolId).slice(0, 8)})` : ''}: only MQTT 3.1.1 (level 4) is spoken`, { returnCode: 1 })
      // aedes itself accepts levels 3 and 4; a level it does not know makes it answer CONNACK 1 (unacceptable protocol version) and close.
      packet.protocolVersion = 0 as ConnectPacket['protocolVersion']
    }
    cb(null, true)
  }

  function authenticate(client: Client, username: string | undefined, password: Buffer | undefined, done: (err: AuthError | null, ok: boolean | null) => void): void {
    const user = typeof username === 'string' ? username.slice(0, 64) : undefined
    const refuse = (reason: RefusalReason, detail: string) => {
      const returnCode = CONNACK_CODE[reason] ?? 5
      refused(reason, client, detail, { username: user, returnCode })
      done(Object.assign(new Error(`${reason}: ${detail}`), { returnCode }), null)
    }
    authenticateAsync(client, username, password).then(
      (r) => {
        if ('reason' in r) return refuse(r.reason, r.detail)
        identities.set(client, r)
        log.info({ event: 'connected', clientId: client.id, identity: r.kind === 'device' ? r.deviceId : r.username, role: r.kind === 'device' ? 'device' : r.role, clean: client.clean, remote: remoteOf(client) }, 'client connected')
        done(null, true)
      },
      (e: unknown) => refuse('registry_unavailable', (e as Error)?.message ?? String(e)),
    )
  }

  async function authenticateAsync(client: Client, username: string | undefined, password: Buffer | undefined): Promise<Identity | { reason: RefusalReason; detail: string }> {
    const clients = clientsById()
    if (aedes!.connectedClients >= maxConnections && !clients[client.id]) return { reason: 'max_connections', detail: `${aedes!.connectedClients} of ${maxConnections} connections in use` }
    const ka = keepalives.get(client) ?? 0
    if (ka < keepalive.min || ka > keepalive.max) return { reason: 'keepalive_out_of_range', detail: `keepalive ${ka} s is outside ${keepalive.min}..${keepalive.max} s` }
    if (!username) return { reason: 'anonymous', detail: 'CONNECT carries no username' }

    if (Object.hasOwn(serviceAccounts, username)) {
      const acct = serviceAccounts[username]
      const remote = remoteOf(client) ?? 'unknown'
      // Backoff first: while it lasts no scrypt runs at all (login-guard.ts).
      const admit = guard.admit(username, remote, clock())
      if (!admit.ok) return { reason: 'login_backoff', detail: `too many failed logins ${admit.scope === 'account' ? `for service account "${username}"` : `from ${remote}`}: try again in ${Math.ceil(admit.retryInMs / 1000)} s` }
      let good = false
      if (password) {
        const check = guard.run(() => verifyServicePassword(password, acct.passwordHash))
        if (check === 'busy') return { reason: 'login_busy', detail: `${guard.pending} password checks are running or waiting (limit ${guard.o.maxPending})` }
        good = await check
      }
      if (!good) {
        guard.failed(username, remote, clock())
        return { reason: 'bad_password', detail: `wrong password for service account "${username}"` }
      }
      guard.succeeded(username, remote, clock())
      // A service client must not take over a device's session ([MQTT-3.1.4-2]).
      if (DEVICE_ID_PATTERN.test(client.id) && (await registry.lookupDevice(client.id))) return { reason: 'client_id_mismatch', detail: `client id "${client.id}" is a registered device` }
      return { kind: 'service', username, role: acct.role, ...(acct.partitions ? { partitions: [...acct.partitions] } : {}) }
    }

    if (!DEVICE_ID_PATTERN.test(username)) return { reason: 'bad_username', detail: `"${username.slice(0, 64)}" is neither a service account nor a device id` }
    // [MQTT-3.1.3-2] the client id names the session: a device's must be its own id.
    if (client.id !== username) return { reason: 'client_id_mismatch', detail: `client id "${String(client.id).slice(0, 64)}" differs from device id "${username}"` }
    const record = await registry.lookupDevice(username)
    if (!record) return { reason: 'unknown_device', detail: `device "${username}" is not registered` }
    const verdict = checkDeviceToken({ deviceId: username, token: password ? password.toString('utf8') : '', record, audience, nowMs: clock(), skewMs: tokenSkewMs, replay })
    if (!verdict.ok) return { reason: verdict.reason, detail: verdict.detail }
    // Checked after the token, so only the device itself learns it is revoked.
    if (record.revoked) return { reason: 'device_revoked', detail: `device "${username}" is revoked` }
    const holder = clients[client.id]
    if (holder && identities.get(holder)?.kind === 'service') return { reason: 'client_id_mismatch', detail: `client id "${client.id}" is held by a service account` }
    return { kind: 'device', deviceId: username }
  }

  function authorizePublish(client: Client | null, packet: PublishPacket, done: (err?: Error | null) => void): void {
    const cb = (err: Error | null) => {
      if (!err) m.messagesIn++
      done(err)
    }
    const id = client && identities.get(client)
    // client is null only for a will left by a session of an earlier broker run.
    if (!client || !id) return cb(new Error('publish without an authenticated identity'))
    const size = packet.payload?.length ?? 0
    if (size > maxPayloadBytes) {
      refused('payload_too_large', client, `payload of ${size} bytes on "${packet.topic.slice(0, 120)}" exceeds ${maxPayloadBytes}`)
      return cb(new Error('payload_too_large'))
    }
    if (!mayPublish(id, packet.topic)) {
      refused('publish_denied', client, `may not publish to "${packet.topic.slice(0, 120)}"`)
      return cb(new Error('publish_denied'))
    }
    if (id.kind !== 'device') return cb(null)
    // Readings are a stream, not state: a retained reading would be replayed to every new subscriber.
    packet.retain = false
    if (!rateLimit) return cb(null)
    let bucket = buckets.get(id.deviceId)
    if (!bucket) buckets.set(id.deviceId, (bucket = new TokenBucket(rateLimit, clock())))
    const delay = bucket.take(clock())
    if (delay < 0) {
      refused('rate_limited', client, `over ${rateLimit.perSecond}/s (burst ${rateLimit.burst}) with more than ${rateLimit.maxDelayMs} ms of held-back publishes`)
      return cb(new Error('rate_limited'))
    }
    const held = heldBack.get(client)
    if (delay === 0 && !held?.queue.length) return cb(null)
    m.throttled++
    // A rate-limit hit: logged once per connection (its count is in metrics().throttled).
    if (!held) securityLog.warn('throttled', { event: 'throttled', kind: 'throttled', clientId: client.id, remote: remoteOf(client), detail: `over ${rateLimit.perSecond}/s (burst ${rateLimit.burst}): publishes held back` }, `throttled: ${client.id} publishes over ${rateLimit.perSecond}/s`)
    hold(client, delay, () => cb(null))
  }

  // Held-back publishes of one client are released strictly in arrival order
  // (one timer per client; separate timers could fire out of order on a tie),
  // so throttling never reorders a device's readings. Due times use the
  // monotonic clock: `clock` may be a test's frozen clock.
  function hold(client: Client, delayMs: number, release: () => void): void {
    let h = heldBack.get(client)
    if (!h) heldBack.set(client, (h = { queue: [] }))
    const last = h.queue.length ? h.queue[h.queue.length - 1].due : 0
    h.queue.push({ due: Math.max(performance.now() + delayMs, last), release })
    if (!h.timer) schedule(h)
  }
  function schedule(h: Held): void {
    h.timer = setTimeout(() => {
      h.timer = undefined
      holders.delete(h)
      const now = performance.now()
      while (h.queue.length && h.queue[0].due <= now) h.queue.shift()!.release()
      if (h.queue.length) schedule(h)
    }, Math.max(0, Math.ceil(h.queue[0].due - performance.now())))
    holders.add(h)
  }

  function authorizeSubscribe(client: Client, sub: Subscription, cb: (err: Error | null, sub?: Subscription | null) => void): void {
    const id = identities.get(client)
    if (id && maySubscribe(id, sub.topic)) return cb(null, sub)
    refused('subscribe_denied', client, `may not subscribe to "${sub.topic.slice(0, 120)}"`)
    cb(null, null) // SUBACK 0x80 for this filter, the connection stays (MQTT 3.1.1 section 3.9.3)
  }

  function authorizeForward(_client: Client, packet: AedesPublishPacket): AedesPublishPacket {
    m.messagesOut++
    return packet
  }

  function onSocket(socket: net.Socket): void {
    if (!aedes || aedes.closed) return void socket.destroy()
    const addr = socket.remoteAddress ?? 'unknown'
    // Idle sockets cost memory and slots: one address may hold only a few, and above the
    // total the oldest one goes, so a new device always gets in.
    if ((idleByAddress.get(addr) ?? 0) >= maxIdleSocketsPerAddress) {
      refused('idle_socket_cap', undefined, `${addr} already holds ${maxIdleSocketsPerAddress} sockets that have sent no CONNECT`, { remote: addr })
      return void socket.destroy()
    }
    if (idle.size >= maxIdleSockets) {
      const [oldest, oldAddr] = idle.entries().next().value!
      notIdle(oldest) // no longer counted, whatever it does next
      refused('idle_socket_evicted', undefined, `${maxIdleSockets} sockets had sent no CONNECT: closed the oldest, from ${oldAddr}`, { remote: oldAddr })
      oldest.destroy()
    }
    idle.set(socket, addr)
    idleByAddress.set(addr, (idleByAddress.get(addr) ?? 0) + 1)
    socket.setNoDelay(true) // readings are small and latency matters more than packet count
    sockets.add(socket)
    socket.once('close', () => {
      notIdle(socket)
      sockets.delete(socket)
      m.closedBytesIn += socket.bytesRead
      m.closedBytesOut += socket.bytesWritten
    })
    const client = aedes.handle(socket)
    guardPacketSize(client, socket)
  }

  // aedes 1.x hands mqtt-packet's parser no size limit, so a client could make
  // it buffer up to 256 MiB. The parser knows a packet's length from its fixed
  // header ([MQTT-2.2.3]); refuse there, before the body is buffered.
  function guardPacketSize(client: Client, socket: net.Socket): void {
    type Parser = { parse(b: Buffer): number; packet?: { length: number }; prependListener(e: 'packet', f: (p: { length: number }) => void): void }
    const parser = (client as unknown as { _parser?: Parser })._parser
    if (!parser || typeof parser.parse !== 'function') return // the payload check in authorizePublish still applies
    const parse = parser.parse.bind(parser)
    // A packet that arrived whole within one socket read is complete before
    // parse() returns: note it here so it is refused all the same.
    let whole = -1
    parser.prependListener('packet', (p) => {
      if (p.length > maxPacketBytes) whole = Math.max(whole, p.length)
    })
    parser.parse = (buf: Buffer) => {
      if (socket.destroyed) return 0
      const left = parse(buf)
      const announced = Math.max(whole, parser.packet?.length ?? -1)
      if (announced > maxPacketBytes) {
        refused('packet_too_large', client, `packet header announces ${announced} bytes, limit ${maxPacketBytes}`)
        socket.destroy()
        return 0
      }
      return left
    }
  }

  function securityEvents(): Record<SecurityKind, number> {
    const out = Object.fromEntries([...new Set(Object.values(SECURITY_KIND))].map((k) => [k, 0])) as Record<SecurityKind, number>
    for (const [reason, n] of Object.entries(m.refusals)) out[SECURITY_KIND[reason as RefusalReason]] += n
    return out
  }

  return {
    audience,
    async listen() {
      if (aedes) throw new Error('broker already started')
      const persistence = capOfflineQueue(newMemoryPersistence(), maxQueuedMessages, (clientId, queued) => {
        m.offlineQueueDropped++
        // One line per power of ten drops keeps an outage from flooding the log.
        if (Number.isInteger(Math.log10(m.offlineQueueDropped))) log.warn({ event: 'offline_queue_full', clientId, queued, dropped: m.offlineQueueDropped }, `offline queue of "${clientId}" is full (${queued}): newest message dropped`)
      })
      aedes = await Aedes.createBroker({
        persistence,
        concurrency: MQ_CONCURRENCY,
        drainTimeout: drainTimeoutMs,
        connectTimeout: connectTimeoutMs,
        // Device ids are up to 32 characters; aedes applies this limit to MQTT 3.1 clients (3.1.1 servers may accept longer ids, section 3.1.3.1).
        maxClientsIdLength: 64,
        preConnect,
        authenticate,
        authorizePublish,
        authorizeSubscribe,
        authorizeForward,
      })
      aedes.on('client', () => void m.total++)
      aedes.on('clientDisconnect', (c) => {
        log.info({ event: 'disconnected', clientId: c.id }, 'client disconnected')
        const b = buckets.get(c.id)
        if (b?.full(clock())) buckets.delete(c.id)
      })
      aedes.on('clientError', (c, err) => log.info({ event: 'client_error', clientId: c.id, err: err.message }, `client error: ${err.message}`))
      aedes.on('connectionError', (c, err) => {
        // aedes's connect timer reports a socket that never sent CONNECT this way (and closes it).
        if (/connect did not arrive in time/.test(err.message)) return refused('connect_timeout', undefined, `no CONNECT within ${connectTimeoutMs} ms`, { remote: remoteOf(c) })
        log.info({ event: 'connection_error', remote: remoteOf(c), err: err.message }, `connection error: ${err.message}`)
      })
      aedes.on('keepaliveTimeout', (c) => log.info({ event: 'keepalive_timeout', clientId: c.id }, 'keepalive timeout'))
      server = tlsOpts ? tls.createServer({ cert: tlsOpts.cert, key: tlsOpts.key, ca: tlsOpts.ca, minVersion: 'TLSv1.2', handshakeTimeout: connectTimeoutMs }, onSocket) : net.createServer(onSocket)
      // Hard TCP cap: the authenticated limit plus the idle sockets, with room for
      // the ones being closed (a closed socket leaves the count only on its 'close' event).
      server.maxConnections = maxConnections + 2 * maxIdleSockets
      const srv = server
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject)
        srv.listen(port, host, () => {
          srv.off('error', reject)
          resolve()
        })
      })
      srv.on('error', (err) => log.error({ event: 'server_error', err: err.message }, 'server error'))
      const addr = srv.address() as net.AddressInfo
      const url = `${tlsOpts ? 'mqtts' : 'mqtt'}://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`
      log.info({ event: 'listening', url, audience }, `broker listening on ${url}`)
      return { port: addr.port, url }
    },

    close() {
      closing ??= (async () => {
        securityLog.stop()
        for (const h of holders) clearTimeout(h.timer)
        holders.clear()
        const srv = server
        const serverClosed = srv?.listening ? new Promise<void>((r) => srv.close(() => r())) : Promise.resolve()
        if (aedes) await new Promise<void>((r) => aedes!.close(() => r()))
        for (const s of sockets) s.destroy()
        await serverClosed
      })()
      return closing
    },

    metrics() {
      let bytesIn = m.closedBytesIn
      let bytesOut = m.closedBytesOut
      for (const s of sockets) {
        bytesIn += s.bytesRead
        bytesOut += s.bytesWritten
      }
      return {
        connections: { current: aedes?.connectedClients ?? 0, total: m.total, sockets: sockets.size },
        messagesIn: m.messagesIn,
        messagesOut: m.messagesOut,
        bytesIn,
        bytesOut,
        refusals: { ...m.refusals },
        securityEvents: securityEvents(),
        logins: { passwordChecks: guard.checks, pendingChecks: guard.pending },
        idleSockets: idle.size,
        logSuppressed: securityLog.suppressed,
        throttled: m.throttled,
        offlineQueueDropped: m.offlineQueueDropped,
      }
    },

    disconnectDevice(deviceId) {
      const c = aedes && clientsById()[deviceId]
      const id = c && identities.get(c)
      if (!c || id?.kind !== 'device' || id.deviceId !== deviceId) return false
      log.warn({ event: 'device_disconnected', clientId: deviceId }, `device "${deviceId}" disconnected by the operator`)
      c.close()
      return true
    },
  }
}
