/**
 * Issue 3, "Done when": `coldproof sim` (the real CLI, a child process) runs a
 * built-in scenario against a broker URL — here the real embedded broker, with
 * the devices registered in a real ledger and the real ingest receipting — and
 * the readings it publishes, collected by a separate subscriber, decode and
 * verify with the independent Python implementation written from
 * docs/PROTOCOL.md alone (ledger/protocol/independent/verify_reading.py).
 * A corrupted copy of one reading must fail there, so the check can fail.
 *
 * Skipped, with the reason, only when python3 cannot be started.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import mqtt from 'mqtt'
import { openLedger } from '../../../ledger/store/index.ts'
import { createIngest } from '../../../ledger/ingest/index.ts'
import { decodeReading, equalBytes, readingsFilters, toHex } from '../../../ledger/protocol/index.ts'
import { pythonAvailable, verifyWithPython } from '../../../ledger/protocol/independent/run-python.ts'
import {
  checkDeviceInLedger,
  embeddedBroker,
  INGEST_PASSWORD,
  INGEST_USER,
  OBSERVER_PASSWORD,
  OBSERVER_USER,
  tempDir,
  waitFor,
} from './support.ts'

const BIN = fileURLToPath(new URL('../../../bin/coldproof.js', import.meta.url))
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const SCENARIO = 'tarmac-delay' // built-in: one logger, 20 h at 5 min, a warm excursion on the tarmac

function coldproof(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = '',
      stderr = ''
    c.stdout.on('data', (b) => {
      stdout += b
    })
    c.stderr.on('data', (b) => {
      stderr += b
    })
    c.on('error', reject)
    c.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

const hasPython = await pythonAvailable()

t.test(
  '`coldproof sim` readings, collected off the broker, verify with the independent Python implementation',
  {
    skip: hasPython ? false : 'python3 not found: the independent Python verifier cannot run',
  },
  async (t) => {
    const dir = await tempDir(t, 'python')
    const data = join(dir, 'sim')

    // Provisioning as an operator does it: the CLI prints the records, the ledger registers them.
    const prov = await coldproof(['sim', '--scenario', SCENARIO, '--data', data, '--print-provisioning'])
    t.equal(prov.code, 0, `--print-provisioning exits 0${prov.code ? `: ${prov.stderr}` : ''}`)
    const records = JSON.parse(prov.stdout) as Array<{
      deviceId: string
      publicKey: string
      model: string
      calibration: { certificate: string; calibratedAt: number; dueAt: number }
    }>
    t.ok(records.length >= 1, `${records.length} device(s) to provision`)

    const ledger = await openLedger({ dir: join(dir, 'ledger') })
    t.teardown(() => ledger.close())
    for (const r of records) await ledger.registerDevice({ ...r, by: 'integration-test' })
    const broker = await embeddedBroker(ledger)
    const { url } = await broker.listen()
    t.teardown(() => broker.close())
    const ingest = createIngest({ ledger, url, username: INGEST_USER, password: INGEST_PASSWORD })
    t.teardown(() => ingest.close())
    await ingest.start()

    // A separate subscriber sees the readings as published (an observer account).
    const collector = await mqtt.connectAsync(url, {
      clientId: 'python-check-collector',
      username: OBSERVER_USER,
      password: OBSERVER_PASSWORD,
      clean: true,
      protocolVersion: 4,
    })
    t.teardown(() => collector.endAsync(true))
    const got: { topic: string; payload: Uint8Array }[] = []
    collector.on('message', (topic, payload) => {
      got.push({ topic, payload: new Uint8Array(payload) })
    })
    const grants = await collector.subscribeAsync(readingsFilters(), { qos: 1 })
    t.ok(
      grants.every((g) => g.qos === 1),
      'the collector subscribed to every readings topic',
    )

    const run = await coldproof([
      'sim',
      '--broker',
      url,
      '--scenario',
      SCENARIO,
      '--data',
      data,
      '--accel',
      'max',
      '--drain-timeout',
      '20',
    ])
    t.equal(run.code, 0, `coldproof sim exits 0${run.code ? `: ${run.stderr}` : ''}`)
    t.match(
      run.stderr,
      /sim: stopped: \d+ devices, \d+ readings, 0 unreceipted, 0 dropped/,
      'the sim reports every reading receipted by the ledger',
    )
    const total = Number(/stopped: \d+ devices, (\d+) readings/.exec(run.stderr)?.[1])
    t.ok(total > 100, `the sim published ${total} readings`)
    await waitFor(
      () => new Set(got.map((g) => `${g.topic}#${decodeReading(g.payload).fields.seq}`)).size >= total,
      `the collector to hold all ${total} readings`,
    )

    // Per device, seq order; a re-sent reading must be the same bytes as the first copy.
    const byDevice = new Map<string, Map<number, Uint8Array>>()
    let resentDiffer = 0
    for (const g of got) {
      const f = decodeReading(g.payload).fields
      const m = byDevice.get(f.deviceId) ?? new Map<number, Uint8Array>()
      const prev = m.get(f.seq)
      if (prev && !equalBytes(prev, g.payload)) resentDiffer++
      m.set(f.seq, g.payload)
      byDevice.set(f.deviceId, m)
    }
    t.equal(resentDiffer, 0, 'every copy of a reading is the same signed bytes')
    t.same([...byDevice.keys()].sort(), records.map((r) => r.deviceId).sort(), 'readings from every provisioned device')
    const ordered: Uint8Array[] = []
    for (const [id, m] of byDevice) {
      const seqs = [...m.keys()].sort((a, b) => a - b)
      t.same(
        seqs,
        Array.from({ length: seqs.length }, (_, i) => i + 1),
        `${id}: seq 1..${seqs.length} collected`,
      )
      ordered.push(...seqs.map((s) => m.get(s)!))
    }
    t.equal(ordered.length, total)

    const keys = Object.fromEntries(records.map((r) => [r.deviceId, r.publicKey]))
    const py = await verifyWithPython(keys, ordered)
    t.equal(py.results.length, ordered.length, 'Python judged every reading')
    t.same(
      Object.values(py.keys).filter((k) => !k.ok),
      [],
      'Python accepts every registered public key',
    )
    const bad = py.results.filter((r) => !r.ok || r.signatureValid !== true || r.chain?.status !== 'ok')
    t.same(
      bad.map((r) => ({ index: r.index, error: r.error, chain: r.chain?.status })),
      [],
      'every reading decodes, its signature verifies and its chain links in Python',
    )
    // Python's decoding agrees with the TypeScript codec field by field.
    const disagree = py.results.filter((r, i) => {
      const f = decodeReading(ordered[i]).fields
      return (
        r.fields?.deviceId !== f.deviceId ||
        r.fields?.seq !== f.seq ||
        r.fields?.deviceTimeMs !== f.deviceTimeMs ||
        r.fields?.tempCentiC !== f.tempCentiC ||
        r.fields?.prevHash !== toHex(f.prevHash)
      )
    })
    t.equal(disagree.length, 0, 'Python decodes the same device, seq, time, temperature and prevHash')

    // Negative control: one flipped bit in the temperature of a mid-stream reading.
    const k = Math.floor(ordered.length / 2)
    const tampered = ordered.map((p, i) => (i === k ? Uint8Array.from(p) : p))
    const f = decodeReading(ordered[k]).fields
    const pos = Buffer.from(tampered[k]).indexOf(Buffer.from(f.deviceId)) + f.deviceId.length // just past the id: a field the signature covers
    tampered[k][pos] ^= 0x01
    const pyBad = await verifyWithPython(keys, tampered)
    t.notOk(
      pyBad.results[k].ok,
      `Python rejects the altered reading (${pyBad.results[k].error ?? 'chain ' + pyBad.results[k].chain?.status})`,
    )

    // And the same readings are what the ledger stored.
    for (const [id, m] of byDevice) {
      const c = await checkDeviceInLedger(
        ledger,
        id,
        [...m.keys()].sort((a, b) => a - b).map((s) => m.get(s)!),
      )
      t.ok(
        c.exact && c.linked && c.entries === m.size,
        `${id}: the ledger holds exactly the collected readings, once each`,
      )
    }
  },
)
