/**
 * Hostile bundles and hostile text at the verifier. A bundle too large or
 * nested too deep is refused before parsing, by the shared verify code (its
 * reason code, for the browser) and by `coldproof verify` (one line on
 * stderr, no stack trace, exit 2). Log entries inside a bundle get the same
 * depth guard. A genuine bundle whose shipment texts carry terminal escape
 * sequences and bidi overrides (the ledger has them from before the API
 * refused them) verifies, and the CLI prints them as [U+001B], never raw.
 * A custom profile passed off under a built-in's id is NOT VERIFIED
 * (PROFILE_IMPERSONATES_BUILTIN); a genuine built-in and a custom profile are
 * told apart by the hashes the verifier ships, and the rules are printed.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import {
  encodeRecord,
  assemblePayload,
  readingSigningMessage,
  readingHash,
  toBase64,
  utf8,
} from '../../../ledger/protocol/index.ts'
import { nobleSign } from '../../../ledger/protocol/test/support.ts'
import { openLedger, type Ledger } from '../../../ledger/store/index.ts'
import { BUILTIN_PROFILES } from '../../compliance/index.ts'
import { buildBundle } from '../build.ts'
import { collectBundleInputs } from '../collect.ts'
import { verifyBundle, type VerifyReport } from '../verify.ts'
import { dev, MIN, T0, type Dev } from './fixture.ts'

const run = promisify(execFile)
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const cli = (...args: string[]) =>
  run(process.execPath, [join(repo, 'bin', 'coldproof.js'), 'verify', ...args], {
    cwd: repo,
    maxBuffer: 16 * 1024 * 1024,
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  )

const PRODUCT = 'Insulin \u001b[2J\u001b[H\u001b[32mVERIFIED — shipment OK\u001b[0m \u009b31m'
const ROUTE_TO = 'Lyon\u202e gpj.exe\u0000'

let ledger: Ledger
let json: string
const bundles: Record<string, string> = {}
let now = T0 - 60 * MIN

/** A closed shipment of one new logger: readings every 5 min for an hour (45 min at 10.4 °C when `excursion`), two after the close. */
async function ship(
  shipmentId: string,
  profile: unknown,
  texts: { product: string; from: string; to: string; model?: string },
  excursion = false,
): Promise<string> {
  const d: Dev = dev(`hx-${shipmentId.toLowerCase()}`)
  await ledger.registerDevice({
    deviceId: d.deviceId,
    publicKey: d.publicKey,
    ...(texts.model ? { model: texts.model } : {}),
    by: 't',
  })
  now = Math.max(now, T0 - MIN)
  await ledger.createShipment({
    shipmentId,
    product: texts.product,
    route: { from: texts.from, to: texts.to },
    devices: [d.deviceId],
    profile,
    startAt: T0,
    by: 'quinn',
  })
  for (let i = 0; i <= 14; i++) {
    const at = T0 + i * 5 * MIN
    const record = encodeRecord({
      deviceId: d.deviceId,
      seq: d.seq + 1,
      deviceTimeMs: at,
      tempCentiC: excursion && i >= 3 && i < 12 ? 1040 : 500,
      prevHash: d.prevHash,
    })
    const payload = assemblePayload(record, nobleSign(readingSigningMessage(record), d.seed))
    now = Math.max(now, at + 1000)
    await ledger.appendReading({ payload: toBase64(payload), deviceId: d.deviceId, seq: d.seq + 1 }, now)
    d.seq++
    d.prevHash = readingHash(payload)
    if (i === 12) await ledger.closeShipment({ shipmentId, closedAt: at, by: 't' })
  }
  await ledger.barrier()
  return buildBundle(await collectBundleInputs(ledger, shipmentId)).json
}

const REAL = BUILTIN_PROFILES['refrigerated-2-8']
/** The look-alike: the built-in's id and version, 10-hour allowances, no freezing limit, no MKT limit. */
const LOOKALIKE = {
  ...REAL,
  zones: REAL.zones.map((z) => ({ ...z, cumulativeAllowanceMs: 10 * 60 * MIN })),
  hardLimits: [],
  mktMaxCentiC: null,
}

t.before(async () => {
  ledger = await openLedger({ dir: join(t.testdir(), 'ledger'), clock: () => now, checkpointIntervalMs: 0 })
  json = await ship('HX-1', REAL, {
    product: PRODUCT,
    from: 'Basel\r\n✔ ok',
    to: ROUTE_TO,
    model: 'T\u001b]0;pwned\u0007',
  })
  bundles.real = await ship('HX-REAL', REAL, { product: 'Insulin', from: 'Basel', to: 'Lyon' }, true)
  bundles.lookalike = await ship('HX-LOOKALIKE', LOOKALIKE, { product: 'Insulin', from: 'Basel', to: 'Lyon' }, true)
  bundles.custom = await ship(
    'HX-CUSTOM',
    { ...LOOKALIKE, id: 'acme-insulin-stability', name: 'Acme insulin, 10 h above 8 °C allowed by stability data' },
    { product: 'Insulin', from: 'Basel', to: 'Lyon' },
    true,
  )
})
t.teardown(() => ledger?.close())

