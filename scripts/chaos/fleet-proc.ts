/** The fleet child (fleet-child.ts): the loggers, never killed; it answers requests over IPC. */
import { fork } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FleetReply, FleetRequest } from './fleet-child.ts'

const HERE = dirname(fileURLToPath(import.meta.url))

export type FleetProc = ReturnType<typeof fleetProc>

export function fleetProc() {
  const child = fork(join(HERE, 'fleet-child.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  })
  let err = ''
  child.stderr!.on('data', (d) => {
    err = (err + d).slice(-4000)
  })
  const ask = <T extends FleetReply['type']>(m: FleetRequest, want: T): Promise<Extract<FleetReply, { type: T }>> =>
    new Promise((res, rej) => {
      const on = (r: FleetReply) => {
        if (r.type === 'error') {
          child.off('message', on)
          rej(new Error(`fleet: ${r.message}`))
        } else if (r.type === want) {
          child.off('message', on)
          res(r as never)
        }
      }
      child.on('message', on)
      child.send(m)
    })
  return { child, ask, stderr: () => err }
}
