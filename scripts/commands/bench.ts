/**
 * `coldproof bench` (npm run bench): one run measures the machine's limits and
 * the system side by side, prints a table and writes bench-results.json and
 * the generated part of BENCHMARKS.md (both with the machine's description).
 * Every figure states unit, runs and spread; a stage that did not run fails
 * the command (exit 1), and no figure is printed that was not measured.
 * Targets are shown as target vs measured, never asserted by a test.
 *
 *   npm run bench                      full sizes (tens of minutes on 2 cores)
 *   npx coldproof bench --quick        small sizes: a smoke run, figures not comparable
 */
import type { Command } from 'commander'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { describeMachine } from '../bench/machine.ts'
import type { Figure } from '../bench/figures.ts'
import { verifyOneCore, verifyAllCores, leveldbSyncBatches, transport } from '../bench/limits.ts'
import {
  pipelineSaturation,
  pipelineSaturationMainThread,
  pipelineLatency,
  fleetScale,
  fleetPaired,
  fleetMemory,
} from '../bench/pipeline.ts'
import { growth } from '../bench/growth.ts'
import { regulator } from '../bench/regulator.ts'
import { clusterPartitions } from '../bench/cluster.ts'
import { publisherProcesses, stopPublisherProcesses } from '../bench/publishers.ts'
import { checkTargets, derive, printResults, writeResults, type Results } from '../bench/report.ts'

interface Sizes {
  verify: { runs: number; budgetMs: number }
  leveldb: { runs: number; batches: number }
  transport: { runs: number; devices: number; perDevice: number }
  pipeline: { runs: number; devices: number; perDevice: number; latencySeconds: number; latencyRuns: number }
  fleet: {
    sizes: number[]
    compare: [number, number]
    pairs: number
    total: number
    runs: number
    memoryDevices: number
    memoryPeriods: number
  }
  growth: { size: number; runs: number; appendCount: number; proofSamples: number }
  regulator: { readings: number; runs: number }
  cluster: { devices: number; perDevice: number; runs: number; partitions: number[] }
}

const FULL: Sizes = {
  verify: { runs: 5, budgetMs: 1000 },
  leveldb: { runs: 5, batches: 40 },
  transport: { runs: 3, devices: 50, perDevice: 400 },
  pipeline: { runs: 3, devices: 50, perDevice: 300, latencySeconds: 10, latencyRuns: 3 },
  fleet: {
    sizes: [100, 1000, 10_000],
    compare: [50, 1000],
    pairs: 5,
    total: 15_000,
    runs: 3,
    memoryDevices: 10_000,
    memoryPeriods: 3,
  },
  growth: { size: 1_000_000, runs: 3, appendCount: 20_000, proofSamples: 500 },
  regulator: { readings: 10_000, runs: 3 },
  cluster: { devices: 50, perDevice: 300, runs: 3, partitions: [1, 2, 4] },
}

const QUICK: Sizes = {
  verify: { runs: 2, budgetMs: 100 },
  leveldb: { runs: 2, batches: 3 },
  transport: { runs: 1, devices: 4, perDevice: 50 },
  pipeline: { runs: 1, devices: 4, perDevice: 50, latencySeconds: 1, latencyRuns: 1 },
  fleet: { sizes: [5, 10, 20], compare: [4, 10], pairs: 1, total: 100, runs: 1, memoryDevices: 20, memoryPeriods: 2 },
  growth: { size: 3000, runs: 1, appendCount: 300, proofSamples: 20 },
  regulator: { readings: 200, runs: 1 },
  cluster: { devices: 4, perDevice: 50, runs: 1, partitions: [1, 2, 4] },
}

