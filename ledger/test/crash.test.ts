/**
 * Crash test (issue 5, "Integrity and recovery"; issue 13; ARCHITECTURE.md decision 5): the
 * ingest runs as its own process and is killed with SIGKILL six times (more with COLDPROOF_CRASH_KILLS)
 * while devices publish. The devices keep every unreceipted reading and resend
 * on reconnect, on resend requests and on a retry timer, as the firmware does.
 * In the end every reading each device signed is in the ledger exactly once,
 * every device chain is unbroken, every reading receipted before a kill
 * survived it, and the offline integrity checker accepts the directory.
 */
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { openLedger } from '../store/ledger.ts'
import { LogStore } from '../store/store.ts'
import { readVerifierKey } from '../store/ledger-key.ts'
import { openLedgerDirReader } from '../store/fsck-reader.ts'
import { checkLedger } from '../store/fsck.ts'
import { decodeReading, equalBytes, fromBase64, GENESIS_PREV_HASH, readingHash } from '../protocol/index.ts'
import { DeviceLoop, simDevice, startBroker, tempDir, waitFor } from './support.ts'

const here = dirname(fileURLToPath(import.meta.url))
const CHILD = join(here, 'fixtures', 'ingest-child.ts')
const ROOT = join(here, '..', '..')

/** Everything the ingest children wrote to stderr (shown when the test fails). */
let childErrors = ''

function spawnIngest(dir: string, url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, url], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let err = ''
  child.stderr!.on('data', (b) => {
    err += b
    childErrors += b
  })
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (b) => {
      out += b
      if (out.includes('ready')) resolve(child)
    })
    child.once('exit', (code) => reject(new Error(`ingest child exited with ${code} before ready: ${err}`)))
  })
}

function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once('exit', () => resolve())
    child.kill(signal)
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

t.test('SIGKILL the ingest repeatedly mid-stream: nothing receipted is lost, nothing is stored twice', async (t) => {
  const broker = await startBroker()
  const { dir, remove } = await tempDir('coldproof-crash-')
  const devices = ['truck-1-probe', 'truck-2-probe', 'truck-3-probe'].map((id, i) => simDevice(id, 40 + i))
  {
    const ledger = await openLedger({ dir, checkpointIntervalMs: 0 })
    for (const d of devices) await ledger.registerDevice({ deviceId: d.id, publicKey: d.publicKey, by: 'qa' })
    await ledger.close()
  }
  const loops = devices.map((d) => new DeviceLoop(d))
  for (const l of loops) await l.connect(broker.url)
  let child: ChildProcess | undefined
  let sampler: NodeJS.Timeout | undefined, retry: NodeJS.Timeout | undefined
  t.teardown(async () => {
    clearInterval(sampler)
    clearInterval(retry)
    if (childErrors) t.comment(`ingest stderr:\n${childErrors.slice(0, 4000)}`)
    if (child) await kill(child, 'SIGKILL')
    for (const l of loops) await l.close().catch(() => {})
    await broker.close()
    await remove()
  })

  // Each device samples every 20 ms (a compressed transit, device time = wall clock) and, when its
  // receipt stalls for a second, publishes its oldest unreceipted readings again.
  let i = 0
  sampler = setInterval(() => {
    i++
    for (const l of loops) l.send(400 + (i % 300), Date.now())
  }, 20)
  retry = setInterval(() => {
    for (const l of loops) l.resendIfStalled()
  }, 1000)

  const started = Date.now()
  const receiptedBeforeKill: Map<string, number>[] = []
  // 6 here; a longer chaos run: COLDPROOF_CRASH_KILLS=200 npx tap ledger/test/crash.test.ts
  const KILLS = Number(process.env.COLDPROOF_CRASH_KILLS ?? 6)
  child = await spawnIngest(dir, broker.url)
  for (let k = 0; k < KILLS; k++) {
    const before = loops.map((l) => l.receipt.seq)
    await waitFor(() => loops.every((l, n) => l.receipt.seq > before[n] + 2), `progress before kill ${k + 1}`, 30_000)
    await sleep(50 + 37 * k)
    await kill(child, 'SIGKILL')
    // Receipts already on their way through the broker were sent after their commit, so count them too.
    await sleep(50)
    const receipted = new Map(loops.map((l) => [l.d.id, l.receipt.seq]))
    receiptedBeforeKill.push(receipted)
    t.comment(
      `kill ${k + 1} at ${Date.now() - started} ms: receipts ${[...receipted.values()].join(', ')} of ${loops.map((l) => l.d.seq).join(', ')} signed`,
    )
    // The crashed directory as the next process finds it: the recovery check passes and every receipted reading is there.
    const store = await LogStore.open(join(dir, 'db'))
    try {
      for (const l of loops) {
        const d = store.device(l.d.id)!
        if (d.contiguous < receipted.get(l.d.id)!)
          t.fail(`kill ${k + 1}: ${l.d.id} receipted ${receipted.get(l.d.id)} but only ${d.contiguous} survived`)
      }
    } finally {
      await store.close()
    }
    child = await spawnIngest(dir, broker.url)
  }
  t.pass(`after each of ${KILLS} kills the ledger reopened and held every receipted reading`)
  t.comment(`last restart at ${Date.now() - started} ms`)
  clearInterval(sampler)
  await waitFor(
    () => loops.every((l) => l.receipt.seq === l.d.seq),
    'every signed reading receipted after the last restart',
    40_000,
  )
  clearInterval(retry)
  t.comment(`converged at ${Date.now() - started} ms`)
  await kill(child, 'SIGTERM')
  child = undefined
  t.comment(`ingest stopped at ${Date.now() - started} ms`)

  const ledger = await openLedger({ dir, checkpointIntervalMs: 0 })
  try {
    for (const l of loops) {
      const stored = await ledger.readingsByDevice(l.d.id)
      const seqs = stored.map((e) => e.entry.body.seq)
      t.equal(seqs.length, l.d.seq, `${l.d.id}: ${l.d.seq} readings signed, as many stored`)
      t.ok(
        seqs.every((s, n) => s === n + 1),
        `${l.d.id}: each seq 1..${l.d.seq} exactly once`,
      )
      let prev = GENESIS_PREV_HASH
      let linked = true,
        exact = true
      for (const e of stored) {
        const p = fromBase64(e.entry.body.payload)
        if (!equalBytes(p, l.sent.get(e.entry.body.seq)!)) exact = false
        if (!equalBytes(decodeReading(p).fields.prevHash, prev)) linked = false
        prev = readingHash(p)
      }
      t.ok(exact, `${l.d.id}: the exact signed bytes`)
      t.ok(linked, `${l.d.id}: unbroken chain`)
      t.match(ledger.device(l.d.id), { contiguous: l.d.seq, gaps: [] })
    }
    const all = await ledger.entriesByType('reading')
    const keys = new Set(all.map((e) => `${e.entry.body.deviceId}/${e.entry.body.seq}`))
    t.equal(keys.size, all.length, 'no reading entry appears twice in the log')
  } finally {
    await ledger.close()
  }

  t.comment(`ledger checked at ${Date.now() - started} ms`)
  const reader = await openLedgerDirReader(dir)
  try {
    const report = await checkLedger(reader, { ledgerPublicKey: await readVerifierKey(dir) })
    t.ok(
      report.ok,
      `the integrity checker accepts the ledger${report.failure ? `: ${report.failure.code} ${report.failure.message}` : ''}`,
    )
    t.equal(
      report.readings,
      loops.reduce((n, l) => n + l.d.seq, 0),
    )
    t.same(report.gaps, [])
    t.comment(
      `fsck done at ${Date.now() - started} ms (${report.size} entries, ${report.checkpointEntries} checkpoints)`,
    )
  } finally {
    await reader.close()
  }
})

