/**
 * The chaos suite (issue 17): the whole system under faults and attack while
 * a fleet publishes, then proof that nothing measured was lost.
 *
 *   system child (system-child.ts): broker + ingest + ledger + dashboard, SIGKILLed and restarted
 *   fleet child  (fleet-child.ts):  the loggers, never killed; their signed logs are the reference
 *   this process: schedules the faults, attacks over MQTT and HTTP, audits the ledger at the end
 *
 * The schedule is random from a seed; no check depends on when a kill lands:
 * every wait is for a condition, with a generous ceiling.
 *
 * This module is the runner: it sets the run up, plays the schedule of faults
 * (fault-kill.ts, fault-attacks.ts, fault-disk-full.ts) and winds down
 * (wind-down.ts); the findings come from findings.ts.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRng, deriveSeed } from '../../device-sim/index.ts'
import { audit, type AuditResult } from './audit.ts'
import { attackRound } from './fault-attacks.ts'
import { diskFullFault } from './fault-disk-full.ts'
import { killAndRestart } from './fault-kill.ts'
import { fileErrorCases, type FileCase } from './file-errors.ts'
import { readSignedLog, SIGNED_LOG } from './fleet-child.ts'
import { fleetProc } from './fleet-proc.ts'
import { auditFailures } from './findings.ts'
import { newTally } from './http.ts'
import { newRogue, type Rogue } from './mqtt-attacks.ts'
import { provision, type ScenarioShipment } from './provision.ts'
import { signIn, type ChaosRun, type Logins } from './run-state.ts'
import { chaosScenario, FLIGHT_DEVICE, OVERFLOW_DEVICE } from './scenario.ts'
import { freePort, spawnSystem, type SystemProc } from './system-proc.ts'
import { mountTmpfs, type TmpfsMount } from './tmpfs.ts'
import { sleep } from './wait.ts'
import { drainFleet, readVerdicts, stopAll, verifyLedger } from './wind-down.ts'

export interface ChaosOptions {
  quick?: boolean
  seed?: number
  kills?: number
  /** Inject the disk-full fault when a tmpfs can be mounted (default true). */
  diskFull?: boolean
  /** Keep the work directory (printed) instead of removing it. */
  keep?: boolean
  log?: (line: string) => void
}

export interface ChaosReport {
  ok: boolean
  failures: string[]
  seed: number
  faults: Record<string, string | number>
  audit: AuditResult
  http: ReturnType<typeof newTally>
  httpCases: number
  mqttSent: number
  verifyLedger: { exitCode: number | null; summary: string }
  fileCases: FileCase[]
  diskFull: string
  peakMemoryMiB: { system: number; fleet: number; suite: number }
  durationS: number
  events: string[]
  work: string
}

