/**
 * What the broker's parts share: the settings, the identities of connected
 * clients, the counters, and the one way to refuse (counted and logged).
 */
import type net from 'node:net'
import type { Aedes, Client } from 'aedes'
import type { Logger } from 'pino'
import type { Identity } from './acl.ts'
import type { BrokerSettings } from './broker-settings.ts'
import { REFUSAL_REASONS, SECURITY_KIND } from './refusals.ts'
import type { RefusalReason } from './refusals.ts'
import type { ThrottledLog } from './throttled-log.ts'

/** Counters behind metrics(); bytes of open sockets are added when read. */
export interface BrokerCounters {
  total: number
  messagesIn: number
  messagesOut: number
  closedBytesIn: number
  closedBytesOut: number
  throttled: number
  offlineQueueDropped: number
  refusals: Record<RefusalReason, number>
}

export function newCounters(): BrokerCounters {
  return {
    total: 0,
    messagesIn: 0,
    messagesOut: 0,
    closedBytesIn: 0,
    closedBytesOut: 0,
    throttled: 0,
    offlineQueueDropped: 0,
    refusals: Object.fromEntries(Object.keys(REFUSAL_REASONS).map((k) => [k, 0])) as Record<RefusalReason, number>,
  }
}

export interface BrokerContext {
  s: BrokerSettings
  log: Logger
  securityLog: ThrottledLog
  counters: BrokerCounters
  /** Set when a client's CONNECT is accepted. */
  identities: WeakMap<Client, Identity>
  /** The running aedes, once listen() has started it. */
  aedes(): Aedes | undefined
}

export const remoteOf = (c: Client) => (c.conn as net.Socket | undefined)?.remoteAddress

/** aedes's connected clients by client id (an undocumented field: broker/test/library-internals.test.ts checks it). */
export const clientsById = (aedes: Aedes) =>
  (aedes as unknown as { clients: Record<string, Client | undefined> }).clients

/** One refusal: counted exactly, logged as one JSON line (thinned per reason under a flood). */
export function refused(
  ctx: BrokerContext,
  reason: RefusalReason,
  c: Client | undefined,
  detail: string,
  extra: Record<string, unknown> = {},
): void {
  ctx.counters.refusals[reason]++
  ctx.securityLog.warn(
    reason,
    {
      event: 'refused',
      reason,
      kind: SECURITY_KIND[reason],
      detail,
      clientId: c?.id ?? undefined,
      remote: c && remoteOf(c),
      ...extra,
    },
    `refused: ${reason}: ${detail}`,
  )
}
