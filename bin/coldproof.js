#!/usr/bin/env node
// The `coldproof` command. The sources are TypeScript run through tsx (no
// compile step); the dashboard's browser bundle is built by `npm install`.
import { register } from 'tsx/esm/api'
register()
const { main } = await import('../scripts/cli.ts')
await main(process.argv)
