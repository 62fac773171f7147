/**
 * Test support: Debian's Mosquitto as a child process on a free loopback port,
 * with the settings every ColdProof test needs, stopped in teardown. Used by
 * the broker's interop test and by the cross-part integration tests.
 */
import { spawn, execFileSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'

export function findBinary(name: string, candidates: string[]): string | undefined {
  for (const c of candidates) if (existsSync(c)) return c
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined
  } catch {
    return undefined
  }
}

export const MOSQUITTO = findBinary('mosquitto', [
  '/usr/sbin/mosquitto',
  '/usr/local/sbin/mosquitto',
  '/usr/bin/mosquitto',
])
export const MOSQUITTO_PASSWD = findBinary('mosquitto_passwd', [
  '/usr/bin/mosquitto_passwd',
  '/usr/local/bin/mosquitto_passwd',
])

export async function freePort(): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))
  const port = (s.address() as net.AddressInfo).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

async function waitForPort(port: number, exited: () => string | undefined): Promise<void> {
  for (;;) {
    const why = exited()
    if (why !== undefined) throw new Error(`mosquitto exited before listening: ${why}`)
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1')
      s.once('connect', () => {
        s.destroy()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }
}

/**
 * Starts mosquitto with `authConfig` (e.g. `allow_anonymous true`, or a
 * password and ACL file) plus the common settings, and waits until it listens.
 */
export async function startMosquitto(
  t: { teardown(fn: () => unknown): void },
  dir: string,
  authConfig: string[],
): Promise<{ port: number; url: string }> {
  if (!MOSQUITTO) throw new Error('mosquitto not found')
  const port = await freePort()
  const conf = path.join(dir, 'mosquitto.conf')
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      ...authConfig,
      'user root', // tests run as root; otherwise mosquitto drops to user "mosquitto" and cannot read the files
      'persistence false',
      'max_queued_messages 100000', // default 1000 is too small for the ingest's session during an outage
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  )
  const proc = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  let exit: string | undefined
  proc.stderr.on('data', (d) => {
    stderr += d
  })
  const exited = new Promise<void>((r) =>
    proc.once('exit', (code, sig) => {
      exit = `code ${code} signal ${sig}: ${stderr.trim()}`
      r()
    }),
  )
  t.teardown(async () => {
    if (exit === undefined) {
      proc.kill('SIGTERM')
      await exited
    }
  })
  await waitForPort(port, () => exit)
  return { port, url: `mqtt://127.0.0.1:${port}` }
}
