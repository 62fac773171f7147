/**
 * The operator's day in a real Chromium against the real server and a real
 * ledger: log in, see the fleet, open a shipment (chart with gaps and late
 * readings, a silent sensor), watch a signed reading arrive over the live
 * stream, acknowledge an alarm, download the PDF report and parse it; then
 * the Alarms, Devices, Ledger and Verify pages. Screenshots go to
 * test-output/screenshots/ for a person to look at.
 */
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs'
import { appendSigned, XSS_COMMENT } from './seed.ts'
import { LOGINS, login, newWatchedPage, screenshot, skipReason, useSceneSystem } from './harness.ts'

const skip = skipReason()
if (skip) {
  t.plan(0, skip)
} else {
  const env = useSceneSystem(t)

  t.test('operator: fleet, shipment, live reading, acknowledgement, PDF', async (t) => {
    const { page, context, dialogs, errors } = await newWatchedPage(env.browser)
    const sys = env.sys
    t.teardown(() => context.close())

    // Without a session the app sends the browser to the login page.
    await page.goto(`${sys.url}/`)
    t.match(new URL(page.url()).pathname, /^\/login/, 'unauthenticated visit lands on the login page')
    await page.fill('#username', 'olivia')
    await page.fill('#password', 'wrong password')
    await page.click('#login-submit')
    await page.waitForSelector('#login-error:not([hidden])')
    t.match(await page.textContent('#login-error'), /not correct/, 'a wrong password is refused with a message')
    await screenshot(page, '01-login-error')

    await login(page, sys.url, 'operator')
    t.equal(await page.textContent('#user-name'), 'olivia')

    // Fleet: every shipment, with status, class, temperature and alarm count.
    await page.waitForSelector('#fleet-rows tr[data-shipment-id="E2E-FRIDGE-1"]')
    const ids = await page.$$eval('#fleet-rows tr[data-shipment-id]', (rows) =>
      rows.map((r) => (r as HTMLElement).dataset.shipmentId),
    )
    t.same([...ids].sort(), ['E2E-FRIDGE-1', 'E2E-FROZEN-1', 'E2E-XSS-1'])
    t.equal(ids[0], 'E2E-FRIDGE-1', 'the shipment in alarm is listed first')
    const fridgeRow = page.locator('#fleet-rows tr[data-shipment-id="E2E-FRIDGE-1"]')
    t.match(await fridgeRow.textContent(), /Alarm/, 'status badge says Alarm in words')
    t.match(await fridgeRow.textContent(), /2–8 °C/)
    t.match(
      await page.locator('#fleet-rows tr[data-shipment-id="E2E-FROZEN-1"]').textContent(),
      /In range.*−2\d\.\d °C/s,
    )
    t.match(await fridgeRow.locator('td[data-label="Last reading"]').textContent(), /ago|just now/)
    await page.waitForSelector('#live[data-state="open"]')
    await screenshot(page, '02-fleet')

    // Filters: status and free text.
    await page.selectOption('#filter-status', 'alarm')
    t.same(
      await page.$$eval('#fleet-rows tr[data-shipment-id]', (rows) =>
        rows.map((r) => (r as HTMLElement).dataset.shipmentId),
      ),
      ['E2E-FRIDGE-1'],
    )
    await page.selectOption('#filter-status', '')
    await page.fill('#filter-q', 'measles')
    t.same(
      await page.$$eval('#fleet-rows tr[data-shipment-id]', (rows) =>
        rows.map((r) => (r as HTMLElement).dataset.shipmentId),
      ),
      ['E2E-FROZEN-1'],
    )
    await page.fill('#filter-q', '')

    // Shipment view.
    await fridgeRow.click()
    await page.waitForURL(/#\/shipment\/E2E-FRIDGE-1$/)
    await page.waitForSelector('#compliance dd[data-fact="MKT"]')
    t.equal(await page.textContent('#shipment-title'), 'Insulin glargine 100 U/ml')
    const canvas = page.locator('#temp-chart')
    await canvas.waitFor()
    t.equal(await canvas.getAttribute('data-sensors'), '2', 'one line per sensor')
    t.ok(Number(await canvas.getAttribute('data-gaps')) >= 1, 'the data gap is drawn as a break in the line')
    const lateCount = Number(await canvas.getAttribute('data-late'))
    t.ok(lateCount >= 3, `late readings are drawn with their own marker (${lateCount})`)
    t.equal(await page.locator('#late-readings tbody tr').count(), lateCount, 'and listed as late')
    t.match(
      await page.textContent('[data-silent-device="e2e-fridge-a2"]'),
      /silent: no reading for \d+ min/,
      'the silent sensor says how long it has been silent',
    )
    t.ok((await page.locator('#alarm-list li[data-state="open"]').count()) >= 1, 'open alarms are listed')
    t.match(
      await page.textContent('#alarm-list'),
      /Sensor lost/,
      'the alarm on the silent sensor says the sensor is lost',
    )
    t.match(
      await page.textContent('[data-silent-device="e2e-fridge-a2"]'),
      /Alarm on a lost sensor/,
      'and the notice above the chart says so',
    )
    t.ok((await page.locator('#excursions tbody tr').count()) >= 1, 'the excursion table has the excursion')
    t.match(
      await page.textContent('.legend-note'),
      /Sensor fault/,
      'the legend explains the hatched sensor-fault column',
    )
    const msgs = page.locator('#alarm-list .alarm-msg')
    t.notMatch(
      await page.textContent('#alarm-list'),
      /\((above|below)-[^)]*\)/,
      'alarm texts do not show internal rule ids',
    )
    const titled = page.locator('#alarm-list .alarm-msg[title^="Rule "]')
    t.ok((await msgs.count()) >= 1 && (await titled.count()) >= 1, 'the rule id is kept as the tooltip')
    t.match(await page.textContent('#compliance'), /Verdict.*In range.*Above range.*Below range/s)
    await screenshot(page, '03-shipment')

    // A signed reading committed to the ledger arrives over the live stream.
    const live = sys.scene.fridge.live
    const now = Date.now()
    await appendSigned(sys.ledger, live, now, 611, now)
    await page.waitForSelector(`#live-reading[data-seq="${live.seq}"]`, { timeout: 10_000 })
    t.match(
      await page.textContent('#live-reading'),
      new RegExp(`e2e-fridge-a1 #${live.seq}: 6\\.11 °C`),
      'the live reading is shown',
    )
    await page.waitForFunction(() => document.querySelector('#sensors')?.textContent?.includes('6.1 °C'))
    t.pass('the sensor table shows the new temperature')

    // Acknowledge the first open alarm with a reason and a comment.
    const first = page.locator('#alarm-list li[data-state="open"]').first()
    const alarmId = await first.getAttribute('data-alarm-id')
    t.ok(alarmId)
    await first.locator('button[data-ack-open]').click()
    await first.locator('form.ack-form button[type="submit"]').click()
    t.match(await first.locator('.form-error').textContent(), /Choose a reason/, 'a reason is required')
    await first.locator('select[name="reason"]').selectOption({ index: 1 })
    t.ok(await first.locator('.form-error').isHidden(), 'choosing a reason clears the message')
    await first.locator('textarea[name="comment"]').fill(XSS_COMMENT)
    await screenshot(page, '04-ack-form')
    await first.locator('form.ack-form button[type="submit"]').click()
    const acked = page.locator(`#alarm-list li[data-alarm-id="${alarmId}"][data-state="acknowledged"]`)
    await acked.waitFor({ timeout: 10_000 })
    t.equal(await acked.locator('.comment-text').textContent(), XSS_COMMENT, 'the comment is shown literally, as text')
    t.equal(await acked.locator('.comment-text img').count(), 0, 'and never as markup')
    t.match(await acked.textContent(), /Acknowledged by olivia/)
    await screenshot(page, '05-acknowledged')

    // Download the PDF report and parse it.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('a[data-download="pdf"]')])
    const file = await download.path()
    const bytes = new Uint8Array(await readFile(file))
    t.equal(Buffer.from(bytes.subarray(0, 5)).toString('latin1'), '%PDF-', 'the download is a PDF')
    const pdf = await getDocument({ data: bytes, isEvalSupported: false, useSystemFonts: false }).promise
    t.ok(pdf.numPages >= 1, `the PDF parses (${pdf.numPages} pages)`)
    const text = (await (await pdf.getPage(1)).getTextContent()).items.map((i) => ('str' in i ? i.str : '')).join(' ')
    t.match(text, /E2E-FRIDGE-1/, 'the report names the shipment')
    await pdf.destroy()

    t.same(dialogs, [], 'no dialog opened')
    t.same(errors, [], 'no console errors (CSP violations included)')

    // Log out: the session is gone, the app is behind the login page again.
    await Promise.all([page.waitForURL(/\/login/), page.click('#logout')])
    await page.goto(`${sys.url}/`)
    t.match(new URL(page.url()).pathname, /^\/login/, 'after logging out the app asks for a login again')
  })

  t.test('Alarms, Devices, Ledger and Verify pages', async (t) => {
    const { page, context, errors } = await newWatchedPage(env.browser)
    const sys = env.sys
    t.teardown(() => context.close())
    await login(page, sys.url, 'operator')

    // The fleet list follows the live stream: a new reading moves the shipment's temperature.
    await page.waitForSelector('#live[data-state="open"]')
    await page.waitForSelector('#fleet-rows tr[data-shipment-id="E2E-FROZEN-1"]')
    const frozen = sys.scene.frozen.device
    const now = Date.now()
    await appendSigned(sys.ledger, frozen, now, -1877, now)
    await page.waitForFunction(() =>
      document
        .querySelector('#fleet-rows tr[data-shipment-id="E2E-FROZEN-1"] td[data-label="Temperature"]')
        ?.textContent?.includes('−18.8 °C'),
    )
    t.pass('the fleet row shows the new temperature without a reload')
    t.match(
      await page.textContent('#fleet-rows tr[data-shipment-id="E2E-FROZEN-1"] td[data-label="Last reading"]'),
      /just now/,
    )

    await page.click('.tabs a[data-tab="alarms"]')
    await page.waitForSelector('#fleet-alarms li[data-alarm-id]')
    t.ok((await page.locator('#fleet-alarms li[data-state="open"]').count()) >= 1, 'open alarms across the fleet')
    await page.selectOption('#alarm-filter', 'all')
    t.match(await page.textContent('#fleet-alarms'), /Data gap/, 'every alarm kind is listed, acknowledged ones too')
    await screenshot(page, '06-alarms')

    await page.click('.tabs a[data-tab="devices"]')
    await page.waitForSelector('#device-table tr[data-device-id="e2e-fridge-a2"]')
    const a2 = page.locator('#device-table tr[data-device-id="e2e-fridge-a2"]')
    t.match(await a2.textContent(), /Overdue/, 'an overdue calibration is flagged in words')
    t.match(await page.locator('#device-table tr[data-device-id="e2e-fridge-a1"]').textContent(), /90 %/)
    t.equal(await page.locator('#register-form').count(), 0, 'an operator has no device registration form')
    t.equal(await page.locator('button[data-revoke]').count(), 0, 'nor revoke buttons')
    await screenshot(page, '07-devices')

    await page.click('.tabs a[data-tab="ledger"]')
    await page.waitForSelector('#cp-root')
    t.match(await page.textContent('#cp-origin'), /coldproof/)
    t.match(await page.textContent('#cp-root'), /^[A-Za-z0-9+/]+=*$/, 'the root hash is shown')
    await screenshot(page, '08-ledger')

    // Close a shipment: written to the ledger, the page shows it closed.
    await page.goto(`${sys.url}/#/shipment/E2E-FROZEN-1`)
    await page.click('#close-shipment')
    // The electronic signature: meaning, reason, the password re-entered (a wrong one is refused, nothing logged).
    await page.selectOption('#close-meaning', 'received and reviewed')
    await page.fill('#close-reason', 'pallet received and data reviewed')
    if (await page.locator('#close-alarms:not([hidden])').count()) {
      await page.check('#close-override')
      await page.fill('#close-override-reason', 'excursion reviewed by QA before receipt')
    }
    await page.fill('#close-password', 'not my password')
    await page.click('#close-dialog button[type="submit"]')
    await page.waitForSelector('#close-dialog .form-error:not([hidden])')
    t.match(
      await page.textContent('#close-dialog .form-error'),
      /password does not match/,
      'a wrong password is refused with a message',
    )
    t.notOk(sys.ledger.shipment('E2E-FROZEN-1')?.closedAt, 'not closed with a wrong password')
    await page.fill('#close-password', LOGINS.operator.password)
    await screenshot(page, '08b-close-dialog')
    await page.click('#close-dialog button[type="submit"]')
    // Its logger's last reading is minutes old: the ledger refuses until the evidence ending early is confirmed.
    await page.waitForSelector('#ends-early:not([hidden])')
    t.match(await page.textContent('#ends-early-devices'), /e2e-frozen-b1: last chained reading seq \d+/)
    t.notOk(sys.ledger.shipment('E2E-FROZEN-1')?.closedAt, 'not closed without the confirmation')
    await page.fill('#ends-early-reason', 'logger removed at the receiving dock')
    await page.fill('#close-password', LOGINS.operator.password)
    await page.click('#close-dialog button[type="submit"]')
    await page.waitForSelector('.page-head .badge-closed')
    await page.waitForSelector('#close-signature-notice')
    t.match(
      await page.textContent('#close-signature-notice'),
      /signed by olivia, meaning "received and reviewed", reason: pallet received and data reviewed/,
    )
    t.equal(
      sys.ledger.shipment('E2E-FROZEN-1')?.closeSignature?.meaning,
      'received and reviewed',
      'the signature is in the ledger',
    )
    await screenshot(page, '08c-closed-signed')
    t.ok(sys.ledger.shipment('E2E-FROZEN-1')?.closedAt, 'the closing reached the ledger')
    t.equal(sys.ledger.shipment('E2E-FROZEN-1')?.endsEarly, 'logger removed at the receiving dock', 'with the reason')
    t.equal(await page.locator('#close-shipment').count(), 0, 'a closed shipment has no close button')

    await page.click('.tabs a[data-tab="verify"]')
    // The verifier itself is tested in verify-page.test.ts; here: the tab leads to it.
    await page.waitForSelector('#verify-file')
    t.match(await page.title(), /^Verify/, 'the Verify tab opens the bundle verifier')
    // The browser logs the refused closes (403 wrong password, 409 ERR_EVIDENCE_ENDS_EARLY), which the dialog answered.
    t.same(
      errors.filter((e) => !/status of (409 \(Conflict\)|403 \(Forbidden\))/.test(e)),
      [],
    )
  })
}
