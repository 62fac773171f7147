/**
 * The `coldproof` command line. Each subcommand lives in scripts/commands/
 * and registers itself on the program; this file only assembles them, from an
 * explicit list (scripts/test/cli-commands.test.ts checks it against the folder).
 */
import type { Command } from 'commander'
import { newProgram } from './program.ts'

type CommandModule = { register(p: Command): void }

/** Module name -> loader. A module may register more than one command (backup: backup and restore). */
export const COMMANDS: Readonly<Record<string, () => Promise<CommandModule>>> = {
  backup: () => import('./commands/backup.ts'),
  bench: () => import('./commands/bench.ts'),
  chaos: () => import('./commands/chaos.ts'),
  'hash-password': () => import('./commands/hash-password.ts'),
  report: () => import('./commands/report.ts'),
  sim: () => import('./commands/sim.ts'),
  start: () => import('./commands/start.ts'),
  tiles: () => import('./commands/tiles.ts'),
  user: () => import('./commands/user.ts'),
  'verify-consistency': () => import('./commands/verify-consistency.ts'),
  'verify-ledger': () => import('./commands/verify-ledger.ts'),
  verify: () => import('./commands/verify.ts'),
  witness: () => import('./commands/witness.ts'),
}

/** The program with `names`' commands registered (default: all of them). */
export async function buildProgram(names: readonly string[] = Object.keys(COMMANDS)): Promise<Command> {
  const program = newProgram()
  for (const name of names) (await COMMANDS[name]()).register(program)
  return program
}

/** Runs `coldproof` with these arguments (bin/coldproof.js). */
export async function main(argv: string[]): Promise<void> {
  // A command whose module bears its name loads that module only: `coldproof verify` (a regulator's
  // start-up) does not load the server's dependencies. Help and other names load every command.
  const own = Object.hasOwn(COMMANDS, argv[2] ?? '') ? [argv[2]] : undefined
  await (await buildProgram(own)).parseAsync(argv)
}
