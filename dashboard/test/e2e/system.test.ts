/**
 * The whole system as `npm start` runs it (scripts/system.ts): embedded MQTT
 * broker, ingest, ledger, dashboard and the small demo fleet publishing
 * signed readings. In a real Chromium: log in with the printed demo login,
 * see the demo shipments, open one and watch a reading travel
 * device-sim -> broker -> ingest -> ledger -> live stream -> browser.
 */
import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startSystem, type RunningSystem } from '../../../scripts/system.ts'
import { ensureWebBuilt, launchBrowser, newWatchedPage, screenshot, skipReason } from './harness.ts'
import type { Browser } from 'playwright-core'

const skip = skipReason()
if (skip) {
  t.plan(0, skip)
} else {
  let sys: RunningSystem | undefined
  let browser: Browser | undefined
  let dataDir: string | undefined
  t.before(async () => {
    // Removed only after the system has stopped (t.testdir() would go first, under the running fleet).
    // startSystem serves the bundle `npm install` built; build it here in case the sources changed since.
    await ensureWebBuilt()
    dataDir = await mkdtemp(join(tmpdir(), 'coldproof-e2e-system-'))
    sys = await startSystem({ dataDir, httpPort: 0, mqttPort: 0, demo: 'small', quiet: true })
    browser = await launchBrowser()
  })
  t.teardown(async () => {
    await browser?.close()
    await sys?.close()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  t.test('a demo reading reaches the browser through the real pipeline', async (t) => {
    const { page, context, dialogs, errors } = await newWatchedPage(browser!)
    t.teardown(() => context.close())
    const { url } = sys!
    const logins = sys!.logins! // a demo start seeds the demo logins
    await page.goto(`${url}/`)
    await page.fill('#username', logins.operator.username)
    await page.fill('#password', logins.operator.password)
    await page.click('#login-submit')
    await page.waitForSelector('#fleet-rows tr[data-shipment-id]')
    await page.waitForSelector('#live[data-state="open"]')
    const ids = await page.$$eval('#fleet-rows tr[data-shipment-id]', (rows) =>
      rows.map((r) => (r as HTMLElement).dataset.shipmentId ?? ''),
    )
    const inLedger = sys!.ledger.shipments().map((s) => s.shipmentId)
    t.same([...ids].sort(), [...inLedger].sort(), 'the fleet lists every shipment in the ledger')
    t.ok(ids.length >= 3, `the small demo has at least three shipments (${ids.length})`)
    await screenshot(page, 'system-01-fleet')

    // Pick a shipment whose devices are publishing, then wait for the stream to deliver one of their readings.
    const id = ids.find((x) => x.length > 0)!
    await page.goto(`${url}/#/shipment/${encodeURIComponent(id)}`)
    await page.waitForSelector('#compliance dd')
    await page.waitForSelector('#live-reading[data-seq]', { timeout: 45_000 })
    const text = await page.textContent('#live-reading')
    const m = /([a-z0-9-]+) #(\d+): /.exec(text ?? '')
    t.ok(m, `a live reading is shown: ${text}`)
    if (m) {
      const stored = await sys!.ledger.readingsByDevice(m[1], Number(m[2]), Number(m[2]))
      t.equal(stored.length, 1, 'the reading shown is the one the ledger stored')
    }
    await screenshot(page, 'system-02-shipment', false)
    t.same(dialogs, [])
    t.same(errors, [], 'no console errors (CSP violations included)')
  })
}
