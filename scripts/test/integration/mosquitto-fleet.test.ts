/**
 * "Any standard broker works" (DESIGN.md decision 10, issue 4): the real
 * ledger and ingest and a real device-sim fleet, talking only through Debian's
 * Mosquitto. Every reading the devices produced reaches the ledger exactly
 * once in unbroken chains, the receipts come back through Mosquitto and prune
 * the device buffers, and the integrity checker accepts the ledger.
 *
 * With an external broker, device authentication is that broker's job
 * (docs/OPERATIONS.md); this config allows anonymous clients so that only the
 * delivery path is under test (broker/test/mosquitto.test.ts covers the
 * password and ACL files).
 *
 * Skipped, with the reason, only when the mosquitto binary cannot be found.
 */
import t from 'tap'
import { spawn, execFileSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'
import { createFleet } from '../../../device-sim/index.ts'
import { openLedger } from '../../../ledger/ledger.ts'
import { createIngest } from '../../../ledger/ingest.ts'
import { checkDeviceInLedger, describeFailure, freePort, fsck, producedCollector, registerFleet, sleep, smallScenario, START, tempDir, waitFor } from './support.ts'

function findMosquitto(): string | undefined {
  for (const c of ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/bin/mosquitto']) if (existsSync(c)) return c
  try {
    return execFileSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' }).trim() || undefined
  } catch {
    return undefined
  }
}

const MOSQUITTO = findMosquitto()

async function waitForPort(port: number, exited: () => string | undefined): Promise<void> {
  for (;;) {
    const why = exited()
    if (why !== undefined) throw new Error(`mosquitto exited before listening: ${why}`)
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1')
      s.once('connect', () => { s.destroy(); resolve(true) })
      s.once('error', () => resolve(false))
    })
    if (ok) return
    await sleep(50)
  }
}

t.test('ledger, ingest and a device fleet through Mosquitto', {
  skip: MOSQUITTO ? false : 'mosquitto not found (install Debian\'s mosquitto package; .ci/run does)',
}, async (t) => {
  const dir = await tempDir(t, 'mosquitto')
  const port = await freePort()
  const conf = join(dir, 'mosquitto.conf')
  writeFileSync(conf, [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'user root', // started as root, mosquitto otherwise drops to user "mosquitto"
    'persistence false',
    'max_queued_messages 100000', // the default 1000 is too small for the ingest's session
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    '',
  ].join('\n'))
  const proc = spawn(MOSQUITTO!, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  let exit: string | undefined
  proc.stderr.on('data', (d) => { stderr += d })
  const exited = new Promise<void>((r) => proc.once('exit', (code, sig) => { exit = `code ${code} signal ${sig}: ${stderr.trim()}`; r() }))
  t.teardown(async () => {
    if (exit === undefined) { proc.kill('SIGTERM'); await exited }
  })
  await waitForPort(port, () => exit)
  const url = `mqtt://127.0.0.1:${port}`

  const ledgerDir = join(dir, 'ledger')
  const ledger = await openLedger({ dir: ledgerDir })
  let ledgerOpen = true
  t.teardown(async () => { if (ledgerOpen) await ledger.close() })
  const ingest = createIngest({ ledger, url, clientId: 'coldproof-ingest-mosq' })
  let ingestOpen = true
  t.teardown(async () => { if (ingestOpen) await ingest.close() })
  await ingest.start()

  const ids = ['mosq-a', 'mosq-b', 'mosq-c']
  const perDevice = 120 / 5 + 1
  const produced = producedCollector()
  // 5 simulated minutes per 50 ms of wall-clock time: a stream, not one burst.
  const fleet = createFleet({
    scenario: smallScenario('mosq', ids, 120), dataDir: join(dir, 'devices'), startMs: START, acceleration: 6000,
    mqtt: { url }, log: () => {}, onReading: produced.onReading,
  })
  t.teardown(() => fleet.stop())
  await registerFleet(ledger, fleet)
  await fleet.start()
  t.ok(fleet.devices.every((d) => d.status().connected), 'every device connected to Mosquitto')
  await fleet.finished
  t.equal(produced.total(), ids.length * perDevice, `the fleet produced ${perDevice} readings per device`)

  // Receipts travel ledger -> ingest -> Mosquitto -> device and prune the buffers.
  await waitFor(() => fleet.status().every((s) => s.buffered === 0), 'every device buffer to be emptied by receipts')
  for (const s of fleet.status()) {
    t.equal(s.receiptedSeq, perDevice, `${s.deviceId}: receipted up to its last reading`)
    t.equal(s.dropped, 0, `${s.deviceId}: nothing dropped from the buffer`)
  }

  for (const id of ids) {
    const c = await checkDeviceInLedger(ledger, id, produced.of(id))
    t.equal(c.entries, perDevice, `${id}: ${perDevice} reading entries (none twice)`)
    t.ok(c.exact, `${id}: the exact bytes the device signed, seq 1..${perDevice}`)
    t.ok(c.linked, `${id}: unbroken chain`)
    t.match(ledger.device(id), { contiguous: perDevice, highest: perDevice, gaps: [] })
  }
  const st = ingest.stats()
  t.equal(st.quarantined, 0, 'nothing quarantined')
  t.ok(st.receipts > 0, 'the ingest published receipts')

  await fleet.stop()
  await ingest.close(); ingestOpen = false
  await ledger.close(); ledgerOpen = false
  const report = await fsck(ledgerDir)
  t.ok(report.ok, `checkLedger accepts the ledger${describeFailure(report)}`)
  t.equal(report.readings, ids.length * perDevice, 'the checker counts every reading')
  t.same(report.gaps, [], 'no gaps in any device chain')
  // The closing checkpoint covers every entry but its own 'checkpoint' entry (ledger/checkpointer.ts).
  t.equal(report.uncovered, 1, 'the closing checkpoint covers the whole log but its own entry')
})
