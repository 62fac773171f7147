/**
 * scripts/cli.ts registers its commands from an explicit list: every module in
 * scripts/commands/ that exports register() must be on it, and each listed
 * module must register the command it is named for.
 */
import t from 'tap'
import { readdirSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { dirname, join } from 'node:path'
import { COMMANDS, buildProgram } from '../cli.ts'

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'commands')

t.test('every command module is registered', async (t) => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { register?: unknown }
    const name = f.slice(0, -3)
    if (typeof mod.register === 'function')
      t.ok(Object.hasOwn(COMMANDS, name), `${f} exports register() and is in COMMANDS`)
    else t.notOk(Object.hasOwn(COMMANDS, name), `${f} is a helper (no register()) and not in COMMANDS`)
  }
  for (const name of Object.keys(COMMANDS)) t.ok(files.includes(`${name}.ts`), `COMMANDS.${name} has its file`)
})

t.test('each listed module registers the command named for it', async (t) => {
  for (const name of Object.keys(COMMANDS)) {
    const program = await buildProgram([name])
    t.ok(
      program.commands.some((c) => c.name() === name),
      `coldproof ${name}`,
    )
  }
})
