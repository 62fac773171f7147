/**
 * The notifications of an alarm on its card, in a real Chromium at 1440 and
 * 390 px: an open alarm of the seed scene is notified through a real SMTP
 * server (sent) and a dead one (failed), and the shipment's alarm card lists
 * both with their outcome.
 */
import t from 'tap'
import { createServer } from 'node:net'
import { startSmtp } from '../../notify/test/servers.ts'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import {
  launchBrowser,
  login,
  newWatchedPage,
  screenshot,
  skipReason,
  startSceneSystem,
  SCREENSHOT_DIR,
} from './harness.ts'

const skip = skipReason()

async function deadPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

if (skip) {
  t.plan(0, skip)
} else {
  t.test('the alarm card lists each notification, sent or failed', async (t) => {
    const smtp = await startSmtp(t)
    const sys = await startSceneSystem({
      notifications: {
        recordsFile: null,
        escalationCheckMs: 0,
        sleep: async () => {},
        config: {
          channels: {
            mail: { type: 'smtp', host: '127.0.0.1', port: smtp.port, from: 'alarms@example.com', maxAttempts: 1 },
            backup: {
              type: 'smtp',
              host: '127.0.0.1',
              port: await deadPort(),
              from: 'alarms@example.com',
              maxAttempts: 2,
            },
          },
          contacts: [
            { name: 'qa', roles: ['qa'], channel: 'mail', to: 'qa@example.com' },
            { name: 'night', roles: ['qa'], channel: 'backup', to: 'night-shift@example.com' },
          ],
          rules: [{ id: 'all', severities: ['critical', 'major', 'minor'], roles: ['qa'] }],
        },
      },
    })
    t.teardown(() => sys.close())
    const d = sys.app.dashboard
    // The scene's alarms were folded at start (no live event): notify one as if it had just been raised.
    const alarm = d.monitor.alarms({ shipmentId: sys.scene.fridge.shipmentId, state: 'open' })[0]!
    t.ok(alarm, 'an open alarm in the scene')
    d.notifier!.onAlarm(alarm)
    await d.notifier!.idle()
    t.equal(smtp.mails.length, 1)
    const browser = await launchBrowser()
    t.teardown(() => browser.close())
    for (const width of [1440, 390]) {
      const w = await newWatchedPage(browser, { width, height: 900 })
      await login(w.page, sys.url, 'regulator')
      await w.page.goto(`${sys.url}/#/shipment/${encodeURIComponent(alarm.shipmentId)}`)
      const card = w.page.locator(`#alarm-list li[data-alarm-id="${alarm.alarmId}"]`)
      await card.locator('.notifications summary').click()
      const text = (await card.locator('.notifications').textContent()) ?? ''
      t.match(text, 'Notified 1 of 2 · some failed', `${width} px: the summary`)
      t.match(text, /Sent.*mail to qa@example\.com.*1 attempt/)
      t.match(text, /Failed.*backup to night-shift@example\.com.*2 attempts.*ECONNREFUSED/)
      await screenshot(w.page, `notifications-shipment-${width}`)
      await mkdir(SCREENSHOT_DIR, { recursive: true })
      await card.screenshot({ path: join(SCREENSHOT_DIR, `notifications-alarm-card-${width}.png`) })
      t.same(w.errors, [], 'no console errors')
      await w.context.close()
    }
  })
}
