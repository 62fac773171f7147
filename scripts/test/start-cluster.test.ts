/**
 * `coldproof start --cluster` as an operator runs it, against a real
 * nats-server (one node, replicas 1: the three-node case is
 * scripts/test/integration/nats-cluster.test.ts): it registers the devices of
 * a provisioning file, writes the NATS users, and a device logging in with its
 * derived password gets its readings receipted. SIGINT stops it cleanly; a
 * malformed cluster URL is refused in one line.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { createFleet } from '../../device-sim/index.ts'
import { deviceNatsPassword, natsAuthorizationConf } from '../../broker/nats-auth.ts'
import { NATS_SERVER, startNatsCluster } from '../../broker/test/nats-process.ts'
import { fromHex } from '../../ledger/protocol/index.ts'
import { smallScenario, START, waitFor } from './integration/support.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const bin = join(root, 'bin', 'coldproof.js')

function run(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [bin, 'start', ...args], {
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d) => {
    out += d
  })
  child.stderr!.on('data', (d) => {
    out += d
  })
  const exit = new Promise<number | null>((r) => child.on('exit', r))
  return { child, out: () => out, exit }
}

t.test('a malformed cluster URL is refused in one line', async (t) => {
  const r = run(['--cluster', 'http://example.com', '--data', t.testdir()])
  t.equal(await r.exit, 1)
  t.match(r.out(), /^coldproof start --cluster: ERR_CLUSTER_URL: "http:\/\/example\.com" is not a NATS URL/m)
})

t.test(
  'coldproof start --cluster: registers, writes NATS users, receipts a device',
  { skip: NATS_SERVER ? false : "nats-server not found (install Debian's nats-server; .ci/run does)" },
  async (t) => {
    const dir = t.testdir()
    const ingestUser = { user: 'coldproof-ingest', password: 'start-cluster test password' }
    const ids = ['cli-probe-1', 'cli-probe-2']
    const fleet = (mqtt?: Parameters<typeof createFleet>[0]['mqtt']) =>
      createFleet({
        scenario: smallScenario('cli', ids, 10),
        dataDir: join(dir, 'devices'),
        startMs: START,
        acceleration: 1,
        log: () => {},
        receiptTimeoutMs: 2000,
        ...(mqtt ? { mqtt } : {}),
      })
    writeFileSync(join(dir, 'provisioning.json'), JSON.stringify(fleet().provisioningRecords()))
    const cluster = await startNatsCluster(
      t,
      dir,
      natsAuthorizationConf({ secret: new Uint8Array(32), devices: [], ingest: ingestUser }),
      1,
    )
    await cluster.waitForJetStream({ user: ingestUser.user, pass: ingestUser.password })

    const data = join(dir, 'data')
    const r = run([
      '--cluster',
      cluster.natsUrls[0],
      '--partitions',
      '2',
      '--replicas',
      '1',
      '--cluster-user',
      ingestUser.user,
      '--cluster-password',
      ingestUser.password,
      '--register',
      join(dir, 'provisioning.json'),
      '--data',
      data,
    ])
    t.teardown(() => {
      r.child.kill('SIGKILL')
    })
    await waitFor(
      () => /Press Ctrl-C to stop/.test(r.out()) || r.child.exitCode !== null,
      'the cluster mode to report running',
      90_000,
    )
    t.match(r.out(), /ColdProof is running in cluster mode/)
    t.match(r.out(), /Registered now: 2\./, 'registered both devices')

    // The operator includes the generated users and reloads nats-server.
    const conf = readFileSync(join(data, 'cluster', 'nats-auth.conf'), 'utf8')
    t.ok(
      ids.every((id) => conf.includes(`"user": "${id}"`)),
      'the NATS users name every registered device',
    )
    cluster.reloadAuth(conf)
    const secret = fromHex(readFileSync(join(data, 'cluster', 'nats-device.secret'), 'utf8').trim())
    const f = fleet({
      url: cluster.mqttUrls[0],
      password: (id) => deviceNatsPassword(secret, id),
      reconnectMinMs: 200,
      reconnectMaxMs: 1000,
    })
    t.teardown(() => f.stop())
    await f.start()
    await waitFor(
      () => f.devices.every((d) => d.status().connected),
      'the devices to log in with their derived passwords (after the reload)',
    )
    f.runUntil(START + 10 * 60_000)
    await waitFor(
      () => f.status().every((s) => s.receiptedSeq === 3),
      'every reading to be receipted through the cluster mode',
    )
    t.pass('readings published over MQTT to nats-server were committed and receipted')
    await f.stop()

    r.child.kill('SIGINT')
    t.equal(await r.exit, 0, 'SIGINT stops with exit code 0')
    t.match(r.out(), /stopped cleanly/)

    // A restart (configured by environment this time) finds its streams, consumers, ledgers and root log and continues.
    const again = run(['--data', data], {
      COLDPROOF_CLUSTER: cluster.natsUrls[0],
      COLDPROOF_PARTITIONS: '2',
      COLDPROOF_REPLICAS: '1',
      COLDPROOF_CLUSTER_USER: ingestUser.user,
      COLDPROOF_CLUSTER_PASSWORD: ingestUser.password,
    })
    t.teardown(() => {
      again.child.kill('SIGKILL')
    })
    await waitFor(
      () => /Press Ctrl-C to stop/.test(again.out()) || again.child.exitCode !== null,
      'the restarted cluster mode to report running',
      90_000,
    )
    t.match(again.out(), /p0: \d+ devices, p1: \d+ devices/, 'restarted on the same streams and ledgers')
    t.match(again.out(), /Registered now: 0\./, 'the devices are still registered')
    again.child.kill('SIGINT')
    t.equal(await again.exit, 0, 'the restart stops cleanly too')

    // Another partition count on the same data directory is refused in one line.
    const other = run(['--cluster', cluster.natsUrls[0], '--partitions', '4', '--replicas', '1', '--data', data])
    t.equal(await other.exit, 1)
    t.match(other.out(), /ERR_LEDGER_BAD_INPUT: .* holds 2 ingest partitions, 4 were asked for/)
  },
)
