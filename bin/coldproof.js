#!/usr/bin/env node
// The `coldproof` command. The sources are TypeScript run through tsx, so a
// clean clone needs no build step before `npm start`.
import { register } from 'tsx/esm/api'
register()
await import('../scripts/cli.ts')
