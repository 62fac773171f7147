/**
 * The pre-built `coldproof verify` (scripts/build-cli.ts, scripts/built-cli.js):
 * built into a scratch folder, it gives exactly the output and exit code of
 * the TypeScript sources run through tsx, for a good bundle and for tampered
 * ones; bin/ takes it only while every source it was built from is unchanged.
 * Its worker threads (dashboard/evidence/verify-threads.ts) give the report a
 * single thread gives, good signatures and bad.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { fromBase64, toBase64, decodeReading, assemblePayload } from '../../ledger/protocol/index.ts'
import { canonicalJsonBytes } from '../../ledger/tlog/index.ts'
import { buildBundle } from '../../dashboard/evidence/build.ts'
import { collectBundleInputs } from '../../dashboard/evidence/collect.ts'
import type { EvidenceBundle } from '../../dashboard/evidence/format.ts'
import { verifyBundle } from '../../dashboard/evidence/verify.ts'
import { verifyThreads } from '../../dashboard/evidence/verify-threads.ts'
import { buildTrail, type Trail } from '../../dashboard/evidence/test/fixture.ts'
import { buildCli, CLI_MANIFEST } from '../build-cli.ts'
import { builtCommand } from '../built-cli.js'

const exec = promisify(execFile)
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const asDir = (p: string) => pathToFileURL(p + '/')
const found = (dist: string) => builtCommand('verify', { dist: asDir(dist) })?.href ?? null

let trail: Trail
let json: string
let dist: string
t.before(async () => {
  trail = await buildTrail()
  json = buildBundle(await collectBundleInputs(trail.ledger, trail.shipmentId)).json
  // Inside the repository (tap's fixtures folder), so the bundle's packages resolve from node_modules.
  dist = join(t.testdirName, 'dist')
  mkdirSync(dist, { recursive: true })
  await buildCli({ outdir: dist })
})
t.teardown(() => trail?.close())

/** A reading's signature with one bit flipped, and the claimed verdict changed: two ways a bundle is tampered. */
function tampered(): { badSignature: string; badClaim: string } {
  const b = JSON.parse(json) as EvidenceBundle
  const ref = b.chains[0].readings[3]
  const e = JSON.parse(new TextDecoder().decode(fromBase64(ref.entry)))
  const d = decodeReading(fromBase64(e.body.payload))
  const sig = d.signature.slice()
  sig[10] ^= 1
  e.body.payload = toBase64(assemblePayload(d.record, sig))
  ref.entry = toBase64(canonicalJsonBytes(e))
  const c = JSON.parse(json) as EvidenceBundle
  c.claimed.verdict = c.claimed.verdict === 'PASS' ? 'FAIL' : 'PASS'
  return { badSignature: JSON.stringify(b), badClaim: JSON.stringify(c) }
}

t.test('the build records every source it bundled, and bin/ finds it', async (t) => {
  const manifest = JSON.parse(readFileSync(join(dist, CLI_MANIFEST), 'utf8')) as {
    entry: string
    inputs: Record<string, string>
  }
  t.equal(manifest.entry, 'cli-verify.mjs')
  for (const f of [
    'scripts/cli-verify.ts',
    'scripts/commands/verify.ts',
    'dashboard/evidence/verify.ts',
    'dashboard/evidence/verify-thread.ts',
    'scripts/build-cli.ts',
  ])
    t.match(manifest.inputs[f], /^[0-9a-f]{64}$/, `${f} is recorded with its SHA-256`)
  t.notOk(
    Object.keys(manifest.inputs).some((p) => p.includes('node_modules')),
    'packages are not bundled: they load from node_modules',
  )
  t.equal(found(dist), pathToFileURL(join(dist, 'cli-verify.mjs')).href)
})

t.test('a stale or missing build is not used: bin/ runs the sources', async (t) => {
  const manifest = JSON.parse(readFileSync(join(dist, CLI_MANIFEST), 'utf8')) as { inputs: Record<string, string> }
  const stale = t.testdir()
  for (const f of ['cli-verify.mjs', 'verify-thread.mjs']) copyFileSync(join(dist, f), join(stale, f))
  // A source edited after the build: its hash no longer matches the one recorded.
  const edited = { ...manifest, inputs: { ...manifest.inputs, 'dashboard/evidence/verify.ts': '0'.repeat(64) } }
  writeFileSync(join(stale, CLI_MANIFEST), JSON.stringify(edited))
  t.equal(found(stale), null, 'an edited source')
  const gone = { ...manifest, inputs: { ...manifest.inputs, 'scripts/no-such-file.ts': '0'.repeat(64) } }
  writeFileSync(join(stale, CLI_MANIFEST), JSON.stringify(gone))
  t.equal(found(stale), null, 'a source that is no longer there')
  writeFileSync(join(stale, CLI_MANIFEST), '{"entry": "cli-verify.mjs", "inputs": {}}')
  t.equal(found(stale), null, 'a manifest that records nothing')
  writeFileSync(join(stale, CLI_MANIFEST), 'not json')
  t.equal(found(stale), null, 'an unreadable manifest')
  t.equal(found(t.testdir()), null, 'no build at all')
})

