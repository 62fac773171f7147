#!/usr/bin/env node
// The `coldproof` command. The sources are TypeScript run through tsx (no
// compile step); the dashboard's browser bundle is built by `npm install`.
// `coldproof verify` (a regulator's start-up) runs from its pre-built bundle
// when it matches the sources (scripts/built-cli.js, scripts/build-cli.ts).
import { builtCommand } from '../scripts/built-cli.js'

const built = process.argv[2] === 'verify' ? builtCommand('verify') : null
if (built) {
  const { main } = await import(built.href)
  await main(process.argv)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  const { main } = await import('../scripts/cli.ts')
  await main(process.argv)
}
