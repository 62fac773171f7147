/**
 * Server-Sent Events fan-out (WHATWG HTML, "Server-sent events"): named
 * events with one JSON object per `data:` line, a comment line as heartbeat
 * so proxies and browsers keep the connection, and clean removal when the
 * client goes away.
 */
import type { ServerResponse } from 'node:http'
import type { MonitorEvent } from './monitor.ts'
import { escapeJsonForHtml } from './json-escape.ts'

interface Client { res: ServerResponse; shipmentId: string | null }

export interface SseHub {
  add(res: ServerResponse, shipmentId: string | null): () => void
  /** Sends one event to every client (a reading only to clients following one of its shipments, or all). */
  broadcast(e: MonitorEvent | { event: 'hello'; data: unknown }): void
  size(): number
  closeAll(): void
}

/** One SSE message. JSON.stringify never emits a raw line break, so the data stays one line. */
export function sseMessage(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${escapeJsonForHtml(JSON.stringify(data))}\n\n`
}

export function createSseHub({ heartbeatMs }: { heartbeatMs: number }): SseHub {
  const clients = new Set<Client>()
  let timer: NodeJS.Timeout | null = null
  const ensureTimer = () => {
    if (timer || heartbeatMs <= 0) return
    timer = setInterval(() => {
      for (const c of clients) c.res.write(': hb\n\n')
    }, heartbeatMs)
    timer.unref()
  }
  const stopTimerIfIdle = () => {
    if (clients.size === 0 && timer) {
      clearInterval(timer)
      timer = null
    }
  }
  return {
    add(res, shipmentId) {
      const c: Client = { res, shipmentId }
      clients.add(c)
      ensureTimer()
      return () => {
        clients.delete(c)
        stopTimerIfIdle()
      }
    },
    broadcast(e) {
      const text = sseMessage(e.event, e.data)
      for (const c of clients) {
        if (c.shipmentId !== null && e.event === 'reading' && !(e.data as { shipmentIds: string[] }).shipmentIds.includes(c.shipmentId)) continue
        c.res.write(text)
      }
    },
    size() {
      return clients.size
    },
    closeAll() {
      for (const c of clients) c.res.end()
      clients.clear()
      stopTimerIfIdle()
    },
  }
}