t.test('the bundled verify prints and exits exactly as the sources do', async (t) => {
  const dir = t.testdir()
  // The two ways bin/coldproof.js runs `verify`: the bundle, or the sources through tsx.
  writeFileSync(
    join(dir, 'bundled.mjs'),
    `const { main } = await import(${JSON.stringify(pathToFileURL(join(dist, 'cli-verify.mjs')).href)})\nawait main(process.argv)\n`,
  )
  writeFileSync(
    join(dir, 'sources.mjs'),
    `const { register } = await import('tsx/esm/api')\nregister()\nconst { main } = await import(${JSON.stringify(pathToFileURL(join(repo, 'scripts', 'cli.ts')).href)})\nawait main(process.argv)\n`,
  )
  const run = (runner: string, args: string[]) =>
    exec(process.execPath, [join(dir, runner), 'verify', ...args], { cwd: repo }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    )
  const { badSignature, badClaim } = tampered()
  writeFileSync(join(dir, 'good.json'), json)
  writeFileSync(join(dir, 'bad-signature.json'), badSignature)
  writeFileSync(join(dir, 'bad-claim.json'), badClaim)
  const key = trail.ledger.verifierKey
  const cases: [string, string[], number][] = [
    ['good bundle', [join(dir, 'good.json'), '--key', key], 0],
    ['good bundle, JSON, noble', [join(dir, 'good.json'), '--key', key, '--json', '--engine', 'noble'], 0],
    ['a reading signature altered', [join(dir, 'bad-signature.json'), '--key', key], 1],
    ['a reading signature altered, JSON', [join(dir, 'bad-signature.json'), '--key', key, '--json'], 1],
    ['the claimed verdict altered', [join(dir, 'bad-claim.json'), '--key', key], 1],
    ['no key', [join(dir, 'good.json')], 1],
    ['no such file', [join(dir, 'nope.json'), '--key', key], 2],
    ['bad engine', [join(dir, 'good.json'), '--engine', 'openssl'], 2],
    ['help', ['--help'], 0],
  ]
  for (const [what, args, code] of cases) {
    const [bundled, sources] = await Promise.all([run('bundled.mjs', args), run('sources.mjs', args)])
    // The bundle's own file names in a stack trace would differ; there must be none.
    t.same(bundled, sources, `${what}: same stdout, stderr and exit code`)
    t.equal(bundled.code, code, `${what}: exit ${code}`)
  }
})

t.test('signatures checked on worker threads give the single thread report', async (t) => {
  const spread = verifyThreads({ threads: 2, minItems: 0, workerUrl: pathToFileURL(join(dist, 'verify-thread.mjs')) })
  const { badSignature } = tampered()
  const key = trail.ledger.verifierKey
  for (const [what, bundle] of [
    ['good', json],
    ['a signature altered', badSignature],
  ])
    for (const engine of ['webcrypto', 'noble'] as const) {
      let calls = 0
      const counted: typeof spread = async (e, items, onDone) => {
        const r = await spread(e, items, onDone)
        if (r) calls++
        return r
      }
      const one = await verifyBundle(bundle, { trustedKey: key, engine })
      const many = await verifyBundle(bundle, { trustedKey: key, engine, spreadSignatures: counted })
      t.equal(calls, 1, `${what}, ${engine}: the workers checked the signatures`)
      t.same(many, one, `${what}, ${engine}: the same report`)
    }
})

t.test('without a built worker (TypeScript sources) the checks stay on this thread', async (t) => {
  const spread = verifyThreads({ minItems: 0 })
  t.equal(await spread('webcrypto', [], () => {}), null, 'the sources have no worker to start')
  const missing = verifyThreads({ minItems: 0, workerUrl: pathToFileURL(join(t.testdir(), 'nothing.mjs')) })
  const r = await verifyBundle(json, { trustedKey: trail.ledger.verifierKey, spreadSignatures: missing })
  t.equal(
    r.result,
    (await verifyBundle(json, { trustedKey: trail.ledger.verifierKey })).result,
    'a dead worker: same result',
  )
})
