/**
 * The system child (system-child.ts: broker, ingest, ledger, dashboard), the
 * process the chaos run SIGKILLs and restarts; its ports are fixed for the run
 * so the loggers reconnect to the same address after every restart.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = dirname(fileURLToPath(import.meta.url))

/** A free TCP port, chosen once for the run. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer()
    s.once('error', rej)
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => res(p))
    })
  })
}

export interface SystemProc {
  child: ChildProcess
  url: string
  mqttUrl: string
  exited: Promise<{ code: number | null; signal: string | null }>
  stderr: () => string
}

export function spawnSystem(dataDir: string, httpPort: number, mqttPort: number, graceMs: number): Promise<SystemProc> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(HERE, 'system-child.ts'), dataDir, String(httpPort), String(mqttPort), String(graceMs)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let err = ''
  let out = ''
  child.stderr!.on('data', (d) => {
    err = (err + d).slice(-4000)
  })
  const exited = new Promise<{ code: number | null; signal: string | null }>((res) =>
    child.once('exit', (code, signal) => res({ code, signal })),
  )
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d
      const m = /READY (\{.*\})\n/.exec(out)
      if (m) {
        const j = JSON.parse(m[1]!) as { url: string; mqttUrl: string }
        out = ''
        resolve({ child, url: j.url, mqttUrl: j.mqttUrl, exited, stderr: () => err })
      }
    })
    void exited.then((e) =>
      reject(
        new Error(
          `the system exited before it was ready (code ${e.code}, signal ${e.signal}): ${err.trim().split('\n').slice(-3).join(' | ')}`,
        ),
      ),
    )
  })
}
