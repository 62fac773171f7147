/**
 * `coldproof verify` alone: the entry scripts/build-cli.ts bundles into
 * dist/cli-verify.mjs, so that a regulator's verify starts as plain JavaScript
 * instead of compiling TypeScript through tsx (bin/coldproof.js picks it when
 * it matches the sources). Same program, same command, same output as
 * scripts/cli.ts.
 */
import { newProgram } from './program.ts'
import { register } from './commands/verify.ts'

export async function main(argv: string[]): Promise<void> {
  const program = newProgram()
  register(program)
  await program.parseAsync(argv)
}
