/**
 * `npm run bench` must keep working: the quick run completes, and every figure
 * it prints and writes is a measured number with its unit, run count and
 * spread. Nothing here judges the speed.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import type { Results } from '../bench/report.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

const EXPECTED = [
  'limits.verify_one_core',
  'limits.verify_all_cores',
  'limits.leveldb_sync_batches',
  'limits.transport',
  'pipeline.saturation',
  'pipeline.saturation_main_thread',
  'pipeline.latency_commit_p50',
  'pipeline.latency_commit_p99',
  'pipeline.latency_visible_p99',
  'fleet.pipeline_5',
  'fleet.pipeline_10',
  'fleet.pipeline_20',
  'fleet.paired_4',
  'fleet.paired_10',
  'fleet.paired_ratio',
  'fleet.rss_server',
  'fleet.rss_publishers',
  'growth.prefill',
  'growth.append_empty',
  'growth.append_full',
  'growth.inclusion_proof',
  'growth.consistency_proof',
  'growth.shipment_query',
  'growth.open',
  'growth.start',
  'growth.caught_up',
  'regulator.bundle_build',
  'regulator.verify_webcrypto',
  'regulator.verify_noble',
  'regulator.compliance',
  'regulator.verify',
  'cluster.partitions_1',
  'cluster.partitions_2',
  'cluster.partitions_4',
]

t.test('coldproof bench --quick measures every figure it prints and writes', async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'coldproof-bench-test-'))
  t.teardown(() => rm(out, { recursive: true, force: true }))
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(root, 'bin', 'coldproof.js'), 'bench', '--quick', '--out-dir', out],
    { cwd: root, timeout: 170_000 },
  )
  const results = JSON.parse(await readFile(join(out, 'bench-results.json'), 'utf8')) as Results
  t.same(
    results.figures.map((f) => f.id),
    EXPECTED,
    'every stage ran, in order',
  )
  for (const f of results.figures) {
    t.ok(f.runs >= 1 && f.unit.length > 0, `${f.id}: unit ${f.unit}, ${f.runs} runs`)
    t.ok(
      [f.min, f.median, f.max].every(Number.isFinite) && f.min <= f.median && f.median <= f.max,
      `${f.id}: min <= median <= max, all numbers`,
    )
    const row = stdout.split('\n').find((l) => l.startsWith(f.name))
    t.ok(row, `${f.id}: printed`)
    t.match(
      row ?? '',
      new RegExp(`${f.unit.replace(/[/]/g, '\\/')}\\s+${f.runs}\\s+[\\d,.]+\\s+[\\d,.]+\\s+[\\d,.]+$`),
      `${f.id}: printed with unit, runs and three measured numbers`,
    )
  }
  t.equal(results.targets.length, 8, 'every target is shown')
  for (const tg of results.targets) t.ok(Number.isFinite(tg.measured), `target "${tg.what}" compares a measured number`)
  t.match(stdout, /✔|✘/)
  t.ok(
    results.machine.cores >= 1 && results.machine.cpuModel && results.machine.node === process.version,
    'the machine is described',
  )
  const md = await readFile(join(out, 'BENCHMARKS.md'), 'utf8')
  t.match(md, /Machine: \d+ cores, .*Node v\d+/)
  t.match(md, /\| target \| target \| measured \| met \|/)
})
