/**
 * `coldproof start --no-demo` as an operator runs it in production, as real
 * child processes on free ports: no demo users and no password printed; the
 * first admin from `coldproof user add`; a second start on the same ledger
 * or a busy port refused in one line naming the fix; Ctrl-C with live
 * streams open (one that never reads) stops, the streams told `bye`; a
 * second signal forces the exit. Stop times are printed, not asserted
 * beyond the exit itself (the 5 s promise is enforced by a watchdog).
 */
import t from 'tap'
import type * as Tap from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { request } from 'node:http'
import { connect as tcp, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { existsSync, readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const bin = join(root, 'bin', 'coldproof.js')
const env = { ...process.env, NODE_OPTIONS: '', COLDPROOF_DEMO: '' }

interface Started {
  child: ChildProcess
  out: () => string
  url: string
  mqttUrl: string
}

function start(dataDir: string, extra: string[] = []): Promise<Started> {
  const child = spawn(
    process.execPath,
    [bin, 'start', '--port', '0', '--mqtt-port', '0', '--data', dataDir, '--no-demo', ...extra],
    { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
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
      reject(new Error(`start did not report running within 90 s:\n${out}`))
    }, 90_000)
    const poll = setInterval(() => {
      if (!/Press Ctrl-C to stop/.test(out)) return
      clearInterval(poll)
      clearTimeout(timer)
      resolve({
        child,
        out: () => out,
        url: /dashboard\s+(http:\/\/\S+)/.exec(out)![1],
        mqttUrl: /MQTT\s+(mqtt:\/\/\S+)/.exec(out)![1],
      })
    }, 50)
    child.on('exit', (code) => {
      clearInterval(poll)
      clearTimeout(timer)
      reject(new Error(`start exited with ${code}:\n${out}`))
    })
  })
}

/** Runs a command to its end: exit code, stdout, stderr. */
function run(args: string[], stdin?: string): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'] })
  let out = '',
    err = ''
  child.stdout!.on('data', (d) => {
    out += d
  })
  child.stderr!.on('data', (d) => {
    err += d
  })
  child.stdin!.end(stdin ?? '')
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err })))
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode)
    child.removeAllListeners('exit')
    child.on('exit', (code) => resolve(code))
  })
}

