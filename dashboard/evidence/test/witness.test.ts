/**
 * Witness cosignatures in evidence bundles: a real ledger wired to a real
 * witness (HTTP on 127.0.0.1) has its checkpoints cosigned; the bundle
 * carries the cosignature; `verifyBundle(..., { witnesses })` and
 * `coldproof verify --witness` accept it, and refuse a bundle whose
 * cosignature was altered (which verifies without --witness: only the
 * witness requirement catches it) or that lacks a required witness.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { fromBase64, toBase64 } from '../../../ledger/protocol/index.ts'
import { noblePublicKey } from '../../../ledger/protocol/test/support.ts'
import { witnessVerifierKey } from '../../../ledger/tlog/index.ts'
import { attachWitnesses } from '../../../ledger/witness/index.ts'
import { startWitness } from '../../../scripts/commands/witness.ts'
import { buildBundle } from '../build.ts'
import { collectBundleInputs } from '../collect.ts'
import { verifyBundle } from '../verify.ts'
import { buildTrail } from './fixture.ts'

const exec = promisify(execFile)
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const cli = (...args: string[]) =>
  exec(process.execPath, [join(repo, 'bin', 'coldproof.js'), ...args], { cwd: repo }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  )

t.test('a cosigned bundle verifies with --witness; an altered or missing cosignature does not', async (t) => {
  const trail = await buildTrail()
  const wdir = await mkdtemp(join(tmpdir(), 'coldproof-witness-bundle-'))
  const w = await startWitness({
    key: join(wdir, 'w.key'),
    name: 'witness.test/w1',
    log: [trail.ledger.verifierKey],
    state: join(wdir, 'state.json'),
    port: '0',
    host: '127.0.0.1',
  })
  const results: { ok: boolean; message: string }[] = []
  const attached = attachWitnesses(trail.ledger, [{ url: w.url, vkey: w.verifierKey }], (r) => results.push(r))
  // In this order: no cosignature is stored into a ledger directory once it is removed.
  t.teardown(async () => {
    attached.detach()
    await attached.idle()
    await w.close()
    await trail.close()
    await rm(wdir, { recursive: true, force: true })
  })

  // The shipment is closed; the next logged checkpoint is the one its frozen bundle is proven under.
  await trail.ledger.checkpoint()
  await attached.idle()
  t.match(results, [{ ok: true }], 'the witness cosigned the checkpoint')
  const plain = buildBundle(await collectBundleInputs(trail.ledger, trail.shipmentId)).json
  t.notMatch(
    (JSON.parse(plain) as { checkpoint: string }).checkpoint,
    /witness\.test/,
    'the frozen bundle carries no cosignature: its bytes never change',
  )
  const json = buildBundle(await collectBundleInputs(trail.ledger, trail.shipmentId, { cosigned: true })).json
  const bundle = JSON.parse(json) as { checkpoint: string }
  t.match(bundle.checkpoint, /\n\u2014 witness\.test\/w1 \S+\n$/, "the bundle's checkpoint carries the witness line")

  const trustedKey = trail.ledger.verifierKey
  const ok = await verifyBundle(json, { trustedKey, witnesses: [w.verifierKey] })
  t.equal(ok.result, 'VERIFIED')
  t.equal(typeof ok.cosignatures?.[0].timestamp, 'number')

  const other = witnessVerifierKey('witness.test/w2', noblePublicKey(new Uint8Array(32).fill(8)))
  const missing = await verifyBundle(json, { trustedKey, witnesses: [w.verifierKey, other] })
  t.equal(missing.result, 'NOT VERIFIED')
  t.same(
    missing.checks.find((c) => c.id === 'checkpoint')!.failures.map((f) => f.code),
    ['COSIGNATURE_MISSING'],
    'the witness that did not cosign is named',
  )

  const lines = bundle.checkpoint.split('\n')
  const at = lines.findIndex((l) => l.startsWith('\u2014 witness.test/w1 '))
  const sig = fromBase64(lines[at].split(' ')[2])
  sig[40] ^= 1
  lines[at] = `\u2014 witness.test/w1 ${toBase64(sig)}`
  const tampered = JSON.stringify({ ...JSON.parse(json), checkpoint: lines.join('\n') })
  t.equal(
    (await verifyBundle(tampered, { trustedKey })).result,
    'VERIFIED',
    'without a witness requirement the altered line is just an unknown signature',
  )
  const bad = await verifyBundle(tampered, { trustedKey, witnesses: [w.verifierKey] })
  t.equal(bad.result, 'NOT VERIFIED')
  t.same(
    bad.checks.find((c) => c.id === 'checkpoint')!.failures.map((f) => f.code),
    ['COSIGNATURE_INVALID'],
  )

  // The command line, as a regulator runs it.
  const dir = t.testdir()
  await writeFile(join(dir, 'ok.json'), json)
  await writeFile(join(dir, 'tampered.json'), tampered)
  await writeFile(join(dir, 'witness.vkey'), w.verifierKey + '\n')
  const good = await cli('verify', join(dir, 'ok.json'), '--key', trustedKey, '--witness', join(dir, 'witness.vkey'))
  t.equal(good.code, 0, good.stdout + good.stderr)
  t.match(good.stdout, /cosigned by witness witness\.test\/w1/)
  const refused = await cli('verify', join(dir, 'tampered.json'), '--key', trustedKey, '--witness', w.verifierKey)
  t.equal(refused.code, 1)
  t.match(refused.stdout, /COSIGNATURE_INVALID/)
  const badKey = await cli('verify', join(dir, 'ok.json'), '--key', trustedKey, '--witness', trustedKey)
  t.equal(badKey.code, 2, 'a log key given as a witness key is a usage error')
})
