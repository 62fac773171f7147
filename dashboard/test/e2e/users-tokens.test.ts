/**
 * The Users page (admin) and the Tokens page (any role) in a real Chromium
 * against the real server: create a user, change the role, reset the
 * password, disable (their open session ends, their sign-in is refused with
 * its own message) and enable; the last admin stays one (inline error); the
 * audit trail lists every change. A token is made, shown once with the
 * `coldproof report` line, works as a bearer token with its scope, and is
 * revoked.
 */
import t from 'tap'
import { LOGINS, login, newWatchedPage, screenshot, skipReason, useSceneSystem } from './harness.ts'

const CARLA = { username: 'carla.qa', password: 'carla-first-pass-1', next: 'carla-second-pass-2' }

const skip = skipReason()
if (skip) {
  t.plan(0, skip)
} else {
  const env = useSceneSystem(t)

  t.test('an admin manages a user on the Users page; every change is in the audit trail', async (t) => {
    const { sys, browser } = env
    const admin = await newWatchedPage(browser, { width: 1440, height: 900 })
    t.teardown(() => admin.context.close())
    const page = admin.page
    await login(page, sys.url, 'admin')
    await page.click('.tabs a[data-tab="users"]')
    await page.waitForSelector('#user-table tr[data-username="adele"]')

    await page.click('#create-user summary')
    await page.fill('#new-username', CARLA.username)
    await page.fill('#new-password', CARLA.password)
    await page.selectOption('#new-role', 'regulator')
    await page.click('#create-user-form button[type="submit"]')
    await page.waitForSelector(`#user-table tr[data-username="${CARLA.username}"]`)
    // The same name again: the server's refusal, shown in the form.
    await page.fill('#new-username', CARLA.username)
    await page.fill('#new-password', CARLA.password)
    await page.click('#create-user-form button[type="submit"]')
    await page.waitForSelector('#create-user-error:not([hidden])')
    t.match(await page.textContent('#create-user-error'), /already exists.*ERR_USER_EXISTS/)

    const act = (action: string, user = CARLA.username) =>
      page.click(`button[data-action="${action}"][data-user="${user}"]`)
    const row = () => page.locator(`#user-table tr[data-username="${CARLA.username}"]`)
    await act('role')
    await page.selectOption('#user-role-select', 'operator')
    await page.click('#role-form button[type="submit"]')
    await page.waitForSelector(`#user-table tr[data-username="${CARLA.username}"] .role:text("operator")`)
    await act('password')
    await page.fill('#user-new-password', CARLA.next)
    await page.click('#password-form button[type="submit"]')
    await page.waitForSelector('#user-dialog:not([open])', { state: 'attached' })

    // Carla signs in with the new password, in her own browser context.
    const carla = await newWatchedPage(browser, { width: 390, height: 844 })
    t.teardown(() => carla.context.close())
    const signIn = async () => {
      await carla.page.goto(`${sys.url}/login.html`)
      await carla.page.fill('#username', CARLA.username)
      await carla.page.fill('#password', CARLA.next)
      await carla.page.click('#login-submit')
    }
    await signIn()
    await carla.page.waitForSelector('#user-role:text("operator")')
    await carla.page.waitForSelector('#live[data-state="open"]')
    t.equal(await carla.page.isVisible('.tabs a[data-tab="users"]'), false, 'no Users tab for an operator')

    // Disabled: her open session ends at once, and her sign-in is refused with its own message.
    await act('disable')
    await page.click('#state-form button[type="submit"]')
    await page.waitForSelector(`#user-table tr[data-username="${CARLA.username}"][data-disabled="true"]`)
    t.match(await row().textContent(), /Disabled/)
    // Her open page was not touched: its live stream is ended by the server, and the page finds itself signed out.
    await carla.page.waitForURL((u) => u.pathname.startsWith('/login'), { timeout: 60_000 })
    await signIn()
    await carla.page.waitForSelector('#login-error:not([hidden])')
    t.match(await carla.page.textContent('#login-error'), /This account is disabled\. Ask an admin to enable it\./)
    await screenshot(carla.page, 'users-disabled-login-390')

    await act('enable')
    await page.click('#state-form button[type="submit"]')
    await page.waitForSelector(`#user-table tr[data-username="${CARLA.username}"][data-disabled="false"]`)
    await signIn()
    await carla.page.waitForSelector('#user-role:text("operator")')

    // The only admin cannot disable herself: the refusal is shown in the dialog.
    await act('disable', LOGINS.admin.username)
    await page.click('#state-form button[type="submit"]')
    await page.waitForSelector('#state-form .form-error:not([hidden])')
    t.match(await page.textContent('#state-form .form-error'), /only enabled admin.*ERR_USER_LAST_ADMIN/)
    await screenshot(page, 'users-last-admin-1440', false)
    await page.click('#state-form button:text("Cancel")')

    await page.waitForSelector('#audit-table tr[data-seq="5"]')
    const changes = await page.locator('#audit-table td[data-label="Change"]').allTextContents()
    t.same(
      changes,
      [
        `Enabled ${CARLA.username}`,
        `Disabled ${CARLA.username}`,
        `Reset the password of ${CARLA.username}`,
        `Changed the role of ${CARLA.username} from regulator to operator`,
        `Created user ${CARLA.username} (regulator)`,
      ],
      'newest first, in words',
    )
    t.same(
      new Set(await page.locator('#audit-table td[data-label="By"]').allTextContents()),
      new Set([LOGINS.admin.username]),
    )
    t.same(new Set(await page.locator('#audit-table td[data-label="From"]').allTextContents()), new Set(['127.0.0.1']))
    t.notOk((await page.textContent('#audit-table'))!.includes(CARLA.next), 'no password in the trail')
    await screenshot(page, 'users-page-1440')
    t.same(
      admin.errors.filter((e) => !/status of 409/.test(e)),
      [],
      'no console errors (besides the refused requests)',
    )
    t.same(admin.dialogs, [])
  })

  t.test('any role makes an API token on the Tokens page, sees it once, uses it, revokes it', async (t) => {
    const { sys, browser } = env
    const { page, context, errors } = await newWatchedPage(browser, { width: 1440, height: 900 })
    t.teardown(() => context.close())
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(sys.url).origin })
    await login(page, sys.url, 'operator')
    await page.click('.tabs a[data-tab="tokens"]')
    await page.waitForSelector('#token-table table')

    // The server's refusal shows in the form.
    await page.fill('#token-label', 'bad \u202Elabel')
    await page.click('#create-token-form button[type="submit"]')
    await page.waitForSelector('#token-error:not([hidden])')
    t.match(await page.textContent('#token-error'), /ERR_TEXT_UNSAFE/)

    await page.fill('#token-label', 'ci export')
    await page.selectOption('#token-scope', 'read-only')
    await page.fill('#token-days', '30')
    await page.click('#create-token-form button[type="submit"]')
    await page.waitForSelector('#token-value')
    t.ok(await page.isHidden('#token-error'), 'the error is gone')
    const token = (await page.textContent('#token-value'))!
    t.match(token, /^cpt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/)
    t.equal(
      await page.textContent('#token-command'),
      `npx coldproof report <shipment-id> --bundle --out bundle.json --url ${new URL(sys.url).origin} --token ${token}`,
    )
    await page.click('#copy-token')
    await page.waitForSelector('#copy-token:text("Copied")')
    t.equal(
      await page.evaluate('navigator.clipboard.readText()'),
      token,
      'the copy button puts the token on the clipboard',
    )
    await screenshot(page, 'tokens-created-1440', false)

    // The token works, with its scope: reads, but may not write.
    const as = (method: string, path: string) =>
      fetch(`${sys.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
        },
        ...(method === 'POST' ? { body: '{}' } : {}),
      })
    const me = await as('GET', '/api/me')
    t.equal(me.status, 200)
    t.equal(((await me.json()) as { username: string }).username, LOGINS.operator.username)
    const write = await as('POST', '/api/shipments')
    t.equal(write.status, 403)
    t.equal(((await write.json()) as { code: string }).code, 'ERR_AUTH_TOKEN_SCOPE')

    // Shown once: after a reload the list has it, used, but not its secret.
    await page.reload()
    await page.waitForSelector('#token-table tr[data-token-id]')
    const id = token.slice(4, 20)
    const tr = page.locator(`#token-table tr[data-token-id="${id}"]`)
    t.match(await tr.locator('td[data-label="Scope"]').textContent(), /Read-only/)
    t.notMatch(await tr.locator('td[data-label="Last used"]').textContent(), /never/, 'last use shown')
    t.match(await tr.locator('td[data-label="Expires"]').textContent(), /UTC/)
    t.notOk((await page.textContent('body'))!.includes(token.slice(21)), 'the secret is not shown again')

    await page.click(`button[data-revoke="${id}"]`)
    await page.click('#revoke-token-form button[type="submit"]')
    await page.waitForSelector(`#token-table tr[data-token-id="${id}"]`, { state: 'detached' })
    t.equal((await as('GET', '/api/me')).status, 401, 'revoked: refused')
    t.same(
      errors.filter((e) => !/status of 400/.test(e)),
      [],
      'no console errors (besides the refused label)',
    )
  })
}
