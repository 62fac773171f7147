/**
 * An in-memory link: published payloads go to a callback (a test's "ledger"),
 * and the test injects receipts and resend requests. It connects at once.
 */
import type { DeviceLink, LinkHandlers } from './link.ts'

export interface MemoryLink extends DeviceLink {
  /** Deliver a receipt payload to the device (as the ledger would). */
  receipt(payload: Uint8Array): void
  resend(payload: Uint8Array): void
}

export function createMemoryLink(deliver: (payload: Uint8Array) => void = () => {}): MemoryLink {
  let handlers: LinkHandlers | undefined
  let connected = false
  return {
    get connected() {
      return connected
    },
    open(h) {
      handlers = h
      if (connected) return
      connected = true
      h.onConnect()
    },
    publish(payload, onDelivered) {
      if (!connected) throw new Error('memory link: publish while disconnected')
      deliver(payload)
      onDelivered?.()
    },
    async close() {
      connected = false
    },
    receipt(payload) {
      if (connected) handlers?.onReceipt(payload)
    },
    resend(payload) {
      if (connected) handlers?.onResend(payload)
    },
  }
}
