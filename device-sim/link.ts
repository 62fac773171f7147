/**
 * How a device reaches the ledger. Two implementations: MQTT (mqtt-link.ts)
 * for real runs, and an in-memory sink (memory-link.ts) for tests and for
 * large fleets sampled without a broker.
 */
export interface LinkHandlers {
  /** The link is up: the device sends every unreceipted reading, in order. */
  onConnect(): void
  /** A receipt payload arrived on the device's receipt topic. */
  onReceipt(payload: Uint8Array): void
  /** A resend request payload arrived on the device's resend topic. */
  onResend(payload: Uint8Array): void
}

export interface DeviceLink {
  readonly connected: boolean
  /** Starts connecting (idempotent). Handlers fire from then on. */
  open(handlers: LinkHandlers): void
  /**
   * Sends one reading payload; only called while connected. `onDelivered`
   * runs once the broker has acknowledged it (MQTT: its PUBACK); a reading
   * handed over but never acknowledged has not provably left the device.
   */
  publish(payload: Uint8Array, onDelivered?: () => void): void
  /** Disconnects; open() may be called again later (connectivity loss). */
  close(): Promise<void>
}
