/**
 * The shipment lifecycle in a real Chromium against the real server and ledger:
 * a logger's readings arrive first; the operator creates its shipment from a
 * previous one as the template (a wrong SSCC check digit is refused next to
 * the field), and its alarms show at once; then assigns another logger and
 * receives the consignment with an electronic signature (a wrong password is
 * refused). Screenshots at 1440 and 390 px go to test-output/screenshots/.
 */
import t from 'tap'
import { appendSigned, simDevice } from './seed.ts'
import { join } from 'node:path'
import { LOGINS, SCREENSHOT_DIR, login, newWatchedPage, screenshot, skipReason, useSceneSystem } from './harness.ts'

const MIN = 60_000
const skip = skipReason()
if (skip) {
  t.plan(0, skip)
} else {
  const env = useSceneSystem(t)

  t.test(
    'operator: create a shipment from a template, see its alarms at once, assign a logger, receive with a signature',
    async (t) => {
      const sys = env.sys
      // Readings first: a new logger, hot (12 °C) for 40 of the last 60 min, in no shipment yet.
      const fresh = simDevice('e2e-new-1')
      await sys.ledger.registerDevice({
        deviceId: fresh.deviceId,
        publicKey: fresh.publicKey,
        model: 'TempLog 4',
        by: 'e2e',
      })
      const spare = simDevice('e2e-spare-1')
      await sys.ledger.registerDevice({
        deviceId: spare.deviceId,
        publicKey: spare.publicKey,
        model: 'TempLog 4',
        by: 'e2e',
      })
      const now = Date.now()
      const start = Math.floor((now - 65 * MIN) / MIN) * MIN
      for (let i = 0; i <= 12; i++)
        await appendSigned(sys.ledger, fresh, now - (60 - i * 5) * MIN, i >= 2 && i < 10 ? 1200 : 500, now)

      const { page, context, dialogs, errors } = await newWatchedPage(env.browser, { width: 1440, height: 900 })
      t.teardown(() => context.close())
      await login(page, sys.url, 'operator')
      await page.waitForSelector('#fleet-rows tr[data-shipment-id="E2E-FRIDGE-1"]')
      await page.click('#new-shipment')
      await page.waitForURL(/#\/new-shipment$/)
      await page.waitForSelector('#ns-template option[value="E2E-FRIDGE-1"]', { state: 'attached' })
      await page.waitForSelector('#ns-loggers input[value="e2e-new-1"]')

      // The template copies product, profile, route, loggers and the GS1 product data (never the SSCC).
      await page.selectOption('#ns-template', 'E2E-FRIDGE-1')
      await page.waitForFunction(() => (document.querySelector('#ns-product') as HTMLInputElement).value !== '')
      t.equal(await page.inputValue('#ns-product'), 'Insulin glargine 100 U/ml', 'product from the template')
      t.equal(await page.inputValue('#ns-profile'), 'refrigerated-2-8', 'profile from the template')
      t.ok(await page.isChecked('#ns-loggers input[value="e2e-fridge-a1"]'), 'its loggers are chosen')
      t.equal(await page.inputValue('#ns-sscc'), '', "the SSCC is the new unit's own")

      await page.fill('#ns-id', 'E2E-NEW-1')
      await page.fill('#ns-to', 'Lyon hospital pharmacy')
      for (const id of ['e2e-fridge-a1', 'e2e-fridge-a2'])
        if (await page.isChecked(`#ns-loggers input[value="${id}"]`))
          await page.uncheck(`#ns-loggers input[value="${id}"]`)
      await page.check('#ns-loggers input[value="e2e-new-1"]')
      await page.fill('#ns-start', new Date(start).toISOString().slice(0, 16))
      await page.fill('#ns-gtin', '09506000134352')
      await page.fill('#ns-lot', 'LOT-E2E-7')
      await page.fill('#ns-expiry', '2028-03-31')
      // A wrong check digit: the server's message shows under the SSCC field.
      await page.fill('#ns-sscc', '106141419990000017')
      await page.click('#ns-submit')
      await page.waitForSelector('#ns-sscc-error:not([hidden])')
      t.match(
        await page.textContent('#ns-sscc-error'),
        /check digit 7, expected 6/,
        'the SSCC check-digit error is shown next to the field',
      )
      t.equal(await page.locator('#ns-error:not([hidden])').count(), 0, 'not as a general error')
      await screenshot(page, 'lifecycle-01-new-shipment-1440')

      await page.fill('#ns-sscc', '106141419990000016')
      await page.click('#ns-submit')
      await page.waitForURL(/#\/shipment\/E2E-NEW-1$/)
      await page.waitForSelector('#compliance dd[data-fact="Created by"]')
      // Alarms always current: the readings came before the shipment; its alarms are there at once.
      t.ok(
        (await page.locator('#alarm-list li[data-state="open"]').count()) >= 1,
        "the readings' alarms are listed without a restart",
      )
      t.match(await page.textContent('.page-head'), /Alarm/, 'and the status says Alarm')
      t.match(await page.textContent('#compliance dd[data-fact="Created by"]'), /^olivia, /)
      t.match(await page.textContent('#compliance dd[data-fact="Received by"]'), /not received yet/)

      // Assign a second logger from now on.
      await page.click('#change-loggers')
      await page.waitForSelector('#loggers-add input[value="e2e-spare-1"]')
      t.equal(
        await page.locator('#loggers-add input[value="e2e-new-1"]').count(),
        0,
        'an assigned logger is not offered again',
      )
      await page.check('#loggers-add input[value="e2e-spare-1"]')
      await page.click('#loggers-submit')
      await page.waitForSelector('#logger-windows tr[data-logger="e2e-spare-1"]')
      t.match(
        await page.textContent('#logger-windows tr[data-logger="e2e-spare-1"]'),
        /assigned/,
        'the added logger counts from its assignment',
      )

      // Receive with an electronic signature: a wrong password first.
      await page.click('#receive-shipment')
      await page.waitForSelector('#receive-dialog[open]')
      await page.selectOption('#receive-meaning', 'received with damage noted')
      await page.fill('#receive-reason', 'outer carton dented, seals intact')
      await page.fill('#receive-password', 'not-my-password')
      await page.click('#receive-submit')
      await page.waitForSelector('#receive-dialog .form-error:not([hidden])')
      t.match(
        await page.textContent('#receive-dialog .form-error'),
        /password does not match/,
        'a wrong password is refused',
      )
      await screenshot(page, 'lifecycle-02-receive-dialog-1440', false)
      await page.fill('#receive-password', LOGINS.operator.password)
      await page.click('#receive-submit')
      await page.waitForFunction(() =>
        /received with damage noted/.test(
          document.querySelector('#compliance dd[data-fact="Received by"]')?.textContent ?? '',
        ),
      )
      t.match(
        await page.textContent('#compliance dd[data-fact="Received by"]'),
        /^olivia, "received with damage noted", outer carton dented, seals intact; received .*, signed /,
      )
      t.equal(await page.locator('#receive-shipment').count(), 0, 'received once: the button is gone')
      const entry = (await sys.ledger.entriesByType('shipment.receive')).at(-1)!
      t.same(
        { by: entry.entry.body.by, meaning: entry.entry.body.signature.meaning },
        { by: 'olivia', meaning: 'received with damage noted' },
        'the signature is in the ledger',
      )
      await screenshot(page, 'lifecycle-03-received-1440')

      // The same pages at 390 px.
      const narrow = await newWatchedPage(env.browser, { width: 390, height: 844 })
      t.teardown(() => narrow.context.close())
      await login(narrow.page, sys.url, 'operator')
      await narrow.page.goto(`${sys.url}/#/shipment/E2E-NEW-1`)
      await narrow.page.waitForSelector('#compliance dd[data-fact="Received by"]')
      await screenshot(narrow.page, 'lifecycle-04-received-390')
      await screenshot(narrow.page, 'lifecycle-04a-head-390', false)
      await narrow.page
        .locator('#compliance')
        .screenshot({ path: join(SCREENSHOT_DIR, 'lifecycle-04b-signoffs-390.png') })
      const overflow = await narrow.page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      )
      t.ok(overflow <= 1, `the shipment page fits 390 px (overflow ${overflow} px)`)
      await narrow.page.goto(`${sys.url}/#/new-shipment/E2E-NEW-1`)
      await narrow.page.waitForFunction(
        () => (document.querySelector('#ns-product') as HTMLInputElement | null)?.value === 'Insulin glargine 100 U/ml',
      )
      t.ok(await narrow.page.isChecked('#ns-loggers input[value="e2e-new-1"]'), 'a template link fills the form')
      await screenshot(narrow.page, 'lifecycle-05-new-shipment-390')
      const overflow2 = await narrow.page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      )
      t.ok(overflow2 <= 1, `the new-shipment page fits 390 px (overflow ${overflow2} px)`)

      t.same(dialogs, [], 'no alert or confirm opened')
      t.same(
        [...errors, ...narrow.errors].filter((e) => !/status of (400|403)/.test(e)),
        [],
        'no page errors (refusals aside)',
      )
    },
  )
}
