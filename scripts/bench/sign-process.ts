/**
 * A signing process for the benchmark's large ledgers: signs the chains of
 * the devices it is given and sends them back one device at a time (base64
 * payloads, the ledger's reading body form), so that several processes sign
 * side by side while the parent appends. argv: JSON {devices, n, t0}.
 */
import { toBase64 } from '../../ledger/protocol/index.ts'
import { benchKey, signReadings } from './signed-chain.ts'

const { devices, n, t0 } = JSON.parse(process.argv[2]) as {
  devices: { deviceId: string; seed: string }[]
  n: number
  t0: number
}
for (const d of devices) {
  const readings = signReadings(d.deviceId, benchKey(Buffer.from(d.seed, 'hex')), n, t0)
  await new Promise<void>((resolve) =>
    process.send!({ deviceId: d.deviceId, payloads: readings.map((r) => toBase64(r.payload)) }, () => resolve()),
  )
}
process.send!({ done: true }, () => process.exit(0))
