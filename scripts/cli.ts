/**
 * The `coldproof` command line. Each subcommand lives in scripts/commands/
 * and registers itself on the program; this file only assembles them.
 */
import { Command } from 'commander'
import { readdirSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { join, dirname } from 'node:path'

const program = new Command()
program
  .name('coldproof')
  .description('ColdProof: signed cold-chain readings, a verifiable ledger, EU GDP compliance')
  .showHelpAfterError()

const dir = join(dirname(fileURLToPath(import.meta.url)), 'commands')
const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).sort()
// A command whose module bears its name loads that module only: `coldproof verify` (a regulator's
// start-up) does not load the server's dependencies. Help and other names load every command.
const own = files.find((f) => f === `${process.argv[2]}.ts`)
for (const f of own ? [own] : files) {
  const mod = (await import(pathToFileURL(join(dir, f)).href)) as { register?: (p: Command) => void }
  if (typeof mod.register === 'function') mod.register(program)
}

await program.parseAsync(process.argv)
