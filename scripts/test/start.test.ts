/**
 * The README's first command, as a new user runs it: `coldproof start` as a
 * child process on free ports and a fresh data directory. It must print the
 * dashboard URL and the demo logins, serve /health, let the printed login in,
 * stop cleanly on SIGINT, and continue the same ledger when started again.
 */
import t from 'tap'
import { rm } from 'node:fs/promises'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { startChild, stopChild, loginCookie, bin, root } from './start-child.ts'

const start = startChild
const stop = stopChild
const login = loginCookie

async function ledgerSize(url: string, cookie: string): Promise<number> {
  const r = await fetch(`${url}/api/ledger`, { headers: { cookie } })
  const body = (await r.json()) as { size: number }
  return body.size
}

t.test('coldproof start: runs, serves, stops cleanly, and a restart continues the ledger', async (t) => {
  const dataDir = t.testdir()
  const first = await start(dataDir)
  t.teardown(() => {
    first.child.kill('SIGKILL')
  })
  t.match(first.url, /^http:\/\/127\.0\.0\.1:\d+$/, 'prints the dashboard URL on loopback')
  t.same(Object.keys(first.logins).sort(), ['admin', 'operator', 'regulator'], 'prints the three demo logins')
  t.match(
    first.out(),
    /MQTT +mqtt:\/\/127\.0\.0\.1:\d+ \(embedded broker; device login audience "coldproof"\)/,
    'prints the broker URL and the device login audience',
  )

  const health = await fetch(`${first.url}/health`)
  t.equal(health.status, 200, '/health answers without a session')
  const anon = await fetch(`${first.url}/api/shipments`)
  t.equal(anon.status, 401, 'the API refuses a request without a session')

  const cookie = await login(first.url, first.logins.operator)
  const shipments = (await (await fetch(`${first.url}/api/shipments`, { headers: { cookie } })).json()) as {
    shipments: unknown[]
  }
  t.ok(
    shipments.shipments.length >= 10,
    `the demo fleet created ${shipments.shipments.length} shipments (at least ten)`,
  )

  // Let some readings arrive, then stop.
  const deadline = Date.now() + 30_000
  let size = await ledgerSize(first.url, cookie)
  while (size < 100 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250))
    size = await ledgerSize(first.url, cookie)
  }
  t.ok(size >= 100, `the ledger grows while the demo runs (size ${size})`)
  const code = await stop(first)
  t.equal(code, 0, 'SIGINT stops with exit code 0')
  t.match(first.out(), /stopped cleanly/, 'says it stopped cleanly')

  const second = await start(dataDir)
  t.teardown(() => {
    second.child.kill('SIGKILL')
  })
  t.same(second.logins, first.logins, 'the same demo logins after a restart')
  const cookie2 = await login(second.url, second.logins.regulator)
  const size2 = await ledgerSize(second.url, cookie2)
  t.ok(size2 >= size, `the restarted ledger continues (size ${size2} >= ${size})`)
  const anchored = await fetch(`${second.url}/checkpoint`)
  t.equal(anchored.status, 200, 'GET /checkpoint answers without a session')
  t.match(
    await anchored.text(),
    /^coldproof\.local\/ledger\n\d+\n[A-Za-z0-9+/]{43}=\n\n\u2014 coldproof\.local\/ledger /,
    'a C2SP signed checkpoint note',
  )
  t.equal(await stop(second), 0)

  // A lost CURRENT: the next start refuses, in one line, instead of serving an empty ledger.
  await rm(join(dataDir, 'ledger', 'db', 'CURRENT'))
  const child = spawn(
    process.execPath,
    [bin, 'start', '--port', '0', '--mqtt-port', '0', '--data', dataDir, '--no-demo'],
    { cwd: root, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = '',
    err = ''
  child.stdout!.on('data', (d) => {
    out += d
  })
  child.stderr!.on('data', (d) => {
    err += d
  })
  const exit = await new Promise<number | null>((r) => child.on('exit', r))
  t.equal(exit, 1, 'exits with 1')
  t.notMatch(out, /ColdProof is running/)
  t.match(err, /^coldproof start: ERR_LEDGER_DB_MISSING: .*CURRENT is missing.*restore .*docs\/OPERATIONS\.md/)
  t.equal(err.trim().split('\n').length, 1, 'one line, no stack trace')
})

t.test('coldproof start: bad flags get a clear error', async (t) => {
  const child = spawn(process.execPath, [bin, 'start', '--port', 'eighty'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let err = ''
  child.stderr!.on('data', (d) => {
    err += d
  })
  const code = await new Promise<number | null>((r) => child.on('exit', r))
  t.not(code, 0, 'exits non-zero')
  t.match(err, /--port \(from flag --port\): must be a port number 0\.\.65535, got "eighty"/)
})
