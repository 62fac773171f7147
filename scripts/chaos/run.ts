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
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRng, deriveSeed, type Rng } from '../../device-sim/index.ts'
import { toHex } from '../../ledger/protocol/index.ts'
import { chaosScenario, FLIGHT_DEVICE, OVERFLOW_DEVICE } from './scenario.ts'
import type { FleetReply, FleetRequest } from './fleet-child.ts'
import { readSignedLog, SIGNED_LOG } from './fleet-child.ts'
import { attackBatch, newRogue, slowClients, type Rogue, type SentMessage } from './mqtt-attacks.ts'
import { httpClient, newTally, type HttpClient, type Role } from './http.ts'
import { httpAttackBatch } from './http-attacks.ts'
import { audit, type AuditResult } from './audit.ts'
import { fileErrorCases, runCli, type FileCase } from './file-errors.ts'

const HERE = dirname(fileURLToPath(import.meta.url))

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function until<T>(
  what: string,
  ceilingMs: number,
  f: () => Promise<T | undefined | false> | T | undefined | false,
  everyMs = 250,
): Promise<T> {
  const end = Date.now() + ceilingMs
  for (;;) {
    const v = await f()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out after ${ceilingMs / 1000} s waiting for ${what}`)
    await sleep(everyMs)
  }
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer()
    s.once('error', rej)
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => res(p))
    })
  })
}

/** Peak resident memory of a live process (VmHWM), MiB; 0 when unreadable. */
function peakRssMiB(pid: number | undefined): number {
  if (!pid) return 0
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : 0
  } catch {
    return 0
  }
}

interface SystemProc {
  child: ChildProcess
  url: string
  mqttUrl: string
  exited: Promise<{ code: number | null; signal: string | null }>
  stderr: () => string
}

function spawnSystem(dataDir: string, httpPort: number, mqttPort: number, graceMs: number): Promise<SystemProc> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(HERE, 'system-child.ts'), dataDir, String(httpPort), String(mqttPort), String(graceMs)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let err = ''
  let out = ''
  child.stderr!.on('data', (d) => {
    err = (err + d).slice(-4000)
  })
  const exited = new Promise<{ code: number | null; signal: string | null }>((res) =>
    child.once('exit', (code, signal) => res({ code, signal })),
  )
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d
      const m = /READY (\{.*\})\n/.exec(out)
      if (m) {
        const j = JSON.parse(m[1]!) as { url: string; mqttUrl: string }
        out = ''
        resolve({ child, url: j.url, mqttUrl: j.mqttUrl, exited, stderr: () => err })
      }
    })
    void exited.then((e) =>
      reject(
        new Error(
          `the system exited before it was ready (code ${e.code}, signal ${e.signal}): ${err.trim().split('\n').slice(-3).join(' | ')}`,
        ),
      ),
    )
  })
}

function fleetProc() {
  const child = fork(join(HERE, 'fleet-child.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  })
  let err = ''
  child.stderr!.on('data', (d) => {
    err = (err + d).slice(-4000)
  })
  const ask = <T extends FleetReply['type']>(m: FleetRequest, want: T): Promise<Extract<FleetReply, { type: T }>> =>
    new Promise((res, rej) => {
      const on = (r: FleetReply) => {
        if (r.type === 'error') {
          child.off('message', on)
          rej(new Error(`fleet: ${r.message}`))
        } else if (r.type === want) {
          child.off('message', on)
          res(r as never)
        }
      }
      child.on('message', on)
      child.send(m)
    })
  return { child, ask, stderr: () => err }
}

export async function runChaos(o: ChaosOptions = {}): Promise<ChaosReport> {
  const t0 = Date.now()
  const quick = !!o.quick
  const seed = o.seed ?? 17
  const kills = o.kills ?? (quick ? 5 : 55)
  const log = o.log ?? (() => {})
  const rng: Rng = createRng(deriveSeed(seed, 'schedule'))
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
  const sent: SentMessage[] = []
  let httpCases = 0
  const peak = { system: 0, fleet: 0, suite: 0 }
  let diskFull = ''
  let mounted = false

  // Disk full needs a filesystem of its own to fill: a tmpfs, when this process may mount one.
  if (o.diskFull === false) diskFull = 'skipped (--no-disk-full)'
  else if (process.getuid?.() === 0) {
    mkdirSync(sysDir, { recursive: true })
    const m = await new Promise<{ code: number | null; err: string }>((res) => {
      const p = spawn('mount', ['-t', 'tmpfs', '-o', `size=${quick ? 128 : 256}m`, 'tmpfs', sysDir], {
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      let err = ''
      p.stderr!.on('data', (d) => {
        err += d
      })
      p.on('error', (e) => res({ code: -1, err: e.message }))
      p.on('close', (code) => res({ code, err }))
    })
    if (m.code === 0) {
      mounted = true
      // If this process dies before its finally block (a test timeout), the mount still goes.
      process.once('exit', () => {
        if (mounted) spawnSync('umount', ['-l', sysDir])
      })
    } else diskFull = `skipped (mount -t tmpfs refused: ${m.err.trim().split('\n')[0] || `exit ${m.code}`})`
  } else diskFull = 'skipped (not root: a tmpfs to fill cannot be mounted)'
  mkdirSync(sysDir, { recursive: true })

  const httpPort = await freePort()
  const mqttPort = await freePort()
  const graceMs = 3000
  const scenario = chaosScenario(shape)
  const scenarioFile = join(work, 'chaos-scenario.json')
  writeFileSync(scenarioFile, JSON.stringify(scenario, null, 2))
  let sys: SystemProc | undefined
  const fleet = fleetProc()
  let audited: AuditResult | undefined
  let verify = { exitCode: null as number | null, summary: '' }
  let fileCases: FileCase[] = []
  try {
    sys = await spawnSystem(sysDir, httpPort, mqttPort, graceMs)
    log(`system up at ${sys.url} (${sys.mqttUrl}); work dir ${work}`)
    const logins = JSON.parse(readFileSync(join(sysDir, 'demo-logins.json'), 'utf8')) as Record<
      Role,
      { username: string; password: string }
    >
    let http: HttpClient = httpClient(sys.url, tally, logins)
    const sessions = async () => ({
      admin: await http.login('admin'),
      operator: await http.login('operator'),
      regulator: await http.login('regulator'),
    })
    let sess = await sessions()

    // Provision through the API, as an operator would: the fleet, rogue loggers for the attacks, the shipments.
    const prov = await fleet.ask(
      { type: 'init', scenario, dataDir: fleetDir, mqttUrl: sys.mqttUrl, acceleration, receiptTimeoutMs: 3000 },
      'provisioning',
    )
    const fleetDevices = prov.records.map((r) => r.deviceId)
    const batches = Math.ceil(kills / (quick ? 1 : 3))
    const rogues: Rogue[] = Array.from({ length: batches }, (_, i) => newRogue(`chaos-rogue-${i}`))
    for (const rec of prov.records) {
      const res = await http.req('POST', '/api/devices', { cookie: sess.admin, body: rec })
      if (res.status !== 201 && res.status !== 200)
        throw new Error(`registering ${rec.deviceId}: ${res.status} ${res.text}`)
    }
    for (const r of rogues) {
      const res = await http.req('POST', '/api/devices', {
        cookie: sess.admin,
        body: { deviceId: r.id.deviceId, publicKey: toHex(r.id.publicKey), model: 'rogue' },
      })
      if (res.status !== 201 && res.status !== 200)
        throw new Error(`registering ${r.id.deviceId}: ${res.status} ${res.text}`)
    }
    const shipments = (
      scenario as {
        shipments: { shipmentId: string; product: string; route: unknown; devices: { deviceId: string }[] }[]
      }
    ).shipments
    for (const s of shipments) {
      const res = await http.req('POST', '/api/shipments', {
        cookie: sess.operator,
        body: {
          shipmentId: s.shipmentId,
          product: s.product,
          profileId: 'refrigerated-2-8',
          route: s.route,
          devices: s.devices.map((d) => d.deviceId),
          startAt: prov.startMs,
        },
      })
      if (res.status !== 201 && res.status !== 200)
        throw new Error(`creating ${s.shipmentId}: ${res.status} ${res.text}`)
    }
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
    const quarantineTotal = async (): Promise<number> => {
      const res = await http.req('GET', '/api/ledger', { cookie: sess.admin })
      const q = (res.json as { quarantined?: Record<string, number> } | undefined)?.quarantined ?? {}
      return Object.values(q).reduce((a, b) => a + b, 0)
    }

    const diskFullAt = mounted ? Math.max(2, Math.floor(kills / 2)) : -1
    let batch = 0
    for (let k = 1; k <= kills; k++) {
      const delayMs = quick ? 300 + rng.next() * 1200 : 1000 + rng.next() * 5000
      const until0 = Date.now() + delayMs
      // Attacks while the system is up; each batch is fully processed before the next kill,
      // so a rejected message is never lost to a kill between the broker's PUBACK and the ingest.
      if (batch < rogues.length && (quick || k % 3 === 1)) {
        const r = rogues[batch]!
        const before = await quarantineTotal()
        const release = slowClients(sys.mqttUrl, quick ? 5 : 20)
        bump('MQTT clients stalled mid-handshake during a batch', quick ? 5 : 20)
        const msgs = await attackBatch({ mqttUrl: sys.mqttUrl, rng, foreignPayloads, victim: fleetDevices[0]! }, r, {
          messages: quick ? 30 : 60,
          flood: batch % 5 === 2 ? (quick ? 300 : 700) : 0,
        })
        release()
        sent.push(...msgs)
        bump('MQTT hostile messages and logins', msgs.length)
        const expected = msgs.filter(
          (m) =>
            m.outcome === 'puback' &&
            (m.expect === 'quarantine' || m.expect === 'refused' || m.expect === 'fork-or-quarantine'),
        ).length
        try {
          // Forks log a reading.fork entry instead of a quarantine record, hence the - 1.
          await until(
            'the ingest to quarantine the batch',
            60_000,
            async () => (await quarantineTotal()) >= before + expected - 1,
          )
        } catch (e) {
          events.push(`batch ${batch}: ${(e as Error).message}`)
        }
        log(`batch ${batch}: ${msgs.length} MQTT messages in ${Math.round((Date.now() - until0 + delayMs) / 1000)} s`)
        const h =
          quick && batch % 2 === 1
            ? { cases: 0, failures: [] }
            : await httpAttackBatch(http, {
                seed: seed + batch,
                cases: quick ? 40 : 150,
                rogueDevice: r.id.deviceId,
                sessions: sess,
                hugeBodies: batch === 0,
              })
        httpCases += h.cases
        bump('HTTP fuzz and access cases', h.cases)
        for (const f of h.failures) failures.push(`HTTP: ${f}`)
        log(`batch ${batch}: ${h.cases} HTTP cases, ${Math.round((Date.now() - until0 + delayMs) / 1000)} s`)
        batch++
      }
      if (k === diskFullAt) {
        // Fill the ledger's filesystem while the fleet publishes, hold it, then free it.
        const ballast = join(sysDir, 'ballast')
        const fd = openSync(ballast, 'w')
        const chunk = Buffer.alloc(1 << 20, 0xab)
        let full = false
        try {
          for (;;) writeSync(fd, chunk)
        } catch (e) {
          full = (e as NodeJS.ErrnoException).code === 'ENOSPC'
        } finally {
          closeSync(fd)
        }
        const holdMs = quick ? 2000 : 8000
        const errBefore = sys.stderr().length
        const died = await Promise.race([sys.exited.then((x) => x), sleep(holdMs).then(() => undefined)])
        unlinkSync(ballast)
        // What the system said while the disk was full (its stderr), if anything.
        const said = sys.stderr().slice(errBefore).trim().split('\n').filter(Boolean).slice(-1)[0]?.slice(0, 200)
        diskFull = full
          ? `injected for ${holdMs / 1000} s: ${died ? `the system exited (code ${died.code})` : 'the system kept running'}${said ? `; it said: ${said}` : '; nothing on its stderr'}`
          : 'could not fill the filesystem'
        // Without a restart, does the ingest store again? Either the log grows or every logger's buffer empties.
        if (!died) {
          const size = async () =>
            ((await http.req('GET', '/api/ledger', { cookie: sess.admin })).json as { size?: number } | undefined)
              ?.size ?? 0
          const s0 = await size()
          const recoverMs = quick ? 10_000 : 30_000
          try {
            const how = await until(
              'the ledger to store again after the disk was freed',
              recoverMs,
              async () => {
                if ((await size()) > s0) return 'the log grew again'
                const st = await fleet.ask({ type: 'status' }, 'status')
                return st.devices.every((d) => d.buffered === 0) ? 'every logger buffer drained' : false
              },
              500,
            )
            diskFull += `; recovered without a restart (${how})`
          } catch {
            diskFull += `; KNOWN FAILURE: the ingest stored nothing in the ${recoverMs / 1000} s after the disk was freed (it recovers at the next restart, and nothing is lost since the loggers keep their buffers)`
          }
        }
        bump('disk full, then freed')
      }
      const rest = until0 - Date.now()
      if (rest > 0) await sleep(rest)
      // SIGKILL: broker (its in-memory queue), ingest, ledger and dashboard go down together.
      peak.system = Math.max(peak.system, peakRssMiB(sys.child.pid))
      const alive = sys.child.exitCode === null && sys.child.signalCode === null
      if (alive) {
        sys.child.kill('SIGKILL')
        bump('system (broker + ingest) SIGKILL')
      } else events.push(`kill ${k}: the system had already exited: ${sys.stderr().trim().split('\n').slice(-1)[0]}`)
      await sys.exited
      const tk = Date.now()
      sys = await spawnSystem(sysDir, httpPort, mqttPort, graceMs)
      log(`restart took ${Date.now() - tk} ms`)
      http = httpClient(sys.url, tally, logins)
      sess = await sessions()
      bump('system restarted')
      if (k % 10 === 0 || quick) log(`kill ${k}/${kills} done`)
    }

    // The fleet finishes and every buffer drains (overflow gaps declared by the ingest).
    log('waiting for the fleet to finish and drain…')
    try {
      await until(
        'every device to finish and every buffer to drain',
        quick ? 120_000 : 600_000,
        async () => {
          const st = await fleet.ask({ type: 'status' }, 'status')
          return st.devices.every((d) => d.finished && d.buffered === 0)
        },
        500,
      )
    } catch (e) {
      const st = await fleet.ask({ type: 'status' }, 'status')
      failures.push(
        `${(e as Error).message}: ${st.devices
          .filter((d) => d.buffered > 0 || !d.finished)
          .map((d) => `${d.deviceId} ${d.buffered} buffered${d.finished ? '' : ', unfinished'}`)
          .join('; ')}`,
      )
    }
    // Verdicts as the dashboard shows them, as the regulator would read them.
    for (const s of shipments) {
      const res = await http.req('GET', `/api/shipments/${s.shipmentId}`, { cookie: sess.regulator })
      if (res.status !== 200) failures.push(`GET /api/shipments/${s.shipmentId} answered ${res.status}`)
    }
    peak.system = Math.max(peak.system, peakRssMiB(sys.child.pid))
    peak.fleet = peakRssMiB(fleet.child.pid)
    // A clean stop (SIGTERM); a stop that hangs is a finding, then forced.
    sys.child.kill('SIGTERM')
    const stopped = await Promise.race([sys.exited, sleep(30_000).then(() => undefined)])
    if (!stopped) {
      events.push('the system did not stop within 30 s of SIGTERM; killed')
      sys.child.kill('SIGKILL')
      await sys.exited
    }
    await fleet.ask({ type: 'stop' }, 'stopped')

    const ledgerDir = join(sysDir, 'ledger')
    const v = await runCli(['verify-ledger', ledgerDir, '--no-progress'], 600_000)
    verify = {
      exitCode: v.code,
      summary: (v.stdout + v.stderr)
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => /verif/i.test(l))
        .slice(0, 1)
        .join('')
        .slice(0, 160),
    }
    if (v.code !== 0)
      failures.push(`coldproof verify-ledger exited ${v.code}: ${(v.stdout + v.stderr).trim().slice(0, 400)}`)

    audited = await audit({ ledgerDir, fleetDir, fleetDevices, shipments: shipments.map((s) => s.shipmentId), sent })
    fileCases = await fileErrorCases(join(work, 'files'), ledgerDir, scenarioFile)
    for (const c of fileCases)
      if (!c.ok) failures.push(`file error "${c.name}" (${c.file}): ${c.why}; got: ${c.stderr}`)
  } finally {
    if (sys && sys.child.exitCode === null && sys.child.signalCode === null) {
      sys.child.kill('SIGKILL')
      await sys.exited
    }
    if (fleet.child.connected) fleet.child.kill('SIGKILL')
    if (mounted) {
      // The tmpfs goes away with the unmount: keep a copy of what it held.
      if (o.keep) {
        try {
          cpSync(sysDir, join(work, 'system-kept'), { recursive: true })
        } catch {
          /* reported by its absence */
        }
      }
      await new Promise((res) => spawn('umount', ['-l', sysDir]).on('close', res))
      mounted = false
    }
    if (!o.keep) rmSync(work, { recursive: true, force: true })
  }
  peak.suite = process.resourceUsage().maxRSS / 1024

  const a = audited!
  if (a.lost.length)
    failures.push(
      `LOSS: ${a.lost.length} reading(s) neither stored nor in a declared gap: ${a.lost
        .slice(0, 10)
        .map((l) => `${l.deviceId}#${l.seq}`)
        .join(', ')}`,
    )
  if (a.duplicates.length)
    failures.push(
      `${a.duplicates.length} reading(s) stored more than once: ${a.duplicates
        .slice(0, 5)
        .map((d) => `${d.deviceId}#${d.seq}×${d.count}`)
        .join(', ')}`,
    )
  if (a.mismatched.length) failures.push(`${a.mismatched.length} stored reading(s) differ from what the device signed`)
  if (a.unknownStored) failures.push(`${a.unknownStored} reading(s) in the log that no device signed as sent`)
  for (const vd of a.verdicts)
    if (!vd.equal)
      failures.push(
        `compliance result of ${vd.shipmentId} differs: ledger ${vd.ledger}, devices' records ${vd.reference}`,
      )
  if (a.rejected.unaccounted.length)
    failures.push(
      `${a.rejected.unaccounted.length} rejected message(s) accepted by the broker but neither quarantined nor counted: ${[...new Set(a.rejected.unaccounted.map((u) => u.kind))].join(', ')}`,
    )
  if (a.rejected.inLog) failures.push(`${a.rejected.inLog} rejected payload(s) found in the log`)
  if (tally.serverErrors.length)
    failures.push(
      `${tally.serverErrors.length} HTTP 5xx: ${tally.serverErrors
        .slice(0, 3)
        .map((e) => `${e.method} ${e.path} → ${e.status} ${e.body.slice(0, 100)}`)
        .join('; ')}`,
    )
  if (tally.roleBreaches.length)
    failures.push(
      `${tally.roleBreaches.length} request(s) served beyond the role: ${tally.roleBreaches
        .slice(0, 5)
        .map((b) => `${b.role} ${b.method} ${b.path} → ${b.status}`)
        .join('; ')}`,
    )
  if (Number(faults['system (broker + ingest) SIGKILL'] ?? 0) < kills)
    failures.push(`only ${faults['system (broker + ingest) SIGKILL'] ?? 0} of ${kills} kills hit a running system`)
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
