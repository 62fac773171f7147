// Whether `coldproof verify` can run from its pre-built bundle (scripts/build-cli.ts
// writes dist/cli-verify.mjs and, beside it, the SHA-256 of every source file that
// went in). The bundle is used only while every one of those files is unchanged;
// otherwise (edited sources, no build, an unreadable manifest) the caller runs the
// TypeScript sources through tsx, so stale code never runs. Plain JavaScript: it
// runs before tsx is loaded.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'

const ROOT = new URL('../', import.meta.url)

/**
 * The URL of the bundle to import for `coldproof <name>`, or null when the sources must run.
 * `root` is the repository, `dist` the build's folder (both URLs ending in /).
 */
export function builtCommand(name, { root = ROOT, dist = new URL('dist/', root) } = {}) {
  try {
    const manifest = JSON.parse(readFileSync(new URL(`cli-${name}.sources.json`, dist), 'utf8'))
    const inputs = Object.entries(manifest.inputs)
    if (inputs.length === 0) return null
    for (const [path, hash] of inputs)
      if (
        createHash('sha256')
          .update(readFileSync(new URL(path, root)))
          .digest('hex') !== hash
      )
        return null
    return new URL(manifest.entry, dist)
  } catch {
    return null
  }
}
