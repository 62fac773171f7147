/**
 * `coldproof report --bundle` and `coldproof verify-consistency` as child
 * processes against a real ledger directory: a locked ledger is reported
 * with the way out (--url/--token), a stopped one gives a bundle that
 * verifies; two checkpoints of the growing log are proven consistent with the
 * proof the ledger hands out, and an altered proof or a missing key is not.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { toBase64, fromBase64 } from '../../../ledger/protocol/index.ts'
import { buildBundle } from '../build.ts'
import { collectBundleInputs } from '../collect.ts'
import { verifyBundle } from '../verify.ts'
import { createBundleBuilder } from '../collect.ts'
import { buildDashboard } from '../../server/app.ts'
import { openUserStore } from '../../server/users.ts'
import { randomBytes } from 'node:crypto'
import { buildTrail, dev, type Trail } from './fixture.ts'

const exec = promisify(execFile)
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const cli = (...args: string[]) =>
  exec(process.execPath, [join(repo, 'bin', 'coldproof.js'), ...args], { cwd: repo }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  )

let trail: Trail
t.before(async () => {
  trail = await buildTrail()
})
t.teardown(() => trail?.close())

t.test('verify-consistency: the log only grew between two checkpoints', async (t) => {
  const dir = t.testdir()
  const key = trail.ledger.verifierKey
  const bundle = buildBundle(await collectBundleInputs(trail.ledger, trail.shipmentId)).json
  const oldFile = join(dir, 'old-bundle.json')
  await writeFile(oldFile, bundle)
  const oldSize = JSON.parse(bundle).checkpoint.split('\n')[1]
  await trail.ledger.registerDevice({ deviceId: 'bt-late-d', publicKey: dev('bt-late-d').publicKey, by: 'test' })
  const cp = (await trail.ledger.checkpoint())!
  const newFile = join(dir, 'new.note')
  await writeFile(newFile, cp.note)
  const proof = await trail.ledger.consistencyProof(Number(oldSize), cp.size)
  t.ok(proof.length > 0, 'a non-trivial proof')
  const proofFile = join(dir, 'proof.txt')
  await writeFile(proofFile, proof.map(toBase64).join('\n') + '\n')

  const ok = await cli('verify-consistency', oldFile, newFile, proofFile, '--key', key)
  t.equal(ok.code, 0, ok.stdout + ok.stderr)
  t.match(ok.stdout, new RegExp(`^CONSISTENT — the log of size ${oldSize} is a prefix of the log of size ${cp.size}`))
  const asJson = join(dir, 'proof.json')
  await writeFile(asJson, JSON.stringify({ from: Number(oldSize), to: cp.size, proof: proof.map(toBase64) }))
  t.equal(
    (await cli('verify-consistency', oldFile, newFile, asJson, '--key', key)).code,
    0,
    "the server's JSON answer is read too",
  )

  const h = fromBase64(toBase64(proof[0]))
  h[5] ^= 1
  const badFile = join(dir, 'bad.txt')
  await writeFile(badFile, [toBase64(h), ...proof.slice(1).map(toBase64)].join('\n'))
  const bad = await cli('verify-consistency', oldFile, newFile, badFile, '--key', key)
  t.equal(bad.code, 1)
  t.match(bad.stdout, /NOT VERIFIED[\s\S]*ERR_MERKLE_ROOT_MISMATCH/)
  const swapped = await cli('verify-consistency', newFile, oldFile, proofFile, '--key', key)
  t.equal(swapped.code, 1, 'new before old is refused')
  const nokey = await cli('verify-consistency', oldFile, newFile, proofFile)
  t.equal(nokey.code, 1)
  t.match(nokey.stdout, /NOT PINNED/)
})

t.test(
  'report --bundle --url --token: fetched from a running dashboard, checked against its hash header',
  async (t) => {
    const dir = t.testdir()
    const users = await openUserStore({
      file: join(dir, 'users.json'),
      seed: [{ username: 'rita', password: 'regulator-password-1', role: 'regulator' }],
    })
    const { token } = await users.createToken('rita', 'cli test')
    const app = await buildDashboard({
      ledger: trail.ledger,
      users,
      cookieSecret: randomBytes(32).toString('hex'),
      logger: false,
      bundle: createBundleBuilder(trail.ledger),
    })
    t.teardown(() => app.close())
    const url = await app.listen({ host: '127.0.0.1', port: 0 })
    const out = join(dir, 'bundle.json')
    const ok = await cli('report', trail.shipmentId, '--bundle', '--url', url, '--token', token, '--out', out)
    t.equal(ok.code, 0, ok.stderr)
    const r = await verifyBundle(await readFile(out), { trustedKey: trail.ledger.verifierKey })
    t.equal(r.result, 'VERIFIED')
    const denied = await cli('report', trail.shipmentId, '--bundle', '--url', url, '--out', out)
    t.equal(denied.code, 2)
    t.match(denied.stderr, /HTTP 401[\s\S]*--token/)
  },
)

t.test('report --bundle: a locked ledger says so; a stopped one gives a verifying bundle', async (t) => {
  const dir = t.testdir()
  const out = join(dir, 'bundle.json')
  const locked = await cli('report', trail.shipmentId, '--bundle', '--data', trail.dir, '--out', out)
  t.equal(locked.code, 2)
  t.match(
    locked.stderr,
    /is held by a running `coldproof start` and [\s\S]*add --url <its dashboard> --token <API token> instead of --data/,
  )
  t.equal((await cli('report', 'NOPE', '--bundle', '--data', dir)).code, 2, 'no ledger there')

  await trail.ledger.close()
  const ok = await cli('report', trail.shipmentId, '--bundle', '--data', trail.dir, '--out', out)
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stderr, /SHA-256 [0-9a-f]{64}/)
  const r = await verifyBundle(await readFile(out), {
    trustedKey: (await readFile(join(trail.dir, 'ledger', 'ledger.vkey'), 'utf8')).trim(),
  })
  t.equal(r.result, 'VERIFIED')
  t.equal(r.shipmentId, trail.shipmentId)
  const unknown = await cli('report', 'NOPE', '--bundle', '--data', trail.dir)
  t.equal(unknown.code, 2)
  t.match(unknown.stderr, /no shipment "NOPE"/)
})
