/**
 * Disk full (issue 13, item 7) on a real full file system: the ledger
 * directory and the devices' persisted buffers share a small tmpfs, which the
 * test fills to the last page and frees again. Real embedded broker, ingest,
 * LevelDB, checkpoints.log and simulated devices (device-sim, persisted
 * buffers and chain state).
 *
 * While the disk is full: the ledger refuses writes (ledger.health() and
 * /health say ERR_LEDGER_DISK_FULL, 503; /metrics shows
 * coldproof_ledger_healthy 0 and the failed writes), the log does not grow,
 * no device receipt goes past what was durable, and the devices keep sampling
 * although their own state files cannot be written. After freeing the space
 * the ledger resumes by itself, and every reading the devices produced is
 * stored exactly once, byte for byte, in an unbroken chain; the devices'
 * files on disk catch up too. Nothing ends the process.
 *
 * Needs `mount -t tmpfs` (root or CAP_SYS_ADMIN); skipped with a message
 * where mounting is not permitted.
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { closeSync, openSync, rmSync, writeSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createFleet } from '../../../device-sim/index.ts'
import { fileBufferPersistence } from '../../../device-sim/store-and-forward.ts'
import { fileChainState } from '../../../device-sim/chain-state.ts'
import { openLedger } from '../../../ledger/store/index.ts'
import { createIngest } from '../../../ledger/ingest/index.ts'
import { buildDashboard } from '../../../dashboard/server/app.ts'
import { openUserStore } from '../../../dashboard/server/users.ts'
import {
  checkDeviceInLedger,
  describeFailure,
  embeddedBroker,
  fsck,
  INGEST_PASSWORD,
  INGEST_USER,
  producedCollector,
  smallScenario,
  START,
  tempDir,
  waitFor,
} from './support.ts'

const FIVE_MIN = 5 * 60_000

/** Mounts a tmpfs of `size` at a new temp dir; says why not when mounting is not permitted here. */
async function mountTmpfs(size: string): Promise<{ dir: string; unmount: () => Promise<void> } | { skip: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'coldproof-diskfull-'))
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { encoding: 'utf8' })
  if (r.status !== 0) {
    await rm(dir, { recursive: true, force: true })
    return {
      skip: `mount -t tmpfs is not permitted here (${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}); the disk-full test needs root or CAP_SYS_ADMIN`,
    }
  }
  return {
    dir,
    unmount: async () => {
      if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir])
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** Writes `path` until the file system has no page left (64 KiB, then 4 KiB, then 1 byte at a time). */
function fillDisk(path: string): number {
  const fd = openSync(path, 'w')
  let total = 0
  try {
    for (const chunk of [65536, 4096, 1]) {
      const buf = Buffer.alloc(chunk, 0x5a)
      for (;;) {
        try {
          total += writeSync(fd, buf)
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break
          throw e
        }
      }
    }
  } finally {
    closeSync(fd)
  }
  return total
}

const mounted = await mountTmpfs('16m')