export async function runChaos(o: ChaosOptions = {}): Promise<ChaosReport> {
  const t0 = Date.now()
  const quick = !!o.quick
  const seed = o.seed ?? 17
  const kills = o.kills ?? (quick ? 5 : 55)
  const log = o.log ?? (() => {})
  const shape = quick
    ? { shipments: 2, devicesPerShipment: 2, durationMin: 1440 }
    : { shipments: 6, devicesPerShipment: 2, durationMin: 3 * 1440 }
  // Simulated time runs so that the fleet publishes through the whole fault schedule.
  const plannedS = quick ? 20 : kills * 6.5
  const acceleration = Math.round((shape.durationMin * 60) / plannedS)
  const work = mkdtempSync(join(tmpdir(), 'coldproof-chaos-'))
  const sysDir = join(work, 'system')
  const fleetDir = join(work, 'fleet')
  const failures: string[] = []
  const events: string[] = []
  const faults: Record<string, string | number> = {}
  const bump = (k: string, n = 1) => {
    faults[k] = (Number(faults[k] ?? 0) || 0) + n
  }
  const tally = newTally()
  const sent: ChaosRun['sent'] = []
  let httpCases = 0
  const peak = { system: 0, fleet: 0, suite: 0 }
  let diskFull = ''
  let tmpfs: TmpfsMount | undefined

  if (o.diskFull === false) diskFull = 'skipped (--no-disk-full)'
  else {
    const m = await mountTmpfs(sysDir, quick ? 128 : 256)
    if ('mount' in m) tmpfs = m.mount
    else diskFull = m.skipped
  }
  mkdirSync(sysDir, { recursive: true })

  const ports = { http: await freePort(), mqtt: await freePort() }
  const graceMs = 3000
  const scenario = chaosScenario(shape)
  const scenarioFile = join(work, 'chaos-scenario.json')
  writeFileSync(scenarioFile, JSON.stringify(scenario, null, 2))
  let sys: SystemProc | undefined
  let run: ChaosRun | undefined
  const fleet = fleetProc()
  let audited: AuditResult | undefined
  let verify = { exitCode: null as number | null, summary: '' }
  let fileCases: FileCase[] = []
  try {
    sys = await spawnSystem(sysDir, ports.http, ports.mqtt, graceMs)
    log(`system up at ${sys.url} (${sys.mqttUrl}); work dir ${work}`)
    const logins = JSON.parse(readFileSync(join(sysDir, 'demo-logins.json'), 'utf8')) as Logins
    run = {
      quick,
      seed,
      rng: createRng(deriveSeed(seed, 'schedule')),
      log,
      sysDir,
      ports,
      graceMs,
      logins,
      tally,
      fleet,
      sys,
      ...(await signIn(sys.url, tally, logins)),
      sent,
      failures,
      events,
      peak,
      bump,
    }

    const prov = await fleet.ask(
      { type: 'init', scenario, dataDir: fleetDir, mqttUrl: sys.mqttUrl, acceleration, receiptTimeoutMs: 3000 },
      'provisioning',
    )
    const fleetDevices = prov.records.map((r) => r.deviceId)
    const batches = Math.ceil(kills / (quick ? 1 : 3))
    const rogues: Rogue[] = Array.from({ length: batches }, (_, i) => newRogue(`chaos-rogue-${i}`))
    const shipments = (scenario as { shipments: ScenarioShipment[] }).shipments
    await provision(run, prov, rogues, shipments)
    await fleet.ask({ type: 'start' }, 'started')
    log(
      `fleet: ${fleetDevices.length} devices, ${shape.durationMin / 1440} simulated days at ${acceleration}x; ${kills} kills planned`,
    )
    faults['device offline 12 simulated hours (flight)'] = FLIGHT_DEVICE
    faults['device buffer overflow (48 readings, 12 h offline)'] = OVERFLOW_DEVICE
    faults['device clock drift (+1000 ppm) / jumps (-90, +45 min)'] = 2

    const foreignPayloads = () => {
      const f = join(fleetDir, fleetDevices[0]!, SIGNED_LOG)
      return existsSync(f)
        ? readSignedLog(readFileSync(f))
            .slice(0, 50)
            .map((p) => Buffer.from(p))
        : []
    }
    const r = run
    const quarantineTotal = async (): Promise<number> => {
      const res = await r.http.req('GET', '/api/ledger', { cookie: r.sess.admin })
      const q = (res.json as { quarantined?: Record<string, number> } | undefined)?.quarantined ?? {}
      return Object.values(q).reduce((a, b) => a + b, 0)
    }

    const diskFullAt = tmpfs ? Math.max(2, Math.floor(kills / 2)) : -1
    let batch = 0
    for (let k = 1; k <= kills; k++) {
      const startedAt = Date.now()
      const delayMs = quick ? 300 + run.rng.next() * 1200 : 1000 + run.rng.next() * 5000
      const until0 = startedAt + delayMs
      if (batch < rogues.length && (quick || k % 3 === 1)) {
        httpCases += await attackRound(run, {
          batch,
          rogue: rogues[batch]!,
          victim: fleetDevices[0]!,
          foreignPayloads,
          quarantineTotal,
          startedAt,
        })
        batch++
      }
      if (k === diskFullAt) diskFull = await diskFullFault(run)
      const rest = until0 - Date.now()
      if (rest > 0) await sleep(rest)
      await killAndRestart(run, k)
      if (k % 10 === 0 || quick) log(`kill ${k}/${kills} done`)
    }

    await drainFleet(run)
    await readVerdicts(
      run,
      shipments.map((s) => s.shipmentId),
    )
    await stopAll(run)

    const ledgerDir = join(sysDir, 'ledger')
    verify = await verifyLedger(ledgerDir, failures)
    audited = await audit({ ledgerDir, fleetDir, fleetDevices, shipments: shipments.map((s) => s.shipmentId), sent })
    fileCases = await fileErrorCases(join(work, 'files'), ledgerDir, scenarioFile)
    for (const c of fileCases)
      if (!c.ok) failures.push(`file error "${c.name}" (${c.file}): ${c.why}; got: ${c.stderr}`)
  } finally {
    const last = run?.sys ?? sys
    if (last && last.child.exitCode === null && last.child.signalCode === null) {
      last.child.kill('SIGKILL')
      await last.exited
    }
    if (fleet.child.connected) fleet.child.kill('SIGKILL')
    if (tmpfs?.mounted) {
      // The tmpfs goes away with the unmount: keep a copy of what it held.
      if (o.keep) {
        try {
          cpSync(sysDir, join(work, 'system-kept'), { recursive: true })
        } catch {
          /* reported by its absence */
        }
      }
      await tmpfs.unmount()
    }
    if (!o.keep) rmSync(work, { recursive: true, force: true })
  }
  peak.suite = process.resourceUsage().maxRSS / 1024

  const a = audited!
  failures.push(...auditFailures(a, tally, faults, kills))
  return {
    ok: failures.length === 0,
    failures,
    seed,
    faults,
    audit: a,
    http: tally,
    httpCases,
    mqttSent: sent.length,
    verifyLedger: verify,
    fileCases,
    diskFull,
    peakMemoryMiB: { system: Math.round(peak.system), fleet: Math.round(peak.fleet), suite: Math.round(peak.suite) },
    durationS: Math.round((Date.now() - t0) / 1000),
    events,
    work,
  }
}
