/** Signs many devices' chains in child processes (sign-process.ts); calls `onDevice` with each device's chain as it arrives, one at a time. */
import { fork } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { toBase64, toHex } from '../../ledger/protocol/index.ts'
import { benchKey, signReadings } from './signed-chain.ts'
import { StageFailed } from './figures.ts'
import type { BenchDevice } from './publishers.ts'

export async function signInChildren(
  devices: BenchDevice[],
  n: number,
  t0: number,
  onDevice: (deviceId: string, payloads: string[]) => Promise<void> | void,
): Promise<void> {
  // A small job is signed here: starting a process would cost more than it saves.
  if (devices.length * n <= 5000) {
    for (const d of devices)
      await onDevice(
        d.deviceId,
        signReadings(d.deviceId, benchKey(d.seed), n, t0).map((r) => toBase64(r.payload)),
      )
    return
  }
  const k = Math.max(1, Math.min(availableParallelism(), devices.length))
  let chain = Promise.resolve()
  await Promise.all(
    Array.from(
      { length: k },
      (_, i) =>
        new Promise<void>((resolve, reject) => {
          const share = devices
            .filter((_, j) => j % k === i)
            .map((d) => ({ deviceId: d.deviceId, seed: toHex(d.seed) }))
          const child = fork(
            fileURLToPath(new URL('./sign-process.ts', import.meta.url)),
            [JSON.stringify({ devices: share, n, t0 })],
            { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
          )
          let done = false
          child.on('message', (m: { done?: boolean; deviceId?: string; payloads?: string[] }) => {
            if (m.done) {
              done = true
              return
            }
            // One device at a time, in arrival order: the callback may append to a ledger.
            chain = chain.then(() => onDevice(m.deviceId!, m.payloads!))
          })
          child.once('exit', (code) =>
            done && code === 0 ? resolve() : reject(new StageFailed('signing', `signing process exited (${code})`)),
          )
        }),
    ),
  )
  await chain
}
