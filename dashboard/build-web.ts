/**
 * Bundles the browser code (dashboard/web/) with esbuild into
 * dashboard/public/build/, where the server serves it as static files.
 * It runs at install time (`npm install` / `npm ci` run the `prepare` script,
 * `npm run build` does the same), never at start: `coldproof start` only
 * checks, with checkWebAssets(), that the bundle exists and matches its sources.
 */
import { build } from 'esbuild'
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
/** Beside the bundles: each source file that went in, with its SHA-256 (paths relative to the repository). */
const MANIFEST = 'sources.json'

/** Where the server expects the bundle by default. */
export const DEFAULT_WEB_OUTDIR = join(here, 'public', 'build')

export interface BuildWebOptions {
  /** Output folder; default dashboard/public/build. */
  outdir?: string
  /** Minify the bundles (production); default false. */
  minify?: boolean
}

export interface BuildWebResult {
  outdir: string
  /** Files written, relative to outdir (app.js, login.js, their source maps). */
  files: string[]
}

/**
 * Builds app.js (the single-page app) and login.js (the login page) into
 * `outdir`. Throws esbuild's error (with file and line) if the code does not
 * compile. Safe to call on every start (it rewrites the same files).
 */
export async function buildWeb({
  outdir = DEFAULT_WEB_OUTDIR,
  minify = false,
}: BuildWebOptions = {}): Promise<BuildWebResult> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: {
      app: join(here, 'web', 'main.ts'),
      login: join(here, 'web', 'login.ts'),
    },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    minify,
    sourcemap: 'linked',
    // The CSP forbids eval and inline code; keep esbuild from emitting either.
    legalComments: 'linked',
    metafile: true,
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': minify ? '"production"' : '"development"' },
  })
  const files = Object.keys(result.metafile.outputs).map((p) => p.slice(p.lastIndexOf('/') + 1))
  const inputs = Object.fromEntries(
    Object.keys(result.metafile.inputs)
      .sort()
      .map((p) => [p, sha256Of(join(root, p))]),
  )
  writeFileSync(join(outdir, MANIFEST), JSON.stringify({ inputs }, null, 1) + '\n')
  return { outdir, files: [...files, MANIFEST] }
}

function sha256Of(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex')
}

export type WebAssetsCheck =
  | { ok: true }
  | { ok: false; code: 'ERR_WEB_ASSETS_MISSING' | 'ERR_WEB_ASSETS_STALE'; message: string }

/** Whether the bundle in `outdir` exists and was built from the sources as they are now (content hashes, not times). */
export function checkWebAssets(outdir = DEFAULT_WEB_OUTDIR): WebAssetsCheck {
  const fix = 'run `npm run build` (npm install runs it too)'
  let inputs: Record<string, string>
  try {
    inputs = (JSON.parse(readFileSync(join(outdir, MANIFEST), 'utf8')) as { inputs: Record<string, string> }).inputs
    for (const f of ['app.js', 'login.js']) readFileSync(join(outdir, f))
  } catch {
    return {
      ok: false,
      code: 'ERR_WEB_ASSETS_MISSING',
      message: `the dashboard's browser bundle is missing from ${outdir}; ${fix}`,
    }
  }
  for (const [p, hash] of Object.entries(inputs)) {
    let now: string | undefined
    try {
      now = sha256Of(join(root, p))
    } catch {
      now = undefined
    }
    if (now !== hash)
      return {
        ok: false,
        code: 'ERR_WEB_ASSETS_STALE',
        message: `the dashboard's browser bundle in ${outdir} is older than ${p}; ${fix}`,
      }
  }
  return { ok: true }
}

// `npm run build`: node --import tsx dashboard/build-web.ts
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = await buildWeb({ minify: process.argv.includes('--minify') })
  process.stdout.write(`built ${r.files.join(', ')} in ${r.outdir}\n`)
}
