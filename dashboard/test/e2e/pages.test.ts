/**
 * Every page at 1440 and 390 px wide: nothing sticks out sideways (the page
 * never scrolls horizontally; the failure names the element that sticks out),
 * every tab of the top bar is on screen, no console error. Screenshots of each
 * go to test-output/screenshots/pages-<page>-<width>.png. Also the shipment
 * chart's drag-to-zoom and its Reset. Real Chromium, real server, real ledger.
 */
import t from 'tap'
import type { Page } from 'playwright-core'
import { login, newWatchedPage, screenshot, skipReason, useSceneSystem } from './harness.ts'

const WIDTHS = [1440, 390] as const

/**
 * What sticks out past the viewport's right edge, unless an ancestor that fits clips it (a scrolling table).
 * A string, not a function: tsx would wrap inner functions in a helper the page does not have.
 */
const OVERFLOW = `(() => {
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + [...el.classList].map((c) => '.' + c).join('')
  const W = window.innerWidth
  const offenders = []
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect()
    if ((r.width === 0 && r.height === 0) || r.right <= W + 0.5) continue
    let clipped = false
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== 'visible' && p.getBoundingClientRect().right <= W + 0.5) { clipped = true; break }
    }
    if (!clipped && getComputedStyle(el).position !== 'fixed') offenders.push(name(el) + ' right=' + Math.round(r.right) + ' in ' + (el.parentElement ? name(el.parentElement) : '?'))
  }
  return { scrollWidth: document.documentElement.scrollWidth, innerWidth: W, offenders: offenders.slice(0, 8) }
})()`

async function overflow(page: Page): Promise<{ scrollWidth: number; innerWidth: number; offenders: string[] }> {
  return page.evaluate(OVERFLOW) as Promise<{ scrollWidth: number; innerWidth: number; offenders: string[] }>
}

/** Tabs the user cannot see without scrolling the tab bar sideways (the Verify tab once was one). */
const HIDDEN_TABS = `[...document.querySelectorAll('.tabs a[data-tab]')]
  .filter((a) => !a.hidden)
  .filter((a) => {
    const r = a.getBoundingClientRect()
    const nav = a.parentElement.getBoundingClientRect()
    return r.left < -0.5 || r.right > window.innerWidth + 0.5 || r.right > nav.right + 0.5 || r.left < nav.left - 0.5
  })
  .map((a) => a.textContent.trim())`

async function hiddenTabs(page: Page): Promise<string[]> {
  return page.evaluate(HIDDEN_TABS) as Promise<string[]>
}