async function login(url: string, username: string, password: string): Promise<{ status: number; cookie: string }> {
  const r = await fetch(`${url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })
  return { status: r.status, cookie: (r.headers.get('set-cookie') ?? '').split(';')[0] }
}

/** A reading SSE client: collects the text until the server ends the stream. */
function stream(url: string, cookie: string): Promise<{ text: () => string; ended: Promise<void> }> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: '/api/stream', headers: { cookie } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`stream: HTTP ${res.statusCode}`))
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        text += c
      })
      const ended = new Promise<void>((r) => {
        res.on('close', () => r())
      })
      resolve({ text: () => text, ended })
    })
    req.on('error', reject)
    req.end()
  })
}

/** A stream client that never reads a byte. */
function nonReader(url: string, cookie: string): Promise<Socket> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const s = tcp({ host: u.hostname, port: Number(u.port) }, () => {
      s.write(`GET /api/stream HTTP/1.1\r\nHost: ${u.host}\r\nCookie: ${cookie}\r\n\r\n`)
      s.pause()
      resolve(s)
    })
    s.on('error', reject)
  })
}

/** A fresh temp dir, removed in teardown (t.testdir() would return, and recreate, the test's one dir). */
function tempDir(t: Tap.Test): string {
  const d = mkdtempSync(join(tmpdir(), 'coldproof-start-'))
  t.teardown(() => rmSync(d, { recursive: true, force: true }))
  return d
}

async function until(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not reached within ${ms} ms: ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

t.test(
  'production start: no demo users, first admin by `coldproof user add`, one-line refusals, Ctrl-C with open streams',
  async (t) => {
    const dataDir = tempDir(t)
    const sys = await start(dataDir)
    t.teardown(() => {
      sys.child.kill('SIGKILL')
    })
    t.notMatch(sys.out(), /Demo logins/, 'no demo logins')
    t.notMatch(sys.out(), /^\s+\S+\s+\S+ \/ \S+$/m, 'no "user / password" line')
    t.match(sys.out(), /No users yet\. Create the first admin/, 'says how to create the first admin')
    t.match(sys.out(), /coldproof user add <name> --role admin --data /)
    t.notOk(existsSync(join(dataDir, 'demo-logins.json')), 'no demo logins file')
    t.equal((await login(sys.url, 'admin', 'anything-at-all')).status, 401, 'no admin user exists')

    const added = await run(['user', 'add', 'alice', '--role', 'admin', '--data', dataDir])
    t.equal(added.code, 0, added.err)
    const password = /password \(shown once, store it now\): (\S+)/.exec(added.out)?.[1]
    t.ok(password && password.length >= 20, 'a generated password, printed once')
    const users = JSON.parse(readFileSync(join(dataDir, 'users.json'), 'utf8')) as {
      users: Array<{ username: string; role: string; password: string }>
    }
    t.same(
      users.users.map((u) => [u.username, u.role]),
      [['alice', 'admin']],
    )
    t.match(users.users[0].password, /^scrypt\$16384\$8\$1\$/, 'stored as scrypt, like every dashboard user')
    const alice = await login(sys.url, 'alice', password!)
    t.equal(alice.status, 200, 'the running server lets the first admin in without a restart')
    // One audit trail: the CLI's record of alice, then the running server's of the user she adds, numbered on.
    const dave = await fetch(`${sys.url}/api/users`, {
      method: 'POST',
      headers: { cookie: alice.cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'dave', password: 'dave-password-1', role: 'regulator' }),
    })
    t.equal(dave.status, 201)
    const trail = readFileSync(join(dataDir, 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; by: string; action: string; target: string; ip: string })
    t.match(trail, [
      { seq: 1, by: /^cli:/, action: 'user.created', target: 'alice', ip: 'local' },
      { seq: 2, by: 'alice', action: 'user.created', target: 'dave' },
    ])
    t.equal(trail.length, 2)

    const second = await run(['user', 'add', 'bob', '--role', 'operator', '--data', dataDir])
    t.equal(second.code, 1, 'a second user while the server runs: refused (it would be overwritten)')
    t.match(second.err, /^coldproof user add: ERR_DATA_IN_USE: .*Users page/)
    const badName = await run(['user', 'add', 'X', '--role', 'admin', '--data', tempDir(t)])
    t.equal(badName.code, 1)
    t.match(badName.err, /ERR_USER_NAME/)
    const shortPw = await run(
      ['user', 'add', 'carol', '--role', 'admin', '--password-stdin', '--data', tempDir(t)],
      'short\n',
    )
    t.match(shortPw.err, /ERR_USER_PASSWORD: .* 5 characters; it needs 10\.\.200/)

    const locked = await run(['start', '--port', '0', '--mqtt-port', '0', '--data', dataDir, '--no-demo'])
    t.equal(locked.code, 1, 'a second start on the same ledger exits 1')
    t.match(
      locked.err,
      /^coldproof start: ERR_LEDGER_LOCKED: the ledger in .* is in use by another process.*stop that one first/,
    )
    t.equal(locked.err.trim().split('\n').length, 1, 'one line, no stack trace')
    const httpPort = new URL(sys.url).port
    const busy = await run(['start', '--port', httpPort, '--mqtt-port', '0', '--data', tempDir(t), '--no-demo'])
    t.equal(busy.code, 1, 'a busy dashboard port exits 1')
    t.match(
      busy.err,
      new RegExp(
        `^coldproof start: ERR_PORT_IN_USE: port ${httpPort} on 127\\.0\\.0\\.1 \\(dashboard HTTP\\) is already in use.*--port`,
      ),
    )
    t.equal(busy.err.trim().split('\n').length, 1, 'one line')
    const mqttPort = new URL(sys.mqttUrl).port
    const busyMqtt = await run(['start', '--port', '0', '--mqtt-port', mqttPort, '--data', tempDir(t), '--no-demo'])
    t.match(busyMqtt.err, /ERR_PORT_IN_USE: .*\(embedded MQTT broker\).*--mqtt-port/)
    const notifyDir = tempDir(t)
    writeFileSync(
      join(notifyDir, 'rules.json'),
      JSON.stringify({ channels: {}, rules: [{ id: 'r', severities: ['urgent'], contacts: ['x'] }] }),
    )
    const badRules = await run([
      'start',
      '--port',
      '0',
      '--mqtt-port',
      '0',
      '--data',
      notifyDir,
      '--no-demo',
      '--notify-config',
      join(notifyDir, 'rules.json'),
    ])
    t.equal(badRules.code, 1, 'invalid notification rules: exits 1')
    t.match(
      badRules.err,
      /^coldproof start: ERR_NOTIFY_CONFIG: notification config .*rules\.json: \$\.rules\[0\]\.severities\[0\]: expected one of critical, major, minor, got "urgent"/,
    )
    t.equal(badRules.err.trim().split('\n').length, 1, 'one line')

    // Ctrl-C with a dashboard tab's stream and a client that never reads.
    const tab = await stream(sys.url, alice.cookie)
    const stuck = await nonReader(sys.url, alice.cookie)
    t.teardown(() => stuck.destroy())
    await until(() => tab.text().includes('event: hello'), 'the tab stream says hello')
    const sent = Date.now()
    sys.child.kill('SIGINT')
    const code = await exited(sys.child)
    const ms = Date.now() - sent
    t.equal(code, 0, 'SIGINT with open streams stops cleanly')
    t.comment(`stopped ${ms} ms after SIGINT with 2 open streams`)
    await tab.ended
    t.match(
      tab.text(),
      /event: bye\ndata: \{"reason":"server stopping"\}\n\n$/,
      'the tab was told the server is stopping',
    )
    t.match(sys.out(), /stopped cleanly in \d+\.\d s/)
  },
)

t.test('a second signal forces the exit at once', async (t) => {
  const sys = await start(tempDir(t))
  t.teardown(() => {
    sys.child.kill('SIGKILL')
  })
  // Two different signals are both delivered (two SIGINTs in a row may merge into one);
  // the second is handled while the graceful shutdown still awaits its I/O.
  sys.child.kill('SIGINT')
  sys.child.kill('SIGTERM')
  const code = await exited(sys.child)
  t.equal(code, 130, 'exit 130: interrupted')
  // The two signals may arrive in either order on a loaded machine.
  t.match(sys.out(), /(SIGINT|SIGTERM) again: exiting now/)
})
