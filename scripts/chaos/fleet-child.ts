/**
 * The chaos suite's fleet, in its own process so that it outlives every kill
 * of the system. It is driven over IPC by the orchestrator (run.ts) and keeps,
 * per device, an append-only log of every payload the device signed
 * (`<data>/<deviceId>/signed.bin`, `u32 length ‖ payload` records): the
 * devices' own record, the reference the ledger is compared with at the end.
 * The device buffers prune what the ledger receipted, so they cannot serve as
 * that reference themselves.
 */
import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { createFleet, parseScenario, type Fleet } from '../../device-sim/index.ts'

export const SIGNED_LOG = 'signed.bin'

export type FleetRequest =
  | {
      type: 'init'
      scenario: unknown
      dataDir: string
      mqttUrl: string
      acceleration: number
      receiptTimeoutMs: number
    }
  | { type: 'start' }
  | { type: 'status' }
  | { type: 'stop' }

export type FleetReply =
  | {
      type: 'provisioning'
      records: { deviceId: string; publicKey: string; model: string; calibration: unknown }[]
      startMs: number
    }
  | { type: 'started' }
  | {
      type: 'status'
      devices: {
        deviceId: string
        seq: number
        buffered: number
        dropped: number
        connected: boolean
        finished: boolean
      }[]
    }
  | { type: 'stopped' }
  | { type: 'error'; message: string }

function frame(payload: Uint8Array): Buffer {
  const out = Buffer.alloc(4 + payload.length)
  out.writeUInt32BE(payload.length, 0)
  out.set(payload, 4)
  return out
}

let fleet: Fleet | undefined
// The suite is gone (killed, or done without a stop): so is the fleet.
process.on('disconnect', () => process.exit(0))
const send = (m: FleetReply) => process.send?.(m)

process.on('message', (m: FleetRequest) => {
  void (async () => {
    try {
      if (m.type === 'init') {
        const dataDir = m.dataDir
        fleet = createFleet({
          scenario: parseScenario(m.scenario),
          dataDir,
          acceleration: m.acceleration,
          receiptTimeoutMs: m.receiptTimeoutMs,
          // Short reconnect delays: the system comes back within seconds after each kill.
          mqtt: { url: m.mqttUrl, reconnectMinMs: 200, reconnectMaxMs: 2000, connectBatchTimeoutMs: 2000 },
          log: () => {},
          // Written synchronously right after signing, before anything can be lost downstream.
          onReading: (deviceId, payload) => appendFileSync(join(dataDir, deviceId, SIGNED_LOG), frame(payload)),
        })
        send({ type: 'provisioning', records: fleet.provisioningRecords() as never, startMs: fleet.startMs })
      } else if (m.type === 'start') {
        await fleet!.start()
        send({ type: 'started' })
      } else if (m.type === 'status') {
        send({
          type: 'status',
          devices: fleet!.status().map((s) => ({
            deviceId: s.deviceId,
            seq: s.seq,
            buffered: s.buffered,
            dropped: s.dropped,
            connected: s.connected,
            finished: s.finished,
          })),
        })
      } else if (m.type === 'stop') {
        await fleet?.stop()
        send({ type: 'stopped' })
        process.disconnect?.()
      }
    } catch (e) {
      send({ type: 'error', message: (e as Error).stack ?? String(e) })
    }
  })()
})

/** Reads a signed log: every payload the device signed, in order. */
export function readSignedLog(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let o = 0
  while (o + 4 <= bytes.length) {
    const n = dv.getUint32(o)
    if (o + 4 + n > bytes.length) break
    out.push(bytes.subarray(o + 4, o + 4 + n))
    o += 4 + n
  }
  return out
}
