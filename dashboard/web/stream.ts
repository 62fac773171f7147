/**
 * The live stream (GET /api/stream, Server-Sent Events; docs/API.md). One
 * EventSource for the whole app; views subscribe and unsubscribe. The browser
 * reconnects by itself; since events are not replayed, subscribers are told
 * about a reconnect so they can re-fetch. A `bye` event means the server is
 * stopping: the state shows it (never a green "Live" on a dead server) and
 * the stream comes back once /health answers again.
 */
import { mapStreamEvent } from './api/stream-events.ts'
import type { StreamEvent } from './types.ts'

/** 'stopped': the server said `bye` (it is shutting down); the stream waits for /health, then reconnects. */
export type StreamState = 'connecting' | 'open' | 'error' | 'stopped'
type Listener = (e: StreamEvent) => void

const NAMES = ['hello', 'reading', 'alarm', 'ack', 'shipment', 'device', 'checkpoint'] as const

export interface LiveStream {
  subscribe(fn: Listener): () => void
  onReconnect(fn: () => void): () => void
  /** Tells the reconnect listeners to re-fetch (the server's live state caught up with the ledger). */
  refresh(): void
  close(): void
}

export function openStream(onState: (s: StreamState) => void): LiveStream {
  const listeners = new Set<Listener>()
  const reconnectListeners = new Set<() => void>()
  let everOpen = false
  let source: EventSource | null = null

  const connect = () => {
    onState('connecting')
    source = new EventSource('/api/stream', { withCredentials: true })
    source.addEventListener('open', () => {
      onState('open')
      if (everOpen) for (const fn of reconnectListeners) fn()
      everOpen = true
    })
    source.addEventListener('error', () => {
      onState('error')
      // A 401 closes the stream for good (readyState CLOSED): the session ended.
      if (source?.readyState === EventSource.CLOSED) {
        source = null
        setTimeout(() => {
          void fetch('/api/me', { credentials: 'same-origin' })
            .then((r) => {
              if (r.status === 401) location.assign('/login.html')
              else connect()
            })
            .catch(() => connect())
        }, 3000)
      }
    })
    source.addEventListener('bye', () => {
      source?.close()
      source = null
      onState('stopped')
      const retry = () => {
        setTimeout(() => {
          void fetch('/health', { credentials: 'same-origin' })
            .then((r) => {
              if (r.ok) connect()
              else retry()
            })
            .catch(retry)
        }, 3000)
      }
      retry()
    })
    for (const name of NAMES) {
      source.addEventListener(name, (ev) => {
        let data: unknown
        try {
          data = JSON.parse((ev as MessageEvent<string>).data)
        } catch {
          return
        }
        const e = mapStreamEvent(name, data)
        for (const fn of listeners) {
          try {
            fn(e)
          } catch (err) {
            console.error('stream listener failed', err)
          }
        }
      })
    }
  }
  connect()

  return {
    subscribe(fn) {
      listeners.add(fn)
      return () => listeners.delete(fn)
    },
    onReconnect(fn) {
      reconnectListeners.add(fn)
      return () => reconnectListeners.delete(fn)
    },
    refresh() {
      for (const fn of reconnectListeners) fn()
    },
    close() {
      source?.close()
      source = null
    },
  }
}
