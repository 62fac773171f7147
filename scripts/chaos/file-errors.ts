/**
 * Damaged files: each must give a clear error naming the file and the
 * problem, from the CLI run as a child (no stack trace, a non-zero exit).
 */
import { spawn } from 'node:child_process'
import { cpSync, mkdirSync, readdirSync, statSync, truncateSync, writeFileSync, rmSync } from 'node:fs'
import { basename, join, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const BIN = join(ROOT, 'bin', 'coldproof.js')

export interface FileCase {
  name: string
  file: string
  exitCode: number | null
  stderr: string
  ok: boolean
  why?: string
}

export function runCli(
  args: string[],
  timeoutMs = 120_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (d) => {
      stdout += d
    })
    p.stderr.on('data', (d) => {
      stderr += d
    })
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs)
    p.on('close', (code) => {
      clearTimeout(t)
      res({ code, stdout, stderr })
    })
  })
}

/** A clear error: non-zero exit, the file named, the problem named, no stack trace. */
function judge(
  name: string,
  file: string,
  r: { code: number | null; stdout: string; stderr: string },
  problem: RegExp,
): FileCase {
  const out = r.stderr + r.stdout
  const why: string[] = []
  if (r.code === 0 || r.code === null) why.push(`exit code ${r.code}`)
  if (!out.includes(file) && !out.includes(basename(file))) why.push('the file is not named')
  if (!problem.test(out)) why.push(`the problem is not named (${problem})`)
  if (/\n\s+at .+:\d+:\d+\)?\n/.test(out)) why.push('a stack trace is printed')
  return {
    name,
    file,
    exitCode: r.code,
    stderr: out.trim().split('\n').slice(0, 3).join(' | ').slice(0, 300),
    ok: why.length === 0,
    ...(why.length ? { why: why.join('; ') } : {}),
  }
}

/** `ledgerDir`: a ledger (closed) to copy and damage. */
export async function fileErrorCases(work: string, ledgerDir: string, scenarioFile: string): Promise<FileCase[]> {
  const out: FileCase[] = []
  mkdirSync(work, { recursive: true })

  // A corrupted device key file.
  const simData = join(work, 'sim-keys')
  const first = await runCli(['sim', '--scenario', scenarioFile, '--data', simData, '--print-provisioning'])
  if (first.code !== 0) throw new Error(`coldproof sim --print-provisioning failed: ${first.stderr}`)
  const dev = readdirSync(simData).find((d) => statSync(join(simData, d)).isDirectory())!
  const keyFile = join(simData, dev, 'key.json')
  writeFileSync(keyFile, '{"v":1,"deviceId":"' + dev + '","secretKey":"zz')
  out.push(
    judge(
      'corrupted device key file',
      keyFile,
      await runCli(['sim', '--scenario', scenarioFile, '--data', simData, '--print-provisioning']),
      /ERR_KEY_FILE_INVALID|JSON/,
    ),
  )

  // The rest are independent of each other: run them side by side.
  const badJson = join(work, 'broken-scenario.json')
  writeFileSync(badJson, '{"name": "x", "shipments": [')
  const badField = join(work, 'bad-field-scenario.json')
  writeFileSync(
    badField,
    JSON.stringify({
      name: 'x',
      shipments: [
        {
          shipmentId: 's',
          product: 'p',
          storageClass: '2-8',
          route: { from: 'a', to: 'b' },
          devices: [{ deviceId: 'd' }],
          legs: [{ durationMin: -5, model: 'passive', insulationTauMin: 60, ambient: { meanC: 5 } }],
        },
      ],
    }),
  )
  const bundle = join(work, 'truncated-bundle.json')
  writeFileSync(bundle, '{"format":"coldproof-evidence-bundle","version":2,"entries":[{"index":')
  const notBundle = join(work, 'not-a-bundle.json')
  writeFileSync(notBundle, JSON.stringify({ hello: 'world' }))
  // A truncated ledger directory: the largest table file cut in half; and one without its CURRENT file.
  const cut = join(work, 'ledger-truncated')
  cpSync(ledgerDir, cut, { recursive: true })
  const db = readdirSync(cut).includes('db') ? join(cut, 'db') : cut
  const tables = readdirSync(db)
    .filter((f) => f.endsWith('.ldb') || f.endsWith('.log'))
    .map((f) => ({ f, s: statSync(join(db, f)).size }))
    .filter((x) => x.s > 0)
    .sort((a, b) => b.s - a.s)
  const victim = tables.length ? join(db, tables[0]!.f) : undefined
  if (victim) truncateSync(victim, Math.floor(tables[0]!.s / 2))
  const noCurrent = join(work, 'ledger-no-current')
  cpSync(ledgerDir, noCurrent, { recursive: true })
  const dbn = readdirSync(noCurrent).includes('db') ? join(noCurrent, 'db') : noCurrent
  rmSync(join(dbn, 'CURRENT'), { force: true })
  const cases: Promise<FileCase>[] = [
    runCli(['sim', '--scenario', badJson, '--data', join(work, 'sim2'), '--print-provisioning']).then((r) =>
      judge('scenario that is not JSON', badJson, r, /ERR_SCENARIO_INVALID|JSON/),
    ),
    runCli(['sim', '--scenario', badField, '--data', join(work, 'sim3'), '--print-provisioning']).then((r) =>
      judge('scenario with a negative leg duration', badField, r, /durationMin/),
    ),
    runCli(['verify', bundle]).then((r) => judge('truncated evidence bundle', bundle, r, /JSON|ERR_/)),
    runCli(['verify', notBundle]).then((r) =>
      judge('JSON that is not a bundle', notBundle, r, /format|ERR_|not a bundle/),
    ),
    runCli(['verify-ledger', noCurrent, '--no-progress']).then((r) =>
      judge('ledger directory without its CURRENT file', join(dbn, 'CURRENT'), r, /ERR_|missing|CURRENT/i),
    ),
  ]
  if (victim)
    cases.push(
      runCli(['verify-ledger', cut, '--no-progress']).then((r) =>
        judge('ledger with a table file cut in half', victim, r, /ERR_|truncat|corrupt|damaged|missing/i),
      ),
    )
  out.push(...(await Promise.all(cases)))
  return out
}
