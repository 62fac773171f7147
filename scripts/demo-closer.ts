/**
 * Demo only: the receiving site closes a shipment once it is delivered. When
 * every logger of a shipment has taken its last sample and the ledger has
 * receipted all of it (nothing left in the loggers' buffers), the shipment is
 * closed at the device time of the earliest of its loggers' last samples, so
 * that every logger's chain reaches the close (the ledger refuses a close that
 * a chain does not reach) and its bundle can be verified end to end.
 */
import type { Ledger } from '../ledger/store/index.ts'
import type { Fleet } from '../device-sim/index.ts'

export interface DemoCloser {
  stop(): void
}

export function startDemoCloser(
  ledger: Ledger,
  fleet: Fleet,
  { everyMs = 2000, log = (_: string) => {} } = {},
): DemoCloser {
  let busy = false
  const tick = async () => {
    if (busy) return
    busy = true
    try {
      const byShipment = new Map<string, ReturnType<Fleet['status']>>()
      for (const s of fleet.status()) byShipment.set(s.shipmentId, [...(byShipment.get(s.shipmentId) ?? []), s])
      for (const [shipmentId, devices] of byShipment) {
        const state = ledger.shipment(shipmentId)
        if (!state || state.closedAt !== undefined) continue
        const delivered = devices.every((d) => d.finished && d.finishReason === 'delivered' && d.buffered === 0)
        if (!delivered) continue
        const closedAt = Math.min(...devices.map((d) => d.lastSampleMs))
        await ledger.closeShipment({ shipmentId, closedAt, by: 'demo-receiving-site' })
        log(`demo: ${shipmentId} delivered and closed`)
      }
    } catch (e) {
      log(`demo closer: ${(e as Error).message}`)
    } finally {
      busy = false
    }
  }
  const timer = setInterval(() => void tick(), everyMs)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}
