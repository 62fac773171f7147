/**
 * Rewrites the settings table of docs/OPERATIONS.md from scripts/start-config/settings.ts
 * (scripts/test/start-config.test.ts fails while the two differ).
 * Run: node --import tsx scripts/gen-settings-table.ts
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { settingsTable } from './start-config/index.ts'

const file = fileURLToPath(new URL('../docs/OPERATIONS.md', import.meta.url))
const doc = readFileSync(file, 'utf8')
const re = /(<!-- settings-table:begin[^>]*-->\n)[\s\S]*?(\n<!-- settings-table:end -->)/
if (!re.test(doc)) throw new Error(`${file}: no <!-- settings-table:begin --> ... <!-- settings-table:end --> markers`)
writeFileSync(
  file,
  doc.replace(re, (_, a: string, b: string) => a + settingsTable() + b),
)
process.stdout.write(`wrote the settings table of ${file}\n`)
