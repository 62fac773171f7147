/**
 * `coldproof hash-password`: reads a service-account password from stdin and
 * prints its salted scrypt hash for the broker's serviceAccounts option
 * (docs/OPERATIONS.md, "Service accounts"). The password never appears in
 * the process list or the shell history.
 */
import type { Command } from 'commander'
import { hashServicePassword } from '../../broker/index.ts'

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
}

export function register(program: Command): void {
  program
    .command('hash-password')
    .description('hash a broker service-account password read from stdin (scrypt, salted)')
    .action(async (_opts: unknown, cmd: Command) => {
      const password = await readStdin()
      try {
        process.stdout.write(`${await hashServicePassword(password)}\n`)
      } catch (e) {
        cmd.error(`error: ${(e as Error).message}`, { exitCode: 2 })
      }
    })
}
