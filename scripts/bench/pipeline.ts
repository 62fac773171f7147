/**
 * Sections 2 and 3: the pipeline (embedded broker -> ingest -> ledger, as
 * `coldproof start` wires it) fed by publisher processes. Saturation rate,
 * publish->commit and publish->live-stream latency at half that rate, the
 * rate at several fleet sizes, and the memory of a large fleet publishing at
 * its (accelerated) sampling interval.
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { figure, quantile, repeat, StageFailed, wallMs, type Figure } from './figures.ts'
import { startPublishers, type Stamp } from './publishers.ts'
import { benchDevices, provisionDevices, startBenchServer } from './server.ts'
import { commitTracker, type CommitWaiter } from './commit-tracker.ts'
import { startServerProcess } from './server-process-client.ts'

/**
 * Waits for the commits and the publishers' PUBACKs together: a stall on
 * either side (nothing committed for a minute, a publisher failing, acks that
 * never come once everything is committed) fails the stage by name instead of
 * leaving the bench waiting for ever.
 */
async function publishAndCommit<T>(
  publishing: Promise<T>,
  tracker: CommitWaiter,
  target: number,
  stage: string,
): Promise<{ end: number; result: T }> {
  const committed = tracker.until(target, stage)
  committed.catch(() => {}) // observed below; a late rejection after a publisher failure is not a second failure
  const end = await Promise.race([committed, publishing.then(() => committed)])
  let timer: NodeJS.Timeout | undefined
  const acks = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StageFailed(stage, 'every reading was committed, but PUBACKs were still missing 2 min later')),
      120_000,
    )
  })
  try {
    return { end, result: await Promise.race([publishing, acks]) }
  } finally {
    clearTimeout(timer)
  }
}

/** Saturation: every device publishes its readings at once; readings/s from the first publish to the last commit. */
async function saturate(
  devices: number,
  perDevice: number,
  runs: number,
  prefix: string,
  verifyThreads?: number,
  warmups = 0,
): Promise<number[]> {
  const server = await startBenchServer(verifyThreads === undefined ? {} : { verifyThreads })
  try {
    const fleet = await provisionDevices(server.ledger, prefix, devices)
    const tracker = commitTracker(server.ingest)
    const pubs = await startPublishers(server.url, fleet)
    try {
      const rates = await repeat(warmups + runs, async () => {
        await pubs.sign(perDevice)
        const target = tracker.count() + devices * perDevice
        const start = wallMs()
        const { end } = await publishAndCommit(pubs.burst(), tracker, target, `${prefix} saturation`)
        return (devices * perDevice * 1000) / (end - start)
      })
      return rates.slice(warmups)
    } finally {
      await pubs.close()
    }
  } finally {
    await server.close()
  }
}

export async function pipelineSaturation(devices: number, perDevice: number, runs: number): Promise<Figure> {
  const values = await saturate(devices, perDevice, runs, 'bench-sat')
  return figure(
    'pipeline.saturation',
    'pipeline',
    `pipeline at saturation, ${devices} devices x ${perDevice} readings`,
    'readings/s',
    values,
    'higher',
  )
}

/** The same with every signature verified on the main thread while judging (verifyThreads 0): what the verify pool gains, in the same run. */
export async function pipelineSaturationMainThread(devices: number, perDevice: number, runs: number): Promise<Figure> {
  const values = await saturate(devices, perDevice, runs, 'bench-satmain', 0)
  return figure(
    'pipeline.saturation_main_thread',
    'pipeline',
    `pipeline at saturation, signatures verified on the main thread, ${devices} devices x ${perDevice} readings`,
    'readings/s',
    values,
    'higher',
  )
}

