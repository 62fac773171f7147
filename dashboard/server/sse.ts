/**
 * Server-Sent Events fan-out (WHATWG HTML, "Server-sent events"): named
 * events with one JSON object per `data:` line, a comment line as heartbeat
 * so proxies and browsers keep the connection, and clean removal when the
 * client goes away.
 *
 * Bounded: at most `maxPerUser` streams per user and `maxTotal` in all
 * (refusal() names the limit before a stream is opened), and a client whose
 * unsent data passes `maxBufferedBytes` (it does not read) is dropped instead
 * of being buffered without limit. On shutdown every client gets a `bye`
 * event before its stream ends, so the UI shows "server stopping", not "Live".
 */
import type { ServerResponse } from 'node:http'
import type { MonitorEvent } from './monitor.ts'
import { escapeJsonForHtml } from './json-escape.ts'

interface Client {
  res: ServerResponse
  shipmentId: string | null
  user: string
}

export interface SseLimits {
  /** Open streams per user (default 10). */
  maxPerUser?: number
  /** Open streams in all (default 500). */
  maxTotal?: number
  /** Unsent bytes a client may hold before it is dropped (default 128 KiB). */
  maxBufferedBytes?: number
}

export const SSE_DEFAULTS = { maxPerUser: 10, maxTotal: 500, maxBufferedBytes: 128 * 1024 } as const

export interface SseHub {
  /** Why a new stream for `user` is refused (a limit is reached), or null. */
  refusal(user: string): string | null
  add(res: ServerResponse, shipmentId: string | null, user: string): () => void
  /** Sends one event to every client (a reading only to clients following one of its shipments, or all). */
  broadcast(e: MonitorEvent | { event: 'hello'; data: unknown }): void
  size(): number
  /** Bytes written to streams and not yet handed to the kernel, over all clients. */
  bufferedBytes(): number
  /** Clients dropped because they did not read. */
  dropped(): number
  /** Sends `bye` to every client and ends every stream (server stopping). */
  closeAll(reason?: string): void
  /** Ends one user's streams the same way (their sessions were dropped: disabled, role or password changed). */
  closeUser(user: string, reason: string): void
}

/** One SSE message. JSON.stringify never emits a raw line break, so the data stays one line. */
export function sseMessage(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${escapeJsonForHtml(JSON.stringify(data))}\n\n`
}

export function createSseHub({
  heartbeatMs,
  limits = {},
  onDrop,
}: {
  heartbeatMs: number
  limits?: SseLimits
  onDrop?: (user: string, bufferedBytes: number) => void
}): SseHub {
  const maxPerUser = limits.maxPerUser ?? SSE_DEFAULTS.maxPerUser
  const maxTotal = limits.maxTotal ?? SSE_DEFAULTS.maxTotal
  const maxBuffered = limits.maxBufferedBytes ?? SSE_DEFAULTS.maxBufferedBytes
  const clients = new Set<Client>()
  const perUser = new Map<string, number>()
  let droppedCount = 0
  let timer: NodeJS.Timeout | null = null
  const end = (list: Client[], reason: string) => {
    const bye = sseMessage('bye', { reason })
    for (const c of list) {
      forget(c)
      if (c.res.destroyed) continue
      c.res.end(bye)
      // A client that does not read would hold the server's close open: cut it.
      if (c.res.writableLength > 0) c.res.destroy()
      else c.res.socket?.end()
    }
  }

  const forget = (c: Client) => {
    if (!clients.delete(c)) return
    const n = (perUser.get(c.user) ?? 1) - 1
    if (n <= 0) perUser.delete(c.user)
    else perUser.set(c.user, n)
    if (clients.size === 0 && timer) {
      clearInterval(timer)
      timer = null
    }
  }
  // Checked once the writes of this turn of the event loop are flushed: node corks a
  // response's socket until the next tick, so a burst written in one turn is not a slow reader.
  let checkQueued = false
  const dropSlow = () => {
    checkQueued = false
    for (const c of clients) {
      // writableLength: what the kernel would not take. A client that reads keeps it near zero.
      const held = c.res.writableLength
      if (held <= maxBuffered) continue
      droppedCount++
      forget(c)
      c.res.destroy()
      onDrop?.(c.user, held)
    }
  }
  const send = (c: Client, text: string) => {
    if (c.res.destroyed || c.res.writableEnded) return forget(c)
    c.res.write(text)
    if (!checkQueued) {
      checkQueued = true
      setImmediate(dropSlow)
    }
  }
  const ensureTimer = () => {
    if (timer || heartbeatMs <= 0) return
    timer = setInterval(() => {
      for (const c of clients) send(c, ': hb\n\n')
    }, heartbeatMs)
    timer.unref()
  }
  return {
    refusal(user) {
      if (clients.size >= maxTotal) return `the server holds its maximum of ${maxTotal} live streams; try again later`
      if ((perUser.get(user) ?? 0) >= maxPerUser)
        return `user "${user}" already has ${maxPerUser} live streams open (the maximum); close a tab or window first`
      return null
    },
    add(res, shipmentId, user) {
      const c: Client = { res, shipmentId, user }
      clients.add(c)
      perUser.set(user, (perUser.get(user) ?? 0) + 1)
      ensureTimer()
      return () => forget(c)
    },
    broadcast(e) {
      if (clients.size === 0) return // nothing to serialise for nobody
      const text = sseMessage(e.event, e.data)
      for (const c of clients) {
        if (
          c.shipmentId !== null &&
          e.event === 'reading' &&
          !(e.data as { shipmentIds: string[] }).shipmentIds.includes(c.shipmentId)
        )
          continue
        send(c, text)
      }
    },
    size() {
      return clients.size
    },
    bufferedBytes() {
      let n = 0
      for (const c of clients) n += c.res.writableLength
      return n
    },
    dropped() {
      return droppedCount
    },
    closeAll(reason = 'server stopping') {
      end([...clients], reason)
    },
    closeUser(user, reason) {
      end(
        [...clients].filter((c) => c.user === user),
        reason,
      )
    },
  }
}
