/**
 * Starts the system under test in its own process (server-process.ts) and
 * drives it: provisioning, commit counts, RSS samples. A command that fails,
 * or a process that dies, fails the stage by name.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { CommitWaiter } from './commit-tracker.ts'
import { StageFailed } from './figures.ts'

interface Reply {
  id?: number
  ok: boolean
  error?: string
  url?: string
  count?: number
  end?: number
  rss?: number[]
}

export interface ServerProcess extends CommitWaiter {
  url: string
  provision(prefix: string, count: number, shipmentSize: number): Promise<void>
  count(): Promise<number>
  /** Starts sampling the process's RSS every 500 ms. */
  sample(): Promise<void>
  /** Stops sampling: every sample, MiB. */
  samples(): Promise<number[]>
  close(): Promise<void>
}

export async function startServerProcess(stage: string): Promise<ServerProcess> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./server-process.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  let nextId = 1
  const waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>()
  const started = new Promise<Reply>((resolve, reject) => {
    child.once('message', (r: Reply) => (r.ok ? resolve(r) : reject(new StageFailed(stage, `server: ${r.error}`))))
    child.once('exit', (code) => reject(new StageFailed(stage, `server process exited (${code}) on start`)))
  })
  const { url } = await started
  child.on('message', (r: Reply) => {
    const w = r.id === undefined ? undefined : waiting.get(r.id)
    if (!w) return
    waiting.delete(r.id!)
    if (r.ok) w.resolve(r)
    else w.reject(new StageFailed(stage, `server: ${r.error}`))
  })
  child.on('exit', (code) => {
    for (const w of waiting.values()) w.reject(new StageFailed(stage, `server process exited (${code})`))
    waiting.clear()
  })
  const call = (msg: Record<string, unknown>) =>
    new Promise<Reply>((resolve, reject) => {
      const id = nextId++
      waiting.set(id, { resolve, reject })
      child.send({ ...msg, id })
    })
  return {
    url: url!,
    async provision(prefix, count, shipmentSize) {
      await call({ cmd: 'provision', prefix, count, shipmentSize })
    },
    async count() {
      return (await call({ cmd: 'count' })).count!
    },
    async until(target, stage) {
      return (await call({ cmd: 'until', target, stage })).end!
    },
    async sample() {
      await call({ cmd: 'sample' })
    },
    async samples() {
      return (await call({ cmd: 'samples' })).rss!.map((b) => b / 2 ** 20)
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      await call({ cmd: 'close' }).catch(() => child.kill('SIGKILL'))
      await exited
    },
  }
}