function startSseWatcher(base: string, cookie: string) {
  const child = fork(fileURLToPath(new URL('./sse-process.ts', import.meta.url)), [base, cookie], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const next = () =>
    new Promise<{ ok: boolean; error?: string; stamps?: Stamp[]; ended?: boolean }>((resolve, reject) => {
      child.once('message', resolve as never)
      child.once('exit', (c) => reject(new StageFailed('live stream', `watcher exited (${c})`)))
    })
  return {
    ready: next().then((r) => {
      if (!r.ok) throw new StageFailed('live stream', r.error ?? 'watcher failed')
    }),
    async collect(): Promise<Stamp[]> {
      const r = next()
      child.send({ cmd: 'collect' })
      const got = await r
      if (got.ended && !got.stamps?.length)
        throw new StageFailed(
          'live stream',
          "the dashboard ended the watcher's stream (dropped as a slow reader, or closed)",
        )
      return got.stamps ?? []
    },
    close() {
      child.send({ cmd: 'close' })
    },
  }
}

/**
 * Latency at a fixed rate (half the saturation rate), with the dashboard and
 * one live-stream watcher attached, devices in open shipments of four.
 */
export async function pipelineLatency(
  devices: number,
  perSecond: number,
  seconds: number,
  runs: number,
): Promise<Figure[]> {
  const server = await startBenchServer({ dashboard: true })
  try {
    const fleet = await provisionDevices(server.ledger, 'bench-lat', devices, 4)
    const tracker = commitTracker(server.ingest)
    const sse = startSseWatcher(server.http!.base, server.http!.cookie)
    await sse.ready
    const pubs = await startPublishers(server.url, fleet)
    const p50: number[] = []
    const p99: number[] = []
    const visible99: number[] = []
    try {
      const perDevice = Math.max(1, Math.ceil((perSecond * seconds) / devices))
      const total = perDevice * devices
      for (let r = 0; r < runs; r++) {
        await pubs.sign(perDevice)
        const target = tracker.count() + total
        tracker.record()
        const { result: stamps } = await publishAndCommit(pubs.paced(perSecond), tracker, target, 'latency')
        const commits = tracker.take()
        const seen = new Map<string, number>()
        const deadline = performance.now() + 60_000
        while (seen.size < total) {
          for (const [d, s, t] of await sse.collect()) seen.set(`${d}/${s}`, t)
          if (performance.now() > deadline)
            throw new StageFailed(
              'live stream',
              `${total - seen.size} of ${total} readings never appeared on the stream`,
            )
          if (seen.size < total) await new Promise((res) => setTimeout(res, 50))
        }
        const lat = stamps.map(([d, s, t]) => commits.get(`${d}/${s}`)! - t).sort((a, b) => a - b)
        const vis = stamps.map(([d, s, t]) => seen.get(`${d}/${s}`)! - t).sort((a, b) => a - b)
        if (lat.length !== total || lat.some((x) => !Number.isFinite(x)) || vis.some((x) => !Number.isFinite(x)))
          throw new StageFailed('latency', 'a published reading has no commit or stream stamp')
        p50.push(quantile(lat, 0.5))
        p99.push(quantile(lat, 0.99))
        visible99.push(quantile(vis, 0.99))
      }
    } finally {
      await pubs.close()
      sse.close()
    }
    const at = `at ${Math.round(perSecond)}/s, ${devices} devices`
    return [
      figure('pipeline.latency_commit_p50', 'pipeline', `publish -> commit latency p50 ${at}`, 'ms', p50, 'lower'),
      figure('pipeline.latency_commit_p99', 'pipeline', `publish -> commit latency p99 ${at}`, 'ms', p99, 'lower'),
      figure(
        'pipeline.latency_visible_p99',
        'pipeline',
        `publish -> visible on the live stream (SSE) p99 ${at}`,
        'ms',
        visible99,
        'lower',
      ),
    ]
  } finally {
    await server.close()
  }
}

export async function fleetScale(devices: number, total: number, runs: number): Promise<Figure> {
  const perDevice = Math.max(1, Math.ceil(total / devices))
  const values = await saturate(devices, perDevice, runs, `bench-fleet${devices}`)
  return figure(
    `fleet.pipeline_${devices}`,
    'fleet',
    `pipeline at saturation, ${devices.toLocaleString('en-US')} connected devices x ${perDevice}`,
    'readings/s',
    values,
    'higher',
  )
}

/**
 * The fleet-size target, side by side: runs alternate between the reference
 * fleet and the large one (the same number of readings each), every run on a
 * fresh server after one unmeasured warm-up burst, so that a change in the
 * machine's load or state during the stage hits both sizes alike. The ratio
 * is taken pair by pair (large / reference, the two runs next to each other).
 */
export async function fleetPaired(reference: number, large: number, total: number, runs: number): Promise<Figure[]> {
  const small: number[] = []
  const big: number[] = []
  const ratios: number[] = []
  for (let r = 0; r < runs; r++) {
    const [a] = await saturate(reference, Math.ceil(total / reference), 1, `bench-pair${reference}-${r}`, undefined, 1)
    const [b] = await saturate(large, Math.ceil(total / large), 1, `bench-pair${large}-${r}`, undefined, 1)
    small.push(a)
    big.push(b)
    ratios.push(b / a)
  }
  const n = (d: number) => d.toLocaleString('en-US')
  const note = `runs alternating ${n(reference)} / ${n(large)} devices, ${n(total)} readings each, fresh server and one warm-up burst per run`
  const rate = (devices: number, values: number[]) =>
    figure(
      `fleet.paired_${devices}`,
      'fleet',
      `side by side: pipeline at saturation, ${n(devices)} devices`,
      'readings/s',
      values,
      'higher',
      note,
    )
  return [
    rate(reference, small),
    rate(large, big),
    figure(
      'fleet.paired_ratio',
      'fleet',
      `side by side: pipeline at ${n(large)} devices / at ${n(reference)} devices`,
      'ratio',
      ratios,
      'higher',
      'pair by pair',
    ),
  ]
}

/**
 * Memory of a large fleet: every device publishes one reading per simulated
 * 5 minutes, time accelerated so the fleet's rate is `perSecond`; the server
 * process (broker + ingest + ledger + dashboard, devices in shipments of four)
 * runs apart from the benchmark, as `coldproof start` would, and samples its
 * own RSS every 500 ms.
 */
export async function fleetMemory(devices: number, perSecond: number, periods: number): Promise<Figure[]> {
  const server = await startServerProcess('fleet memory')
  try {
    await server.provision('bench-mem', devices, 4)
    const pubs = await startPublishers(server.url, benchDevices('bench-mem', devices))
    let rss: number[]
    try {
      await pubs.sign(periods)
      await server.sample()
      const target = (await server.count()) + devices * periods
      await publishAndCommit(pubs.paced(perSecond), server, target, 'fleet memory')
      rss = await server.samples()
    } finally {
      await pubs.close().catch(() => {})
    }
    const pubRss = pubs.rss().reduce((a, b) => a + b, 0) / 2 ** 20
    const accel = Math.round((300 * perSecond) / devices)
    return [
      figure(
        'fleet.rss_server',
        'fleet',
        `server process RSS (broker + ingest + ledger + dashboard, in a process of its own), ${devices.toLocaleString('en-US')} devices, one reading per simulated 5 min, x${accel} (${Math.round(perSecond)}/s)`,
        'MiB',
        rss,
        'lower',
        'spread over 500 ms samples, not runs',
      ),
      figure(
        'fleet.rss_publishers',
        'fleet',
        `publisher processes RSS, together (the simulated devices; not billed)`,
        'MiB',
        [pubRss],
        'lower',
      ),
    ]
  } finally {
    await server.close()
  }
}
