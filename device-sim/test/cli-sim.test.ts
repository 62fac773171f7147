/** `coldproof sim` end to end: a real child process publishing to a real broker. */
import t from 'tap'
import { spawn } from 'node:child_process'
import { createServer, type AddressInfo } from 'node:net'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Aedes } from 'aedes'
import mqtt from 'mqtt'
import { decodeReading, readingsFilters } from '../../ledger/protocol/index.ts'
import { nodeKey, verifyWithNode } from './helpers.ts'

const BIN = fileURLToPath(new URL('../../bin/coldproof.js', import.meta.url))

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, 'sim', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = '',
      stderr = ''
    c.stdout.on('data', (b) => {
      stdout += b
    })
    c.stderr.on('data', (b) => {
      stderr += b
    })
    c.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

t.test('bad arguments get clear errors and a non-zero exit', async (t) => {
  const dir = t.testdir({
    'bad.json': JSON.stringify({
      name: 'b',
      shipments: [
        {
          shipmentId: 's',
          product: 'p',
          storageClass: '2-8',
          devices: [{ deviceId: 'd' }],
          legs: [{ durationMin: -5, model: 'passive', ambient: { meanC: 1 } }],
        },
      ],
    }),
  })
  const r1 = await run(['--scenario', join(dir, 'bad.json'), '--data', dir, '--broker', 'mqtt://127.0.0.1:1'])
  t.not(r1.code, 0)
  t.match(r1.stderr, /ERR_SCENARIO_INVALID: shipments\[0\]\.legs\[0\]\.durationMin must be a positive number, got -5/)
  const r2 = await run(['--scenario', 'reefer-2-8', '--data', dir, '--broker', 'http://x'])
  t.not(r2.code, 0)
  t.match(r2.stderr, /not an MQTT transport/)
  const r3 = await run(['--scenario', 'reefer-2-8', '--data', dir, '--broker', 'mqtt://127.0.0.1:1', '--seed', '-3'])
  t.match(r3.stderr, /seed must be an integer/)
  const r4 = await run(['--scenario', 'reefer-2-8', '--data', dir])
  t.not(r4.code, 0)
  t.match(r4.stderr, /--broker <url> is required/)
})

t.test('runs a scenario against a broker; the readings verify under the printed keys', async (t) => {
  const broker = await Aedes.createBroker()
  const server = createServer(broker.handle)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`
  t.teardown(async () => {
    await new Promise<void>((r) => broker.close(() => r()))
    await new Promise<void>((r) => server.close(() => r()))
  })
  const dir = t.testdir()
  const scenario = join(dir, 'short.json')
  writeFileSync(
    scenario,
    JSON.stringify({
      name: 'short',
      seed: 5,
      startAt: '2026-11-20T06:00:00Z',
      shipments: [
        {
          shipmentId: 's',
          product: 'p',
          storageClass: '2-8',
          devices: [{ deviceId: 'cli-1' }, { deviceId: 'cli-2' }],
          legs: [{ durationMin: 60, model: 'reefer', setpointC: 5, ambient: { meanC: 20 } }],
        },
      ],
    }),
  )
  const data = join(dir, 'data')
  const prov = await run(['--scenario', scenario, '--data', data, '--print-provisioning'])
  t.equal(prov.code, 0)
  const records = JSON.parse(prov.stdout) as Array<{ deviceId: string; publicKey: string }>
  t.same(
    records.map((r) => r.deviceId),
    ['cli-1', 'cli-2'],
  )

  const ledger = await mqtt.connectAsync(url, { clientId: 'ledger', clean: true })
  t.teardown(() => ledger.endAsync())
  const got: Uint8Array[] = []
  ledger.on('message', (_topic, p) => got.push(new Uint8Array(p)))
  await ledger.subscribeAsync(readingsFilters(), { qos: 1 })
  const r = await run([
    '--scenario',
    scenario,
    '--data',
    data,
    '--broker',
    url,
    '--accel',
    'max',
    '--drain-timeout',
    '0.5',
  ])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /2 devices, 26 readings/)
  await new Promise((res) => setTimeout(res, 200))
  const keys = new Map(records.map((x) => [x.deviceId, nodeKey(x.publicKey)]))
  const uniq = new Map(
    got.map((p) => {
      const f = decodeReading(p).fields
      return [`${f.deviceId}#${f.seq}`, p]
    }),
  )
  t.equal(uniq.size, 26, '2 devices × 13 readings arrived')
  t.ok(
    [...uniq.values()].every((p) => verifyWithNode(p, keys.get(decodeReading(p).fields.deviceId)!)),
    'all verify with Node crypto under the printed keys',
  )
})
