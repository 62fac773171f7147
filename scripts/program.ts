/** The bare `coldproof` program, before any command registers on it (scripts/cli.ts, scripts/cli-verify.ts). */
import { Command } from 'commander'

export function newProgram(): Command {
  return new Command()
    .name('coldproof')
    .description('ColdProof: signed cold-chain readings, a verifiable ledger, EU GDP compliance')
    .showHelpAfterError()
}