const skip = skipReason()
if (skip) {
  t.plan(0, skip)
} else {
  const env = useSceneSystem(t)

  for (const width of WIDTHS) {
    t.test(`every page at ${width} px: nothing sticks out, every tab on screen`, async (t) => {
      const { sys, browser } = env
      const viewport = { width, height: width > 800 ? 900 : 844 }
      const { page, context, errors } = await newWatchedPage(browser, viewport)
      t.teardown(() => context.close())
      const check = async (name: string) => {
        const o = await overflow(page)
        t.ok(
          o.scrollWidth <= o.innerWidth,
          `${name} at ${width} px: page is ${o.scrollWidth} px wide in a ${o.innerWidth} px window${o.offenders.length ? `; sticking out: ${o.offenders.join(', ')}` : ''}`,
        )
        t.same(o.offenders, [], `${name} at ${width} px: no element past the right edge`)
        await screenshot(page, `pages-${name}-${width}`)
      }

      await page.goto(`${sys.url}/login.html`)
      await page.waitForSelector('#login-form')
      await check('login')
      await login(page, sys.url, 'admin')

      const pages: [string, string, string][] = [
        ['fleet', '#/fleet', '#fleet-rows tr[data-shipment-id="E2E-FRIDGE-1"]'],
        ['shipment', '#/shipment/E2E-FRIDGE-1', '#compliance dd[data-fact="MKT"]'],
        ['alarms', '#/alarms', '#fleet-alarms li[data-alarm-id]'],
        ['devices', '#/devices', '#device-table tr[data-device-id]'],
        ['ledger', '#/ledger', '#cp-root'],
        ['verify', '#/verify', '#verify-file'],
        ['users', '#/users', '#user-table tr[data-username="adele"]'],
        ['tokens', '#/tokens', '#token-table table'],
      ]
      for (const [name, hash, ready] of pages) {
        await page.goto(`${sys.url}/${hash}`)
        await page.waitForSelector(ready)
        if (name === 'shipment') await page.waitForSelector('#temp-chart[data-readings]')
        if (name === 'tokens') {
          // With a freshly made token on show: a long unbroken string must wrap, not widen the page.
          await page.fill('#token-label', `layout check ${width}`)
          await page.click('#create-token-form button[type="submit"]')
          await page.waitForSelector('#token-value')
        }
        if (name === 'users') await page.waitForSelector('#audit-table table')
        t.same(await hiddenTabs(page), [], `${name} at ${width} px: every tab is on screen`)
        await check(name)
      }
      t.same(errors, [], 'no console errors, CSP violations included')
    })
  }

  t.test('between the two: at 1024 and 800 px every tab is on screen and nothing sticks out', async (t) => {
    const { sys, browser } = env
    for (const width of [1024, 800]) {
      const { page, context, errors } = await newWatchedPage(browser, { width, height: 800 })
      t.teardown(() => context.close())
      await login(page, sys.url, 'admin')
      await page.goto(`${sys.url}/#/fleet`)
      await page.waitForSelector('#fleet-rows tr[data-shipment-id="E2E-FRIDGE-1"]')
      t.same(await hiddenTabs(page), [], `every tab on screen at ${width} px`)
      const o = await overflow(page)
      t.same(o.offenders, [], `nothing past the right edge at ${width} px`)
      t.ok(o.scrollWidth <= o.innerWidth)
      await screenshot(page, `pages-fleet-${width}`, false)
      t.same(errors, [])
    }
  })

  t.test('the shipment chart zooms to a dragged span of device time and resets', async (t) => {
    const { sys, browser } = env
    const { page, context, errors } = await newWatchedPage(browser, { width: 1440, height: 900 })
    t.teardown(() => context.close())
    await login(page, sys.url, 'operator')
    await page.goto(`${sys.url}/#/shipment/E2E-FRIDGE-1`)
    await page.waitForSelector('#temp-chart[data-readings]')
    t.equal(await page.isVisible('#reset-zoom'), false, 'nothing to reset yet')
    const span = () =>
      page.evaluate(() => {
        const c = document.querySelector<HTMLCanvasElement>('#temp-chart')!
        return { from: c.dataset.zoomFrom, to: c.dataset.zoomTo }
      })
    t.same(await span(), { from: undefined, to: undefined })
    const box = (await page.locator('#temp-chart').boundingBox())!
    const y = box.y + box.height / 2
    // A click is not a zoom.
    await page.mouse.click(box.x + box.width * 0.5, y)
    t.same(await span(), { from: undefined, to: undefined }, 'a click does not zoom')
    await page.mouse.move(box.x + box.width * 0.35, y)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width * 0.5, y, { steps: 4 })
    await page.mouse.move(box.x + box.width * 0.65, y, { steps: 4 })
    await screenshot(page, 'pages-chart-zoom-selecting', false)
    await page.mouse.up()
    await page.waitForSelector('#reset-zoom:not([hidden])')
    const z = await span()
    t.ok(z.from && z.to && Number(z.to) > Number(z.from), `zoomed to ${z.from}..${z.to}`)
    t.equal(Number(z.from) % 60_000, 0, 'the span starts on a whole minute (round tick labels)')
    t.equal(Number(z.to) % 60_000, 0, 'and ends on one')
    // The dragged third of the plot is a part of the readings' time span, and the axis follows it.
    const readings = await page.evaluate(async () => {
      const r = (await fetch('/api/shipments/E2E-FRIDGE-1/readings?limit=100000').then((x) => x.json())) as {
        readings: { deviceTimeMs: number }[]
      }
      const ts = r.readings.map((x) => x.deviceTimeMs)
      return { min: Math.min(...ts), max: Math.max(...ts) }
    })
    t.ok(Number(z.from) > readings.min && Number(z.to) < readings.max, 'the shown span lies inside the data')
    t.ok(Number(z.to) - Number(z.from) < (readings.max - readings.min) * 0.6, 'and is a part of it')
    await screenshot(page, 'pages-chart-zoomed', false)
    await page.click('#reset-zoom')
    await page.waitForSelector('#reset-zoom[hidden]', { state: 'attached' })
    t.same(await span(), { from: undefined, to: undefined }, 'reset shows everything again')
    t.same(errors, [])
  })
}
