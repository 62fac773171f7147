/**
 * What a role may see and do in the UI (the server enforces it anyway), and
 * proof that strings from devices and users are only ever text: product,
 * route and device model carrying <script>/<img onerror> payloads render
 * literally, no payload runs, no element is injected. Also the narrow-screen
 * layout. Real Chromium, real server, real ledger.
 */
import t from 'tap'
import { toHex } from '../../../ledger/protocol/index.ts'
import { noblePublicKey } from '../../../ledger/protocol/test/support.ts'
import { login, LOGINS, newWatchedPage, screenshot, skipReason, useSceneSystem } from './harness.ts'

const skip = skipReason()
if (skip) {
  t.plan(0, skip)
} else {
  const env = useSceneSystem(t)

  t.test('after sign-in the browser never leaves the origin, whatever ?next= says', async (t) => {
    const sys = env.sys
    const origin = new URL(sys.url).origin
    const signIn = async (page: import('playwright-core').Page) => {
      await page.fill('#username', LOGINS.operator.username)
      await page.fill('#password', LOGINS.operator.password)
      await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('#login-submit')])
    }
    for (const next of [
      '/\\evil.example/phish',
      '//evil.example/phish',
      '/%5Cevil.example/phish',
      'https://evil.example/',
      '/\t/evil.example',
    ]) {
      const { page, context, errors } = await newWatchedPage(env.browser)
      t.teardown(() => context.close())
      // Past the server's own check: put the hostile next into the page's URL without a request.
      await page.goto(`${sys.url}/login.html`)
      await page.waitForSelector('#login-form')
      await page.evaluate((n) => history.replaceState(null, '', `/login.html?next=${encodeURIComponent(n)}`), next)
      await signIn(page)
      const landed = new URL(page.url())
      t.equal(landed.origin, origin, `next=${JSON.stringify(next)}: still on the dashboard's origin`)
      t.equal(landed.pathname, '/', 'sent to /')
      t.same(errors, [])
    }
    // Through the server: the link an attacker would send is cleaned before the page loads.
    const { page, context } = await newWatchedPage(env.browser)
    t.teardown(() => context.close())
    await page.goto(`${sys.url}/login.html?next=/%5Cevil.example/phish`)
    t.equal(new URL(page.url()).search, '', 'the server dropped the unsafe next')
    // A same-origin next is followed.
    await page.goto(`${sys.url}/login.html?next=${encodeURIComponent('/#/devices')}`)
    await signIn(page)
    t.equal(new URL(page.url()).hash, '#/devices', 'a same-origin next is followed')
  })

  t.test('roles: a regulator sees no write actions; an admin registers and revokes a device', async (t) => {
    const sys = env.sys
    const reg = await newWatchedPage(env.browser)
    t.teardown(() => reg.context.close())
    await login(reg.page, sys.url, 'regulator')
    await reg.page.goto(`${sys.url}/#/shipment/E2E-FRIDGE-1`)
    await reg.page.waitForSelector('#alarm-list li[data-alarm-id]')
    t.equal(
      await reg.page.locator('button[data-ack-open], form.ack-form').count(),
      0,
      'no acknowledgement for a regulator',
    )
    t.equal(await reg.page.locator('#close-shipment').count(), 0, 'and no closing')
    t.ok(await reg.page.locator('a[data-download="pdf"]').count(), 'but the reports are there')
    await screenshot(reg.page, '09-regulator-shipment')

    const adm = await newWatchedPage(env.browser)
    t.teardown(() => adm.context.close())
    await login(adm.page, sys.url, 'admin')
    await adm.page.goto(`${sys.url}/#/devices`)
    await adm.page.waitForSelector('#device-table tr[data-device-id]')
    await adm.page.click('#register-form >> xpath=ancestor::details/summary')
    await adm.page.fill('#reg-id', 'e2e-new-logger')
    await adm.page.fill('#reg-key', toHex(noblePublicKey(new Uint8Array(32).fill(7))))
    await adm.page.fill('#reg-model', 'TempLog 5')
    await adm.page.click('#register-form button[type="submit"]')
    await adm.page.waitForSelector('#device-table tr[data-device-id="e2e-new-logger"]')
    t.ok(sys.ledger.device('e2e-new-logger'), 'the registration reached the ledger')
    await adm.page.click('button[data-revoke="e2e-new-logger"]')
    await adm.page.fill('#revoke-reason', 'test: logger returned')
    await adm.page.click('#revoke-dialog button[type="submit"]')
    await adm.page.waitForSelector('#device-table tr[data-device-id="e2e-new-logger"].row-closed')
    t.equal(sys.ledger.device('e2e-new-logger')?.revoked, true, 'the revocation reached the ledger')
    await screenshot(adm.page, '10-admin-devices')
    t.same([...reg.errors, ...adm.errors], [])
  })

  t.test('XSS: strings from devices and users render as text', async (t) => {
    const { page, context, dialogs, errors } = await newWatchedPage(env.browser)
    const sys = env.sys
    t.teardown(() => context.close())
    await login(page, sys.url, 'operator')
    await page.waitForSelector('#fleet-rows tr[data-shipment-id="E2E-XSS-1"]')
    const row = page.locator('#fleet-rows tr[data-shipment-id="E2E-XSS-1"]')
    t.equal(
      await row.locator('.product').textContent(),
      sys.scene.xss.product,
      'the product name is shown literally in the fleet',
    )
    t.match(await row.textContent(), /<script>window\.__xss=2;alert\(2\)<\/script>Basel/, 'the route too')

    await page.goto(`${sys.url}/#/shipment/E2E-XSS-1`)
    await page.waitForSelector('#shipment-title')
    t.equal(await page.textContent('#shipment-title'), sys.scene.xss.product, 'and as the shipment title')
    await page.goto(`${sys.url}/#/devices`)
    await page.waitForSelector('#device-table tr[data-device-id="e2e-xss-x1"]')
    t.match(
      await page.locator('#device-table tr[data-device-id="e2e-xss-x1"]').textContent(),
      /<img src=x onerror="window.__xss=3">/,
      'a device model is shown literally',
    )
    await page.goto(`${sys.url}/#/alarms`)
    await page.waitForSelector('#fleet-alarms li')
    await page.selectOption('#alarm-filter', 'all')
    await screenshot(page, '11-xss-alarms')
    await page.goto(`${sys.url}/#/fleet`)
    await page.waitForSelector('#fleet-rows tr[data-shipment-id="E2E-XSS-1"]')
    await screenshot(page, '12-xss-fleet')

    t.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined, 'no payload ran')
    t.equal(await page.locator('#view img, #view script, #view svg').count(), 0, 'no element was injected')
    t.same(dialogs, [], 'no dialog opened')
    t.same(errors, [])
  })

  t.test('narrow screen: tables stack into labelled cards', async (t) => {
    const { page, context } = await newWatchedPage(env.browser, { width: 390, height: 844 })
    const sys = env.sys
    t.teardown(() => context.close())
    await login(page, sys.url, 'operator')
    await page.waitForSelector('#fleet-rows tr[data-shipment-id]')
    const display = await page.$eval('#fleet-rows tr[data-shipment-id] td', (td) => getComputedStyle(td).display)
    t.equal(display, 'flex', 'cells are laid out as labelled lines')
    await screenshot(page, '13-mobile-fleet')
    await page.goto(`${sys.url}/#/shipment/E2E-FRIDGE-1`)
    await page.waitForSelector('#compliance dd')
    await screenshot(page, '14-mobile-shipment')
  })
}
