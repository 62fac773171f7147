/**
 * The embedded MQTT broker (aedes 1.x, MQTT 3.1.1 only): device authentication,
 * topic ACLs, size and rate limits, login backoff, caps on idle sockets (no
 * CONNECT yet), counters and throttled security logging. ARCHITECTURE.md decisions 3, 5, 10, 11;
 * operators' guide: docs/OPERATIONS.md.
 *
 * createBroker(opts) returns an unstarted broker; listen() starts it. It wires
 * the parts: broker-settings (defaults, validation), connect-auth (who may
 * connect), publish-auth (ACLs, limits), socket-intake (idle-socket caps,
 * packet size), aedes-setup (aedes and the server), broker-metrics.
 */
import { LoginGuard } from './login-guard.ts'
import type { LoginGuardOptions } from './login-guard.ts'
import type { RateLimitOptions } from './rate-limit.ts'
import type { RefusalReason, SecurityKind } from './refusals.ts'
import type { DeviceRegistry } from './registry.ts'
import type { ServiceAccount } from './service-accounts.ts'
import { createThrottledLog } from './throttled-log.ts'
import type { ThrottledLogOptions } from './throttled-log.ts'
import type { Logger } from 'pino'
import type { Aedes } from 'aedes'
import type net from 'node:net'
import { listenForSockets, startAedes } from './aedes-setup.ts'
import { clientsById, newCounters } from './broker-context.ts'
import type { BrokerContext } from './broker-context.ts'
import { snapshotMetrics } from './broker-metrics.ts'
import { brokerSettings } from './broker-settings.ts'
import { createConnectHooks } from './connect-auth.ts'
import { HeldPublishes } from './held-publishes.ts'
import { createPublishHooks } from './publish-auth.ts'
import { createSocketIntake } from './socket-intake.ts'

export { MQ_CONCURRENCY } from './aedes-setup.ts'

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

export function createBroker(opts: BrokerOptions): Broker {
  const s = brokerSettings(opts)
  const guard = new LoginGuard(opts.loginGuard)
  let aedes: Aedes | undefined
  let server: net.Server | undefined
  let closing: Promise<void> | undefined
  const ctx: BrokerContext = {
    s,
    log: s.logger,
    securityLog: createThrottledLog(s.logger, 'refused', opts.securityLog),
    counters: newCounters(),
    identities: new WeakMap(),
    aedes: () => aedes,
  }
  const held = new HeldPublishes()
  const intake = createSocketIntake(ctx)
  const connect = createConnectHooks(ctx, guard, (client) => intake.notIdle(client.conn as net.Socket))
  const publish = createPublishHooks(ctx, held)

  return {
    audience: s.audience,
    async listen() {
      if (aedes) throw new Error('broker already started')
      const { preConnect, authenticate } = connect
      const { authorizePublish, authorizeSubscribe, authorizeForward } = publish
      aedes = await startAedes(
        ctx,
        { preConnect, authenticate, authorizePublish, authorizeSubscribe, authorizeForward },
        publish.forgetBucket,
      )
      const listening = await listenForSockets(ctx, intake.onSocket)
      server = listening.server
      ctx.log.info(
        { event: 'listening', url: listening.url, audience: s.audience },
        `broker listening on ${listening.url}`,
      )
      return { port: listening.port, url: listening.url }
    },

    close() {
      closing ??= (async () => {
        ctx.securityLog.stop()
        held.clear()
        const srv = server
        const serverClosed = srv?.listening ? new Promise<void>((r) => srv.close(() => r())) : Promise.resolve()
        if (aedes) await new Promise<void>((r) => aedes!.close(() => r()))
        for (const sock of intake.sockets) sock.destroy()
        await serverClosed
      })()
      return closing
    },

    metrics: () => snapshotMetrics(ctx, intake, guard),

    disconnectDevice(deviceId) {
      const c = aedes && clientsById(aedes)[deviceId]
      const id = c && ctx.identities.get(c)
      if (!c || id?.kind !== 'device' || id.deviceId !== deviceId) return false
      ctx.log.warn(
        { event: 'device_disconnected', clientId: deviceId },
        `device "${deviceId}" disconnected by the operator`,
      )
      c.close()
      return true
    },
  }
}
