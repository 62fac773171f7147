/**
 * Bundles the browser code (dashboard/web/) with esbuild into
 * dashboard/public/build/, where the server serves it as static files.
 * The server's start-up calls buildWeb() before it listens, so a clean clone
 * needs no separate build step (esbuild is a runtime dependency for that reason).
 */
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const here = dirname(fileURLToPath(import.meta.url))

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
export async function buildWeb({ outdir = DEFAULT_WEB_OUTDIR, minify = false }: BuildWebOptions = {}): Promise<BuildWebResult> {
  const result = await build({
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
  return { outdir, files }
}
