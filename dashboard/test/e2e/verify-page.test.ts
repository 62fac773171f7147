/**
 * The Verify page in a real Chromium: a bundle file picked on the page is
 * checked in the browser by dashboard/evidence/verify.ts, with the ledger key
 * pinned from the server, and gives the same verdict and the same check
 * results as `coldproof verify` (a child process) — for the good bundle and
 * for a tampered one. Nothing is sent to the server while verifying.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { randomBytes } from 'node:crypto'
import type { Browser } from 'playwright-core'
import type { FastifyInstance } from 'fastify'
import { buildDashboard } from '../../server/app.ts'
import { openUserStore } from '../../server/users.ts'
import { createBundleBuilder } from '../../evidence/collect.ts'
import type { VerifyReport } from '../../evidence/verify.ts'
import { buildTrail, type Trail } from '../../evidence/test/fixture.ts'
import { buildPartitionedTrail } from '../../evidence/test/partitioned-fixture.ts'
import {
  ensureWebBuilt,
  launchBrowser,
  login,
  LOGINS,
  newWatchedPage,
  screenshot,
  skipReason,
  type RoleName,
} from './harness.ts'

const run = promisify(execFile)
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const skip = skipReason()

if (skip) {
  t.plan(0, skip)
} else {
  let trail: Trail, app: FastifyInstance, url: string, browser: Browser, dir: string
  t.before(async () => {
    await ensureWebBuilt()
    trail = await buildTrail()
    dir = await mkdtemp(join(tmpdir(), 'coldproof-verify-page-'))
    const users = await openUserStore({
      file: join(dir, 'users.json'),
      seed: (Object.keys(LOGINS) as RoleName[]).map((role) => ({ ...LOGINS[role], role })),
    })
    app = await buildDashboard({
      ledger: trail.ledger,
      users,
      cookieSecret: randomBytes(32).toString('hex'),
      logger: false,
      bundle: createBundleBuilder(trail.ledger),
    })
    url = await app.listen({ host: '127.0.0.1', port: 0 })
    browser = await launchBrowser()
  })
  t.teardown(async () => {
    await browser?.close()
    await app?.close()
    await trail?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  const cli = async (file: string): Promise<{ code: number; report: VerifyReport }> => {
    const r = await run(
      process.execPath,
      [join(repo, 'bin', 'coldproof.js'), 'verify', file, '--key', trail.ledger.verifierKey, '--json'],
      { cwd: repo },
    ).then(
      (x) => ({ code: 0, stdout: x.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
    )
    return { code: r.code, report: JSON.parse(r.stdout) }
  }

  t.test("the Verify page gives the CLI's verdict, in the browser, for a good and a tampered bundle", async (t) => {
    const { json } = await createBundleBuilder(trail.ledger)(trail.shipmentId)
    const good = join(dir, 'good-bundle.json'),
      bad = join(dir, 'tampered-bundle.json')
    const tampered = JSON.parse(json)
    tampered.chains[0].readings.splice(12, 1) // a reading dropped from the middle
    await writeFile(good, json)
    await writeFile(bad, JSON.stringify(tampered))

    const { page, context, errors } = await newWatchedPage(browser)
    t.teardown(() => context.close())
    await login(page, url, 'regulator')
    await page.goto(`${url}/#/verify`)
    await page.waitForSelector('#verify-key-source:text("Pinned from this server")')
    t.equal(await page.inputValue('#verify-key'), trail.ledger.verifierKey, 'the key is prefilled from /api/ledger')

    const sent: string[] = []
    page.on('request', (r) => {
      if (r.method() !== 'GET') sent.push(`${r.method()} ${r.url()}`)
    })
    for (const [file, want] of [
      [good, 'VERIFIED'],
      [bad, 'NOT VERIFIED'],
    ] as const) {
      const c = await cli(file)
      t.equal(c.report.result, want, `CLI: ${want}`)
      t.equal(c.code, want === 'VERIFIED' ? 0 : 1)
      await page.setInputFiles('#verify-file', file)
      await page.waitForSelector(`#verify-result[data-result="${want}"]`, { timeout: 30_000 })
      // Authentic and verdict in one sentence: the trail's genuine bundle is authentic evidence of a FAIL, shown red.
      const tone = await page.getAttribute('#verify-result', 'data-tone')
      const said = await page.textContent('#verify-headline')
      if (want === 'VERIFIED') {
        t.equal(tone, 'fail')
        t.equal(said, 'VERIFIED: authentic evidence of a FAIL')
      } else {
        t.equal(tone, 'unverified')
        t.match(said, /^NOT VERIFIED: the evidence is not authentic or not complete/)
      }
      t.match(
        await page.textContent('#verify-profile-line'),
        /^built-in profile refrigerated-2-8 v1, hash matches/,
        'the profile, by the shipped hash',
      )
      t.ok(
        (await page.$$eval('#verify-rules li', (els) => els.map((e) => e.textContent))).includes(
          'MKT limit: at most 8.00 °C',
        ),
        'the rules that decided the verdict',
      )
      const checks = await page.$$eval('#verify-checks > li', (els) =>
        els.map((e) => [(e as HTMLElement).dataset.checkId, (e as HTMLElement).dataset.ok === 'true']),
      )
      t.same(
        checks,
        c.report.checks.map((x) => [x.id, x.ok]),
        `the page shows the CLI's checks (${want})`,
      )
      const codes = await page.$$eval('#verify-checks li[data-code]', (els) =>
        els.map((e) => (e as HTMLElement).dataset.code),
      )
      t.same(
        codes,
        c.report.checks.flatMap((x) => x.failures.slice(0, 20).map((f) => f.code)),
        'and the same reason codes',
      )
      t.equal(await page.textContent('#verify-sha256'), c.report.bundleSha256, 'same bundle hash')
      await screenshot(page, want === 'VERIFIED' ? 'verify-good' : 'verify-tampered')
      await page.setInputFiles('#verify-file', [])
    }
    t.same(sent, [], 'nothing was sent to the server while verifying')
    t.same(errors, [], 'no page errors')
  })

  t.test(
    'the Verify page accepts a partitioned bundle (version 3) under the pasted root key, and refuses one with a partition left out',
    async (t) => {
      const pt = await buildPartitionedTrail(join(dir, 'cluster-data'))
      t.teardown(() => pt.close())
      const good = join(dir, 'partitioned-bundle.json'),
        bad = join(dir, 'partitioned-dropped.json')
      const dropped = JSON.parse(pt.json)
      dropped.partitions.pop()
      await writeFile(good, pt.json)
      await writeFile(bad, JSON.stringify(dropped))
      const { page, context, errors } = await newWatchedPage(browser)
      t.teardown(() => context.close())
      await login(page, url, 'regulator')
      await page.goto(`${url}/#/verify`)
      await page.waitForSelector('#verify-key-source:text("Pinned from this server")')
      // This dashboard is not the cluster's: the regulator pastes the root log's key obtained separately.
      await page.fill('#verify-key', pt.root.verifierKey)
      await page.setInputFiles('#verify-file', good)
      await page.waitForSelector('#verify-result[data-result="VERIFIED"]', { timeout: 30_000 })
      t.equal(await page.textContent('#verify-headline'), 'VERIFIED: authentic evidence of a FAIL')
      t.match(
        await page.textContent('#verify-partitions'),
        /^p0: pt\.local\/p0 size \d+; p1: pt\.local\/p1 size \d+$/,
        'each partition log is shown',
      )
      await page.setInputFiles('#verify-file', [])
      await page.setInputFiles('#verify-file', bad)
      await page.waitForSelector('#verify-result[data-result="NOT VERIFIED"]', { timeout: 30_000 })
      t.ok(await page.$('#verify-checks li[data-code="PARTITION_MISSING"]'), 'the dropped partition is named')
      t.same(errors, [], 'no page errors')
    },
  )
}