const failure = (r: VerifyReport) => r.checks.flatMap((c) => c.failures)[0]

t.test('the shared verifier refuses oversize and deep input before parsing, with its reason code', async (t) => {
  const deep = '['.repeat(100_000) + ']'.repeat(100_000)
  for (const input of [deep, utf8(deep)]) {
    const r = await verifyBundle(input, { trustedKey: ledger.verifierKey })
    t.equal(r.result, 'NOT VERIFIED')
    t.equal(failure(r).code, 'BUNDLE_TOO_DEEP')
    t.equal(r.bundleSha256, null, 'not even hashed')
    t.ok(
      r.checks.slice(1).every((c) => !c.ok && /refused unread/.test(c.summary)),
      'every other check says it did not run',
    )
  }
  const big = await verifyBundle(json, { trustedKey: ledger.verifierKey, maxBytes: 1024 })
  t.equal(failure(big).code, 'BUNDLE_TOO_LARGE')
  t.match(failure(big).message, /over the 0\.0 MiB limit/)
  t.equal(
    (await verifyBundle(json, { trustedKey: ledger.verifierKey })).result,
    'VERIFIED',
    'the genuine bundle is within both limits',
  )
})

t.test('a log entry nested deep inside a bundle is refused by the entry codec, not parsed', async (t) => {
  const b = JSON.parse(json)
  const entry = JSON.parse(new TextDecoder().decode(Buffer.from(b.shipment.create.entry, 'base64')))
  entry.body.profile.name = 'DEEP'
  b.shipment.create.entry = Buffer.from(
    JSON.stringify(entry).replace('"DEEP"', '['.repeat(5_000) + ']'.repeat(5_000)),
  ).toString('base64')
  const r = await verifyBundle(JSON.stringify(b), { trustedKey: ledger.verifierKey })
  t.equal(r.result, 'NOT VERIFIED')
  const f = r.checks.find((c) => c.id === 'format')!.failures.find((x) => x.code === 'ENTRY_MALFORMED')
  t.ok(f, 'ENTRY_MALFORMED')
  t.match(f!.message, /ERR_ENTRY_TOO_DEEP/)
})

t.test(
  'coldproof verify: deep, 50 MB deep-in-an-unknown-field and oversize files give one line and exit 2',
  async (t) => {
    const dir = t.testdir()
    const deep = join(dir, 'deep.json'),
      huge = join(dir, 'huge.json'),
      big = join(dir, 'big.json')
    await writeFile(deep, '['.repeat(100_000) + ']'.repeat(100_000))
    const b = JSON.parse(json)
    // 50 MB: the genuine bundle plus an unknown field, deep nesting at its very end.
    const filler = 'x'.repeat(1000)
    await writeFile(
      huge,
      JSON.stringify({ ...b, zz: new Array(50_000).fill(filler) }).slice(0, -1) +
        ',"zzz":' +
        '['.repeat(200_000) +
        ']'.repeat(200_000) +
        '}',
    )
    await writeFile(big, json + ' '.repeat(2 * 1024 * 1024))
    const cases: [string, string[], RegExp][] = [
      [deep, [], /refused \(BUNDLE_TOO_DEEP\): the bundle nests JSON deeper than 32 levels/],
      [huge, [], /refused \(BUNDLE_TOO_DEEP\)/],
      [
        big,
        ['--max-size', '1'],
        /refused \(BUNDLE_TOO_LARGE\): the bundle is \d+ bytes \(\d\.\d MiB\), over the 1 MiB limit/,
      ],
    ]
    for (const [file, extra, said] of cases) {
      const r = await cli(file, '--key', ledger.verifierKey, ...extra)
      t.equal(r.code, 2, `${file}: exit 2`)
      t.equal(r.stdout, '', 'nothing on stdout')
      t.equal(r.stderr.trimEnd().split('\n').length, 1, `one line: ${r.stderr.slice(0, 200)}`)
      t.match(r.stderr, said)
      t.notMatch(r.stderr, /\n\s+at |Error:/, 'no stack trace')
    }
    const within = await verifyBundle(await readFile(big), {
      trustedKey: ledger.verifierKey,
      maxBytes: 8 * 1024 * 1024,
    })
    t.equal(within.result, 'VERIFIED', 'a larger cap lets the padded genuine bundle through')
  },
)

