/**
 * The README's commands, run as written, as child processes, against a
 * running `coldproof start` (demo fleet) whose data directory is `./.data` of
 * the working directory, as the README assumes:
 * - `report <id> --bundle --out bundle.json` finds the running system from the
 *   data directory (no --url, no --token) and `verify` passes on what it wrote;
 * - `sim --broker … --register --url … --token …` registers its loggers and
 *   creates their shipment, and its readings show on the dashboard;
 * - `sim` without --register says in one line what to add;
 * - `backup` through the dashboard; `verify-ledger` refuses the running
 *   ledger with what to do instead;
 * - with the system stopped, `verify-ledger` passes and `report` reads the
 *   ledger directly.
 * Every wait is for a condition; ceilings only turn a hang into a failure.
 */
import t from 'tap'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startChild, stopChild, runCli, loginCookie } from './start-child.ts'

t.setTimeout(900_000)

async function until<T>(what: string, f: () => Promise<T | false>, ceilingMs = 300_000): Promise<T> {
  const end = Date.now() + ceilingMs
  for (;;) {
    const v = await f()
    if (v !== false) return v
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

t.test('README commands work as written against a running system', async (t) => {
  const cwd = t.testdir()
  const sys = await startChild('./.data', [], cwd)
  t.teardown(() => {
    sys.child.kill('SIGKILL')
  })
  t.ok(
    existsSync(join(cwd, '.data', 'local-access.json')),
    'the running system leaves its local access file in the data directory',
  )
  const admin = await loginCookie(sys.url, sys.logins.admin)
  const api = async (path: string, init: RequestInit = {}) => {
    const r = await fetch(`${sys.url}${path}`, {
      ...init,
      headers: {
        cookie: admin,
        origin: sys.url,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
    })
    return { status: r.status, json: (await r.json().catch(() => null)) as Record<string, unknown> | null }
  }

  // report: the README's line, with the data directory found by default.
  await until(
    'demo-delivered-insulin to be closed by the demo',
    async () => !!(await api('/api/shipments/demo-delivered-insulin')).json?.closedAt,
  )
  const report = await runCli(['report', 'demo-delivered-insulin', '--bundle', '--out', 'bundle.json'], { cwd })
  t.equal(report.code, 0, `report exits 0 (stderr: ${report.err.trim()})`)
  t.match(report.err, /wrote bundle\.json .* SHA-256 [0-9a-f]{64}/)
  const verify = await runCli(['verify', 'bundle.json', '--key', './.data/ledger/ledger.vkey'], { cwd })
  t.equal(
    verify.code,
    0,
    `verify exits 0 on the bundle the README's report wrote (${verify.out.split('\n').slice(0, 3).join(' | ')})`,
  )

  // An admin API token, as the README's --token needs.
  const tok = await api('/api/tokens', { method: 'POST', body: JSON.stringify({ label: 'readme test' }) })
  t.equal(tok.status, 201)
  const token = String(tok.json!.token)
  const mqtt = /mqtt:\/\/[^\s]+/.exec(sys.out())?.[0]
  t.ok(mqtt, 'start prints its MQTT URL')

  // sim without --register: refused by the broker, and told what to add.
  mkdirSync(join(cwd, 'unregistered'))
  const lost = await runCli(
    [
      'sim',
      '--broker',
      mqtt!,
      '--scenario',
      'tarmac-delay',
      '--data',
      './unregistered',
      '--accel',
      'max',
      '--drain-timeout',
      '0',
      '--quiet',
    ],
    { cwd },
  )
  t.match(
    lost.err,
    /hint: the broker does not know these loggers\. .*add --register --url <dashboard> --token <admin API token>/,
    'one line says what to add',
  )
  t.equal(lost.err.match(/^hint:/gm)?.length, 1, 'said once')

  // sim --register: its loggers registered, their shipment created, their readings on the dashboard.
  const sim = await runCli(
    [
      'sim',
      '--broker',
      mqtt!,
      '--scenario',
      'tarmac-delay',
      '--data',
      './sim-data',
      '--accel',
      'max',
      '--seed',
      '7',
      '--register',
      '--url',
      sys.url,
      '--token',
      token,
      '--quiet',
    ],
    { cwd },
  )
  t.equal(sim.code, 0, `sim exits 0 (stderr tail: ${sim.err.trim().split('\n').slice(-3).join(' | ')})`)
  t.match(sim.err, /sim: registered tarmac-a/)
  t.match(sim.err, /sim: created shipment shp-tarmac with tarmac-a/)
  const readings = await until('the simulated readings on the dashboard', async () => {
    const r = await api('/api/shipments/shp-tarmac/readings')
    const n = Array.isArray(r.json?.readings) ? (r.json!.readings as unknown[]).length : 0
    return n > 0 ? n : false
  })
  t.ok(readings > 0, `shp-tarmac shows ${readings} readings`)
  const again = await runCli(
    [
      'sim',
      '--broker',
      mqtt!,
      '--scenario',
      'tarmac-delay',
      '--data',
      './sim-data',
      '--accel',
      'max',
      '--drain-timeout',
      '0',
      '--register',
      '--url',
      sys.url,
      '--token',
      token,
      '--quiet',
    ],
    { cwd },
  )
  t.match(again.err, /tarmac-a already registered with this key/, 'a second run continues: nothing registered twice')

  // backup through the dashboard; the offline check on the running ledger.
  const backup = await runCli(['backup', './.data', 'backup.ndjson', '--url', sys.url, '--token', token], { cwd })
  t.equal(backup.code, 0, `backup exits 0 (${backup.err.trim()})`)
  t.ok(readFileSync(join(cwd, 'backup.ndjson'), 'utf8').length > 1000, 'the backup holds the log')
  const busy = await runCli(['verify-ledger', './.data/ledger'], { cwd })
  t.equal(busy.code, 2, 'verify-ledger refuses a ledger in use')
  t.match(
    busy.err,
    /^verify-ledger: .* is in use by a running ledger .*stop it, or check a backup of it/,
    'and says what to do instead',
  )

  t.equal(await stopChild(sys), 0, 'Ctrl-C stops it')
  t.notOk(existsSync(join(cwd, '.data', 'local-access.json')), 'the local access file goes with it')
  const check = await runCli(['verify-ledger', './.data/ledger'], { cwd })
  t.equal(check.code, 0, `verify-ledger exits 0 on the stopped ledger (${check.err.trim().split('\n').slice(-1)[0]})`)
  const offline = await runCli(['report', 'demo-delivered-insulin', '--bundle', '--out', 'offline.json'], { cwd })
  t.equal(offline.code, 0, 'with the system stopped, report reads the ledger itself')
  t.equal(
    readFileSync(join(cwd, 'offline.json'), 'utf8'),
    readFileSync(join(cwd, 'bundle.json'), 'utf8'),
    'the same frozen bundle, byte for byte',
  )
})

t.test('report on a locked ledger without the access file says in one line what to add', async (t) => {
  const cwd = t.testdir()
  const sys = await startChild('./.data', ['--no-demo'], cwd)
  t.teardown(() => {
    sys.child.kill('SIGKILL')
  })
  const { rmSync } = await import('node:fs')
  rmSync(join(cwd, '.data', 'local-access.json'))
  const r = await runCli(['report', 'any-shipment', '--bundle'], { cwd })
  t.equal(r.code, 2)
  t.match(
    r.err,
    /^report: the ledger in .* is held by a running `coldproof start` and .*local-access\.json does not exist.*; add --url <its dashboard> --token <API token> instead of --data\n$/,
  )
  t.equal(r.err.trim().split('\n').length, 1, 'one line')
  t.equal(await stopChild(sys), 0)
})