t.test(
  'a full disk: no acknowledgement, /health 503 with the reason; space back: ingestion resumes, every reading stored exactly once',
  { skip: 'skip' in mounted ? mounted.skip : false },
  async (t) => {
    if ('skip' in mounted) return
    const mount = mounted
    const plain = await tempDir(t, 'diskfull-users')
    const ledgerDir = join(mount.dir, 'ledger')
    const filler = join(mount.dir, 'filler')
    const ledger = await openLedger({ dir: ledgerDir, anchorDelayMs: 20 })
    const broker = await embeddedBroker(ledger)
    const { url } = await broker.listen()
    const ingest = createIngest({
      ledger,
      url,
      username: INGEST_USER,
      password: INGEST_PASSWORD,
      resendIntervalMs: 200,
      mqttOptions: { reconnectPeriod: 200 },
    })
    const ingestErrors: string[] = []
    ingest.on('error', (e) => {
      ingestErrors.push((e as { code?: string }).code ?? String(e))
    })
    await ingest.start()
    const app = await buildDashboard({
      ledger,
      users: await openUserStore({ file: join(plain, 'users.json'), seed: [] }),
      cookieSecret: 'disk-full-cookie-secret-0123456789abcdef',
      logger: false,
      integrityCheckOnStart: false,
      metricsToken: 'scrape-secret',
    })
    const ids = ['full-a', 'full-b', 'full-c']
    const produced = producedCollector()
    const simLog: string[] = []
    // Real time: the simulated 5-minute interval never elapses during the test; the test takes each sample with runUntil.
    const fleet = createFleet({
      scenario: smallScenario('diskfull', ids, 24 * 60),
      dataDir: join(mount.dir, 'devices'),
      startMs: START,
      acceleration: 1,
      receiptTimeoutMs: 300,
      mqtt: { url, mqttOptions: { reconnectPeriod: 200 } },
      log: (_level, message) => {
        simLog.push(message)
      },
      onReading: produced.onReading,
    })
    let closed = false
    const closeAll = async () => {
      if (closed) return
      closed = true
      await fleet.stop()
      await ingest.close()
      await broker.close()
      await app.close()
      await ledger.close()
    }
    t.teardown(closeAll)
    for (const rec of fleet.provisioningRecords()) await ledger.registerDevice({ ...rec, by: 'disk-full-test' })
    await fleet.start()
    let k = 0
    const sample = () => {
      fleet.runUntil(START + k * FIVE_MIN)
      k++
    }
    const receipted = () => Math.min(...fleet.status().map((s) => s.receiptedSeq))

    for (let i = 0; i < 10; i++) sample()
    await waitFor(() => receipted() === 10, 'the first 10 readings of each device receipted')
    t.same(
      (await app.inject('/health')).json(),
      { status: 'ok', ledgerSize: ledger.size(), ledger: { ok: true }, live: app.dashboard.monitor.progress() },
      'healthy before',
    )

    const filled = fillDisk(filler)
    t.comment(`filled the tmpfs with ${filled} bytes`)
    // A write that still fits in a file's last page succeeds; sampling on, one that needs a new page fails.
    await waitFor(() => {
      if (ledger.health().ok && k < 400) sample()
      return !ledger.health().ok
    }, 'the ledger to hit the full disk')
    const health = ledger.health()
    t.equal(health.code, 'ERR_LEDGER_DISK_FULL', `the ledger says why: ${health.reason}`)
    const sizeAtFailure = ledger.size()
    const durable = new Map(ids.map((id) => [id, ledger.device(id)!.contiguous]))
    const producedAtFailure = produced.total()

    // Ten more samples per device while full: stored nowhere, acknowledged never.
    for (let i = 0; i < 10; i++) sample()
    await waitFor(() => simLog.some((m) => /write failed/.test(m)), 'the devices to meet the full disk too')
    await waitFor(
      () => ingestErrors.filter((c) => c === 'ERR_LEDGER_DISK_FULL').length >= 10,
      'the ingest to be refused (no PUBACK) for the new readings',
    )
    const res = await app.inject('/health')
    t.equal(res.statusCode, 503, '/health answers 503 while the disk is full')
    t.match(res.json(), {
      status: 'unhealthy',
      ledger: { ok: false, code: 'ERR_LEDGER_DISK_FULL', reason: /disk is full/ },
    })
    const metrics = (await app.inject({ url: '/metrics', headers: { authorization: 'Bearer scrape-secret' } })).body
    t.match(metrics, /^coldproof_ledger_healthy 0$/m, 'metrics: coldproof_ledger_healthy 0')
    const failures = Number(
      /^coldproof_ledger_write_failures_total\{target="database"\} (\d+)$/m.exec(metrics)?.[1] ?? 0,
    )
    t.ok(failures >= 1, `metrics: ${failures} failed database writes counted`)
    t.equal(ledger.size(), sizeAtFailure, 'the log did not grow while the disk was full')
    for (const s of fleet.status())
      t.ok(
        s.receiptedSeq <= durable.get(s.deviceId)!,
        `${s.deviceId}: receipt ${s.receiptedSeq} covers only what was durable (${durable.get(s.deviceId)}); seq ${s.seq} produced`,
      )
    t.ok(produced.total() >= producedAtFailure + 30, 'the devices kept sampling')

    rmSync(filler)
    await waitFor(() => ledger.health().ok, 'the ledger to resume by itself once space is back')
    for (let i = 0; i < 5; i++) sample()
    const n = produced.of(ids[0]).length
    await waitFor(
      () => fleet.status().every((s) => s.receiptedSeq === n && s.buffered === 0),
      `every device's ${n} readings receipted`,
      60_000,
    )
    t.equal((await app.inject('/health')).statusCode, 200, '/health is 200 again')
    t.match(
      (await app.inject({ url: '/metrics', headers: { authorization: 'Bearer scrape-secret' } })).body,
      /^coldproof_ledger_healthy 1$/m,
    )
    for (const id of ids) {
      const c = await checkDeviceInLedger(ledger, id, produced.of(id))
      t.same(
        c,
        { entries: n, distinct: n, exact: true, linked: true },
        `${id}: all ${n} produced readings stored exactly once, byte for byte, chained`,
      )
    }
    await waitFor(() => simLog.some((m) => /written again/.test(m)), 'the devices to write their files again')
    // The devices' files caught up: a restart would resume at the right seq with an empty buffer.
    for (const id of ids) {
      const dir = join(mount.dir, 'devices', id)
      t.equal(fileChainState(dir).load().seq, n, `${id}: state.json on disk says seq ${n}`)
      const loaded = fileBufferPersistence(dir).load()
      t.same(
        { receipted: loaded.meta.receiptedSeq, unreceipted: loaded.entries.length },
        { receipted: n, unreceipted: 0 },
        `${id}: buffer files on disk: all receipted`,
      )
    }

    // Full again, and everything is shut down meanwhile: the close abandons the pending batch instead of
    // waiting for space forever, and what is on disk is a ledger that opens and verifies once space is back.
    fillDisk(filler)
    await waitFor(() => {
      if (ledger.health().ok && k < 800) sample()
      return !ledger.health().ok
    }, 'the ledger to hit the full disk again')
    const durableAgain = new Map(ids.map((id) => [id, ledger.device(id)!.contiguous]))
    await closeAll()
    t.pass('the system closed while the disk was full')
    rmSync(filler)
    const report = await fsck(ledgerDir)
    t.ok(report.ok, `the integrity checker accepts the ledger${describeFailure(report)}`)
    const reopened = await openLedger({ dir: ledgerDir })
    try {
      for (const id of ids)
        t.equal(
          reopened.device(id)!.contiguous,
          durableAgain.get(id),
          `${id}: the reopened ledger holds exactly what was durable (${durableAgain.get(id)})`,
        )
    } finally {
      await reopened.close()
    }
  },
)

t.teardown(async () => {
  if (!('skip' in mounted)) await mounted.unmount()
})