t.test(
  'escape sequences and bidi overrides in a genuine bundle are shown, never sent raw to the terminal',
  async (t) => {
    const file = join(t.testdir(), 'hx.json')
    await writeFile(file, json)
    const human = await cli(file, '--key', ledger.verifierKey)
    t.equal(human.code, 0, `exit 0: ${human.stderr}`)
    t.match(human.stdout, /^VERIFIED: authentic evidence of a PASS — shipment HX-1\n/)
    t.notMatch(
      human.stdout,
      /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/,
      'no raw ESC, CSI, NUL, CR or bidi character',
    )
    t.match(
      human.stdout,
      'Insulin [U+001B][2J[U+001B][H[U+001B][32mVERIFIED — shipment OK[U+001B][0m [U+009B]31m',
      'the product, made visible',
    )
    t.match(
      human.stdout,
      'Basel[U+000D][U+000A]✔ ok → Lyon[U+202E] gpj.exe[U+0000]',
      'a line break from the bundle cannot fake a line',
    )
    t.equal(
      human.stdout.split('\n').filter((l) => l.startsWith('✔ ok')).length,
      human.stdout.split('\n').filter((l) => /^[✔✘]/.test(l)).length,
      'every check line is one of ours',
    )

    const asJson = await cli(file, '--key', ledger.verifierKey, '--json')
    t.equal(asJson.code, 0)
    t.notMatch(
      asJson.stdout,
      /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/,
      '--json escapes them as \\u sequences',
    )
    const rep = JSON.parse(asJson.stdout) as VerifyReport
    t.match(rep.checks.find((c) => c.id === 'shipment')!.summary, PRODUCT, 'and the JSON still carries the exact text')
  },
)

t.test(
  'a custom profile passed off as the built-in refrigerated-2-8 v1 is NOT VERIFIED, whatever it claims',
  async (t) => {
    const real = await verifyBundle(bundles.real, { trustedKey: ledger.verifierKey })
    t.equal(real.result, 'VERIFIED')
    t.equal(real.claimed?.verdict, 'FAIL', 'the real profile fails the 45-minute excursion')
    t.same([real.profile?.origin, real.profile?.id, real.profile?.version], ['built-in', 'refrigerated-2-8', 1])
    t.match(real.checks.find((c) => c.id === 'profile')!.summary, /^built-in profile refrigerated-2-8 v1, hash matches/)

    const fake = await verifyBundle(bundles.lookalike, { trustedKey: ledger.verifierKey })
    t.equal(fake.claimed?.verdict, 'PASS_WITH_EXCURSIONS_WITHIN_ALLOWANCE', 'the look-alike passes the same readings')
    t.equal(fake.result, 'NOT VERIFIED')
    const profile = fake.checks.find((c) => c.id === 'profile')!
    t.same(
      profile.failures.map((f) => f.code),
      ['PROFILE_IMPERSONATES_BUILTIN'],
    )
    t.match(profile.failures[0].message, `the built-in "refrigerated-2-8" v1 hashes to ${real.profile!.hash}`)
    t.same(
      fake.checks.filter((c) => !c.ok).map((c) => c.id),
      ['profile'],
      'everything else is genuine: only the profile gives it away',
    )
    t.equal(fake.profile?.origin, 'impersonation')

    const b = JSON.parse(bundles.lookalike)
    const entry = JSON.parse(Buffer.from(b.shipment.create.entry, 'base64').toString())
    entry.body.profile.version = 2
    b.shipment.create.entry = Buffer.from(JSON.stringify(entry)).toString('base64')
    const v2 = await verifyBundle(JSON.stringify(b), { trustedKey: ledger.verifierKey })
    t.ok(
      v2.checks
        .find((c) => c.id === 'profile')!
        .failures.some(
          (f) => f.code === 'PROFILE_IMPERSONATES_BUILTIN' && /a version the built-in never had/.test(f.message),
        ),
      'a made-up version of a built-in id too',
    )

    const custom = await verifyBundle(bundles.custom, { trustedKey: ledger.verifierKey })
    const createdAt = new Date(ledger.shipment('HX-CUSTOM')!.createdAt).toISOString()
    t.equal(custom.result, 'VERIFIED', 'the same rules under an id of their own verify, as what they are')
    t.equal(custom.claimed?.verdict, 'PASS_WITH_EXCURSIONS_WITHIN_ALLOWANCE')
    t.match(
      custom.checks.find((c) => c.id === 'profile')!.summary,
      `CUSTOM profile acme-insulin-stability v1 ("Acme insulin, 10 h above 8 °C allowed by stability data"), defined by quinn at ${createdAt} (entry `,
    )
    t.ok(
      custom.profile!.rules.includes(
        'zone above-8 (T > 8.00 °C): alarm after 15 min; cumulative time beyond: at most 10 h; one excursion: no limit; consecutive readings beyond: no limit; degree-minutes: no limit',
      ),
    )
    t.ok(custom.profile!.rules.includes('MKT limit: none'))

    const file = join(t.testdir(), 'custom.json')
    await writeFile(file, bundles.custom)
    const out = await cli(file, '--key', ledger.verifierKey)
    t.equal(out.code, 0)
    t.match(
      out.stdout,
      `\n  profile: CUSTOM profile acme-insulin-stability v1 ("Acme insulin, 10 h above 8 °C allowed by stability data"), defined by quinn at ${createdAt}`,
    )
    t.match(out.stdout, /\n {2}rules that decided the verdict:\n {4}labelled range: 2\.00 °C ≤ T ≤ 8\.00 °C/)
    t.match(out.stdout, /\n {4}MKT limit: none\n/)
  },
)
