/**
 * Drives the publisher processes (publisher-process.ts): splits the devices
 * over a few child processes, sends each command to all of them and waits for
 * every reply; a child that fails or dies fails the stage.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { toHex } from '../../ledger/protocol/index.ts'
import { StageFailed } from './figures.ts'

export interface BenchDevice {
  deviceId: string
  seed: Uint8Array
}

/** deviceId, seq, publish time (wall ms) */
export type Stamp = [string, number, number]

export interface Publishers {
  readonly processes: number
  /** Pre-signs each device's next n readings (not timed). */
  sign(n: number): Promise<void>
  burst(): Promise<Stamp[]>
  paced(perSecond: number): Promise<Stamp[]>
  /** RSS of each publisher process at its last reply, bytes. */
  rss(): number[]
  /** Disconnects the devices (the processes stay for the next stage). */
  close(): Promise<void>
}

interface Reply {
  ok: boolean
  id?: number
  error?: string
  rss: number
  stamps?: Stamp[]
}

let nextCallId = 1

/**
 * Sends one command and waits for its reply; a command that does not answer
 * within `timeoutMs` kills its process (the pool starts a fresh one for the
 * next stage) and fails the stage naming the command.
 */
function call(child: ChildProcess, msg: Record<string, unknown>, timeoutMs = 30 * 60_000): Promise<Reply> {
  const id = nextCallId++
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer)
      child.off('exit', onExit)
      child.off('message', onMessage)
    }
    const onExit = (code: number | null) => {
      done()
      reject(new StageFailed('publishers', `publisher process exited (${code}) during ${msg.cmd}`))
    }
    const onMessage = (r: Reply) => {
      if (r.id !== id) return
      done()
      if (r.ok) resolve(r)
      else reject(new StageFailed('publishers', `publisher ${msg.cmd} failed: ${r.error}`))
    }
    const timer = setTimeout(() => {
      done()
      child.kill('SIGKILL')
      reject(
        new StageFailed(
          'publishers',
          `publisher ${msg.cmd} gave no answer in ${timeoutMs / 60_000} min; the process was killed`,
        ),
      )
    }, timeoutMs)
    child.on('exit', onExit)
    child.on('message', onMessage)
    child.send({ ...msg, id })
  })
}

/** How many publisher processes the bench keeps (the quick run uses one: starting processes dominates small runs). */
export const publisherProcesses = { count: Math.max(2, Math.min(4, availableParallelism())) }

// The processes outlive a stage: starting one costs seconds on a loaded machine.
let pool: ChildProcess[] = []

async function processes(k: number): Promise<ChildProcess[]> {
  pool = pool.filter((c) => c.exitCode === null && c.signalCode === null)
  while (pool.length < k) {
    const c = fork(fileURLToPath(new URL('./publisher-process.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    pool.push(c)
    await new Promise<void>((resolve, reject) => {
      c.once('message', () => resolve())
      c.once('exit', (code) => reject(new StageFailed('publishers', `publisher process exited (${code}) on start`)))
    })
  }
  return pool.slice(0, k)
}

/** Ends the publisher processes (at the end of a bench run). */
export async function stopPublisherProcesses(): Promise<void> {
  const all = pool
  pool = []
  await Promise.allSettled(
    all.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve()
          c.once('exit', () => resolve())
          c.send({ cmd: 'exit' })
        }),
    ),
  )
}

/** Logs the devices in, spread over the publisher processes. */
export async function startPublishers(
  url: string,
  devices: BenchDevice[],
  count = publisherProcesses.count,
): Promise<Publishers> {
  const k = Math.max(1, Math.min(count, devices.length))
  const children = await processes(k)
  const rss = new Array<number>(k).fill(0)
  const all = async (msg: (i: number) => Record<string, unknown>) => {
    const replies = await Promise.all(children.map((c, i) => call(c, msg(i))))
    replies.forEach((r, i) => {
      rss[i] = r.rss
    })
    return replies
  }
  const share = (i: number) =>
    devices.filter((_, n) => n % k === i).map((d) => ({ deviceId: d.deviceId, seed: toHex(d.seed) }))
  try {
    await all((i) => ({ cmd: 'connect', url, devices: share(i) }))
  } catch (e) {
    await Promise.allSettled(children.map((c) => call(c, { cmd: 'disconnect' })))
    throw e
  }
  const stamps = (replies: Reply[]) => replies.flatMap((r) => r.stamps ?? [])
  return {
    processes: k,
    async sign(n) {
      await all(() => ({ cmd: 'sign', n }))
    },
    async burst() {
      return stamps(await all(() => ({ cmd: 'burst' })))
    },
    async paced(perSecond) {
      return stamps(await all(() => ({ cmd: 'paced', perSecond: perSecond / k })))
    },
    rss: () => [...rss],
    async close() {
      await Promise.allSettled(children.map((c) => call(c, { cmd: 'disconnect' }, 2 * 60_000)))
    },
  }
}
