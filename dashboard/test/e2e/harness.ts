/**
 * Shared set-up for the browser tests: a real ledger on disk filled with the
 * seed scene, the real dashboard server on a free port, the UI bundle built
 * by esbuild, and Debian's Chromium driven by playwright-core.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { randomBytes } from 'node:crypto'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { openLedger, type Ledger } from '../../../ledger/store/index.ts'
import { buildDashboard, type DashboardOptions } from '../../server/app.ts'
import type { FastifyInstance } from 'fastify'
import { openUserStore } from '../../server/users.ts'
import { buildWeb } from '../../build-web.ts'
import { seedScene, settableClock, type Scene } from './seed.ts'

export const CHROMIUM = '/usr/bin/chromium'
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
]

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
export const SCREENSHOT_DIR = join(repoRoot, 'test-output', 'screenshots')

/** Why the browser tests cannot run here, or null when they can. */
export function skipReason(): string | null {
  return existsSync(CHROMIUM)
    ? null
    : `${CHROMIUM} is not installed (apt-get install chromium); the browser tests need a real Chromium`
}

export const LOGINS = {
  operator: { username: 'olivia', password: 'operator-password-1' },
  regulator: { username: 'rupert', password: 'regulator-password-1' },
  admin: { username: 'adele', password: 'admin-password-123' },
} as const
export type RoleName = keyof typeof LOGINS

export interface TestSystem {
  url: string
  ledger: Ledger
  scene: Scene
  app: FastifyInstance
  close(): Promise<void>
}

let built: Promise<unknown> | null = null
/** Builds the UI bundle once per test process (the server serves dashboard/public). */
export function ensureWebBuilt(): Promise<unknown> {
  built ??= buildWeb({})
  return built
}

/** Ledger + seed scene + dashboard on 127.0.0.1:<free port>; `extra` adds dashboard options. */
export async function startSceneSystem(extra: Partial<DashboardOptions> = {}): Promise<TestSystem> {
  await ensureWebBuilt()
  const dir = await mkdtemp(join(tmpdir(), 'coldproof-e2e-'))
  const clock = settableClock()
  const ledger = await openLedger({ dir: join(dir, 'ledger'), clock: clock.clock, checkpointIntervalMs: 0 })
  const scene = await seedScene(ledger, clock)
  const users = await openUserStore({
    file: join(dir, 'users.json'),
    seed: (Object.keys(LOGINS) as RoleName[]).map((role) => ({ ...LOGINS[role], role })),
  })
  const app = await buildDashboard({
    ledger,
    users,
    cookieSecret: randomBytes(32).toString('hex'),
    logger: false,
    heartbeatMs: 5000,
    ...extra,
  })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  return {
    url,
    ledger,
    scene,
    app,
    async close() {
      await app.close()
      await ledger.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/**
 * Starts the scene system and a browser before the file's tests and closes
 * both after them. The getters are valid inside tests.
 */
export function useSceneSystem(t: { before(fn: () => Promise<void>): void; teardown(fn: () => Promise<void>): void }): {
  readonly sys: TestSystem
  readonly browser: Browser
} {
  let sys: TestSystem | undefined
  let browser: Browser | undefined
  t.before(async () => {
    sys = await startSceneSystem()
    browser = await launchBrowser()
  })
  t.teardown(async () => {
    await browser?.close()
    await sys?.close()
  })
  return {
    get sys() {
      if (!sys) throw new Error('system not started')
      return sys
    },
    get browser() {
      if (!browser) throw new Error('browser not started')
      return browser
    },
  }
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
}

export interface Watched {
  page: Page
  context: BrowserContext
  /** Dialogs (alert/confirm) the page opened: an XSS payload that ran would open one. */
  dialogs: string[]
  /** Console errors and page errors, CSP violations among them. */
  errors: string[]
}

/** A fresh browser context (own cookies) with a page whose dialogs and errors are recorded. */
export async function newWatchedPage(browser: Browser, viewport = { width: 1366, height: 900 }): Promise<Watched> {
  const context = await browser.newContext({ viewport, acceptDownloads: true })
  context.setDefaultTimeout(15_000)
  const page = await context.newPage()
  const dialogs: string[] = []
  const errors: string[] = []
  page.on('dialog', (d) => {
    dialogs.push(d.message())
    void d.dismiss()
  })
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() !== 'error') return
    // A refused sign-in is a 401 by design; Chromium logs every failed fetch.
    if (new URL(page.url()).pathname.startsWith('/login') && /status of 401/.test(m.text())) return
    errors.push(`console: ${m.text()}`)
  })
  return { page, context, dialogs, errors }
}

export async function login(page: Page, url: string, role: RoleName): Promise<void> {
  await page.goto(`${url}/`)
  await page.waitForSelector('#login-form')
  await page.fill('#username', LOGINS[role].username)
  await page.fill('#password', LOGINS[role].password)
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('#login-submit')])
  await page.waitForSelector(`#user-role:text("${role}")`)
}

export async function screenshot(page: Page, name: string, fullPage = true): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true })
  const path = join(SCREENSHOT_DIR, `${name}.png`)
  // From the top, so the sticky top bar sits where a person sees it.
  if (fullPage) await page.evaluate(() => window.scrollTo(0, 0))
  await page.screenshot({ path, fullPage })
  return path
}
