/**
 * Bundles `coldproof verify` (scripts/cli-verify.ts) and its signature worker
 * (dashboard/evidence/verify-thread.ts) with esbuild into dist/, as plain
 * JavaScript: a regulator's verify then starts without compiling TypeScript
 * through tsx. It runs at install time (`npm install` / `npm ci` run the
 * `prepare` script, `npm run build` does the same). Beside the bundle,
 * cli-verify.sources.json records each source file that went in with its
 * SHA-256; bin/coldproof.js runs the bundle only while every one still
 * matches, and the sources through tsx otherwise: never stale code.
 */
import { build } from 'esbuild'
import { createHash } from 'node:crypto'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join, relative } from 'node:path'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')

/** Where bin/coldproof.js looks for the bundle (scripts/built-cli.js reads the same names). */
export const DEFAULT_CLI_OUTDIR = join(root, 'dist')
export const CLI_MANIFEST = 'cli-verify.sources.json'

export interface BuildCliResult {
  outdir: string
  /** Files written, relative to outdir. */
  files: string[]
}

export async function buildCli({ outdir = DEFAULT_CLI_OUTDIR }: { outdir?: string } = {}): Promise<BuildCliResult> {
  // A build that fails half-way leaves no manifest, so nothing half-built is ever run.
  rmSync(join(outdir, CLI_MANIFEST), { force: true })
  const result = await build({
    absWorkingDir: root,
    entryPoints: {
      'cli-verify': join(root, 'scripts', 'cli-verify.ts'),
      'verify-thread': join(root, 'dashboard', 'evidence', 'verify-thread.ts'),
    },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Packages load from node_modules as they do for the sources: only the project's own code is bundled.
    packages: 'external',
    legalComments: 'none',
    metafile: true,
    logLevel: 'silent',
  })
  const files = Object.keys(result.metafile.outputs).map((p) => relative(outdir, join(root, p)))
  // The build's own options count as a source: changing them makes the old bundle stale too.
  const sources = [...Object.keys(result.metafile.inputs), relative(root, fileURLToPath(import.meta.url))].sort()
  const inputs = Object.fromEntries(sources.map((p) => [p, sha256Of(join(root, p))]))
  writeFileSync(join(outdir, CLI_MANIFEST), JSON.stringify({ entry: 'cli-verify.mjs', inputs }, null, 1) + '\n')
  return { outdir, files: [...files, CLI_MANIFEST] }
}

function sha256Of(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex')
}

// `npm run build`: node --import tsx scripts/build-cli.ts
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = await buildCli()
  process.stdout.write(`built ${r.files.join(', ')} in ${r.outdir}\n`)
}
