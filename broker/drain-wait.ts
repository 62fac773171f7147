/**
 * Backpressure from the ingest without a drain timeout.
 *
 * aedes (1.2) writes each PUBLISH to a subscriber's socket; when the write
 * returns false it calls `client.waitForDrain(cb)` and the publishing
 * connection reads its next packets only after `cb`. With a `drainTimeout`
 * (the broker's `drainTimeoutMs`) a socket that has not drained within it is
 * destroyed ("drain timeout"). That protects the broker from a stalled
 * device, but the ingest is stalled on purpose: it stops reading its socket
 * while `maxInFlight` messages await their commit (ledger/ingest/ingest-mqtt.ts),
 * so that the backlog waits in the devices instead of in a heap. Dropping it
 * for that made it reconnect and receive its whole unacknowledged queue again
 * (duplicates, and a burst larger than the one it was slowing down for).
 *
 * So a client on the ingest's service account waits for 'drain' without a
 * timer: one listener for all of its waiting writes (not one per write), all
 * released together. A dead ingest is still caught by its keepalive, and on
 * close aedes emits 'drain' itself, which releases the waiters.
 */
import type { Client } from 'aedes'

type DrainCallback = (err: Error | null, client: Client) => void

/** Replaces `client`'s waitForDrain (an aedes 1.x internal: broker/test/library-internals.test.ts) with one without timeout. */
export function waitForDrainWithoutTimeout(client: Client): void {
  const c = client as unknown as { waitForDrain?: (cb: DrainCallback) => void; conn: NodeJS.EventEmitter }
  if (typeof c.waitForDrain !== 'function')
    throw new Error('waitForDrainWithoutTimeout: this aedes version has no Client#waitForDrain')
  let waiting: DrainCallback[] = []
  const release = () => {
    const ready = waiting
    waiting = []
    // aedes calls these from setImmediate too: a long list must not deepen the stack of the 'drain' emit.
    for (const cb of ready) setImmediate(cb, null, client)
  }
  c.waitForDrain = (cb) => {
    if (waiting.push(cb) === 1) c.conn.once('drain', release)
  }
}