t.test(
  'SIGKILL during group-committed appends: every acknowledged append survives, the log stays consistent',
  async (t) => {
    const { dir, remove } = await tempDir('coldproof-crash-store-')
    t.teardown(remove)
    const CHILD_APPEND = join(here, 'fixtures', 'append-child.ts')
    let acked = 0
    for (let k = 0; k < 5; k++) {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD_APPEND, dir], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let out = '',
        err = ''
      child.stderr!.on('data', (b) => {
        err += b
      })
      let started = 0
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (b) => {
          out += b
          const m = /ready (\d+)/.exec(out)
          if (m && !started) started = Number(m[1]) + 1
          // Kill once a few hundred appends were acknowledged: batches are being written continuously.
          if ((out.match(/ack /g) ?? []).length >= 150 + 50 * k) resolve()
        })
        child.once('exit', (code) => reject(new Error(`append child exited with ${code}: ${err}`)))
      })
      await kill(child, 'SIGKILL')
      const acks = [...out.matchAll(/ack (\d+)/g)].map((m) => Number(m[1]))
      acked = Math.max(acked, ...acks)
      // Reopening runs the recovery check; every acknowledged append must be there.
      const store = await LogStore.open(join(dir, 'db'))
      try {
        const d = store.device('crash-probe')!
        t.ok(
          acks.every((s) => s <= d.contiguous),
          `kill ${k + 1}: all ${acks.length} acknowledged appends (up to ${Math.max(...acks)}) survived; ${d.contiguous} stored`,
        )
        t.same(d.gaps, [], `kill ${k + 1}: no partial batch (no gap)`)
      } finally {
        await store.close()
      }
    }
    const reader = await openLedgerDirReader(dir)
    try {
      const report = await checkLedger(reader, { ledgerPublicKey: await readVerifierKey(dir) })
      t.ok(
        report.ok,
        `the integrity checker accepts the ledger${report.failure ? `: ${report.failure.code} ${report.failure.message}` : ''}`,
      )
      t.ok(report.readings >= acked, `${report.readings} readings logged, ${acked} acknowledged`)
    } finally {
      await reader.close()
    }
  },
)