export async function runBench({ quick, outDir }: { quick: boolean; outDir: string }): Promise<Results> {
  const s = quick ? QUICK : FULL
  if (quick) publisherProcesses.count = 1
  const machine = describeMachine()
  const figures: Figure[] = []
  await mkdir(outDir, { recursive: true })
  const stage = async (name: string, body: () => Promise<Figure | Figure[]>) => {
    const t = performance.now()
    process.stderr.write(`bench: ${name}...`)
    const f = await body()
    figures.push(...(Array.isArray(f) ? f : [f]))
    process.stderr.write(` ${((performance.now() - t) / 1000).toFixed(1)} s\n`)
    // A long run that dies later keeps what it measured (marked incomplete; no targets, no Markdown).
    await writeFile(
      join(outDir, 'bench-results.partial.json'),
      JSON.stringify({ machine, quick, complete: false, figures }, null, 2) + '\n',
    )
  }
  const half = () => figures.find((f) => f.id === 'pipeline.saturation')!.median / 2
  const stages: [string, () => Promise<Figure | Figure[]>][] = [
    ['verify, one core', () => verifyOneCore(s.verify.runs, s.verify.budgetMs)],
    ['verify, all cores', () => verifyAllCores(s.verify.runs, s.verify.budgetMs)],
    ['LevelDB sync batches', () => leveldbSyncBatches(s.leveldb.runs, s.leveldb.batches)],
    ['MQTT transport', () => transport(s.transport.runs, s.transport.devices, s.transport.perDevice)],
    ['pipeline saturation', () => pipelineSaturation(s.pipeline.devices, s.pipeline.perDevice, s.pipeline.runs)],
    [
      'pipeline saturation, signatures on the main thread',
      () => pipelineSaturationMainThread(s.pipeline.devices, s.pipeline.perDevice, s.pipeline.runs),
    ],
    [
      'latency at half load',
      () => pipelineLatency(s.pipeline.devices, half(), s.pipeline.latencySeconds, s.pipeline.latencyRuns),
    ],
    ...s.fleet.sizes.map((n): [string, () => Promise<Figure>] => [
      `fleet of ${n}`,
      () => fleetScale(n, s.fleet.total, s.fleet.runs),
    ]),
    [
      `fleet of ${s.fleet.compare[1]} against ${s.fleet.compare[0]}, side by side`,
      () => fleetPaired(s.fleet.compare[0], s.fleet.compare[1], s.fleet.total, s.fleet.pairs),
    ],
    ['fleet memory', () => fleetMemory(s.fleet.memoryDevices, half(), s.fleet.memoryPeriods)],
    ['growth', () => growth(s.growth)],
    ["regulator's side", () => regulator(s.regulator)],
    [
      'cluster mode, 1/2/4 partitions',
      () => clusterPartitions(s.cluster, figures.find((f) => f.id === 'pipeline.saturation')!.median),
    ],
  ]
  try {
    for (const [name, body] of stages) await stage(name, body)
  } finally {
    await stopPublisherProcesses()
  }
  const derived = derive(figures)
  const results: Results = {
    machine,
    quick,
    loadAfter: loadavg().map((x) => Math.round(x * 100) / 100),
    figures,
    derived,
    targets: checkTargets(figures, derived),
  }
  await writeResults(results, join(outDir, 'bench-results.json'), join(outDir, 'BENCHMARKS.md'))
  await rm(join(outDir, 'bench-results.partial.json'), { force: true })
  return results
}

export function register(program: Command): void {
  program
    .command('bench')
    .description(
      "measure this machine's limits and the pipeline, fleet scale, growth and the regulator's side in one run; writes BENCHMARKS.md and bench-results.json",
    )
    .option('--quick', 'small sizes (a smoke run; figures not comparable); writes to a temp folder unless --out-dir')
    .option(
      '--out-dir <dir>',
      'where BENCHMARKS.md and bench-results.json go (default: the current folder; a temp folder with --quick)',
    )
    .action(async (o: { quick?: boolean; outDir?: string }) => {
      const quick = o.quick ?? false
      const outDir = resolve(o.outDir ?? (quick ? join(tmpdir(), 'coldproof-bench-quick') : '.'))
      try {
        const results = await runBench({ quick, outDir })
        printResults(results)
        console.log(`\nwrote ${join(outDir, 'BENCHMARKS.md')} and ${join(outDir, 'bench-results.json')}`)
      } catch (e) {
        process.stderr.write(`\nbench FAILED: ${(e as Error).stack ?? e}\n`)
        process.exitCode = 1
      }
    })
}
