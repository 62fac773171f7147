/**
 * The regulator's browser verifier must recompute the same result as the server:
 * the engine is bundled for the browser (esbuild), run in a real Chromium, and its
 * canonical results are compared byte for byte with Node's on generated shipments.
 */
import t from 'tap'
import { existsSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import fc from 'fast-check'
import { chromium } from 'playwright-core'
import { evaluateShipment } from './shipment.ts'
import { BUILTIN_PROFILES } from './builtin-profiles.ts'
import { profileHash } from './profile.ts'
import { canonicalJson } from '../../ledger/tlog/index.ts'
import { T0, MIN } from './test/helpers.ts'
import type { EngineReading } from './engine.ts'

const CHROMIUM = '/usr/bin/chromium'
const here = dirname(fileURLToPath(import.meta.url))

const skip = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is not installed; the browser cross-check needs a real Chromium`
t.test('the browser computes byte-identical results', { skip }, async (t) => {
  const bundle = await build({
    stdin: {
      contents: "export * from './index.ts'\nexport { canonicalJson } from '../../ledger/tlog/index.ts'\n",
      resolveDir: here,
      loader: 'ts',
    },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'Compliance',
    write: false,
    logLevel: 'silent',
  })
  const ids = Object.keys(BUILTIN_PROFILES) as (keyof typeof BUILTIN_PROFILES)[]
  // Shipments with many distinct temperatures, so MKT rounding and the exp/ln path are exercised.
  const shipments = fc
    .sample(
      fc.record({
        profile: fc.constantFrom(...ids),
        temps: fc.array(fc.integer({ min: -1200, max: 1200 }), { minLength: 1, maxLength: 300, size: 'max' }),
        gaps: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 300, maxLength: 300 }),
      }),
      { numRuns: 40, seed: 20260101 },
    )
    .map(({ profile, temps, gaps }) => {
      const p = BUILTIN_PROFILES[profile]
      const centre =
        ((p.range.lowCentiC ?? p.range.highCentiC! - 1000) + (p.range.highCentiC ?? p.range.lowCentiC! + 1000)) >> 1
      let time = T0
      const seqs = new Map<string, number>()
      const readings: EngineReading[] = temps.map((d, i) => {
        time += gaps[i] * MIN
        const deviceId = i % 3 === 0 ? 'dev-x' : 'dev-y' // two loggers, sequence numbers ascending with time
        const seq = (seqs.get(deviceId) ?? 0) + 1
        seqs.set(deviceId, seq)
        return { deviceId, seq, deviceTimeMs: time, tempCentiC: centre + d }
      })
      return { profile: p, profileHash: profileHash(p), window: { startMs: T0, endMs: time + 10 * MIN }, readings }
    })
  const inNode = shipments.map((s) => canonicalJson(evaluateShipment(s)))

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
  })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  await page.setContent('<!doctype html><title>compliance</title>')
  await page.addScriptTag({ content: bundle.outputFiles[0].text })
  const inBrowser = await page.evaluate(
    (all) => {
      const C = (globalThis as any).Compliance
      return all.map((s: unknown) => C.canonicalJson(C.evaluateShipment(s)))
    },
    JSON.parse(JSON.stringify(shipments)),
  )
  t.equal(inBrowser.length, inNode.length)
  let same = 0
  inNode.forEach((n, i) => {
    if (n === inBrowser[i]) same++
    else t.equal(inBrowser[i], n, `shipment ${i}`)
  })
  t.equal(same, inNode.length, `${same} of ${inNode.length} results identical`)
  t.ok(new Set(inNode.map((s) => JSON.parse(s).verdict)).size >= 2, 'the sample covers more than one verdict')
})
