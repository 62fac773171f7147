/**
 * Test helper: `coldproof start` and other CLI commands as child processes, as
 * a user runs them from the README. Waits on what the process prints, never
 * on time (the ceilings only turn a hang into a failure).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const bin = join(root, 'bin', 'coldproof.js')
const env = { ...process.env, NODE_OPTIONS: '' }

export interface Started {
  child: ChildProcess
  out: () => string
  url: string
  mqttUrl: string | null
  logins: Record<string, { username: string; password: string }>
}

/** Starts `coldproof start` on free ports with `dataDir`; resolves once it prints "Press Ctrl-C to stop". */
export function startChild(dataDir: string, extra: string[] = [], cwd = root): Promise<Started> {
  const child = spawn(
    process.execPath,
    [bin, 'start', '--port', '0', '--mqtt-port', '0', '--data', dataDir, ...extra],
    { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  child.stdout!.on('data', (d) => {
    out += d
  })
  child.stderr!.on('data', (d) => {
    out += d
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`start did not report running within 120 s:\n${out}`))
    }, 120_000)
    const poll = setInterval(() => {
      if (!/Press Ctrl-C to stop/.test(out)) return
      clearInterval(poll)
      clearTimeout(timer)
      const url = /dashboard\s+(http:\/\/\S+)/.exec(out)?.[1]
      const mqttUrl = /(mqtt:\/\/[\d.]+:\d+)/.exec(out)?.[1] ?? null
      const logins: Started['logins'] = {}
      for (const m of out.matchAll(/^\s+(operator|regulator|admin)\s+(\S+) \/ (\S+)$/gm))
        logins[m[1]] = { username: m[2], password: m[3] }
      if (!url) reject(new Error(`no dashboard URL in:\n${out}`))
      else resolve({ child, out: () => out, url, mqttUrl, logins })
    }, 100)
    child.on('exit', (code) => {
      clearInterval(poll)
      clearTimeout(timer)
      reject(new Error(`start exited with ${code}:\n${out}`))
    })
  })
}

/** SIGINT, as Ctrl-C; resolves with the exit code. */
export function stopChild(s: Started): Promise<number | null> {
  return new Promise((resolve) => {
    s.child.removeAllListeners('exit')
    if (s.child.exitCode !== null) {
      resolve(s.child.exitCode)
      return
    }
    s.child.on('exit', (code) => resolve(code))
    s.child.kill('SIGINT')
  })
}

/** Runs `coldproof <args>` to its end. */
export function runCli(
  args: string[],
  opts: { cwd?: string; stdin?: string; env?: Record<string, string> } = {},
): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: opts.cwd ?? root,
    env: { ...env, ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let out = '',
    err = ''
  child.stdout!.on('data', (d) => {
    out += d
  })
  child.stderr!.on('data', (d) => {
    err += d
  })
  child.stdin!.end(opts.stdin ?? '')
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })))
}

export async function loginCookie(url: string, l: { username: string; password: string }): Promise<string> {
  const r = await fetch(`${url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(l),
  })
  if (r.status !== 200) throw new Error(`login ${l.username}: HTTP ${r.status}`)
  return r.headers.get('set-cookie')!.split(';')[0]
}
