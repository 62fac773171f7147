/**
 * `coldproof user add <name> --role <role>`: the one-time setup step of a
 * production start (no demo logins): creates a dashboard user in the data
 * directory's users.json with the same scrypt store the server uses. The
 * password is read from stdin (--password-stdin) or generated and printed
 * once; it never appears in the process list or shell history.
 *
 * A running server keeps its users in memory and would overwrite the file:
 * while one holds the data directory, users are added here only when none
 * exists yet (the server then reads the file at the next sign-in); after
 * that, on the dashboard's Users page.
 */
import type { Command } from 'commander'
import { InvalidArgumentError } from 'commander'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { userInfo } from 'node:os'
import { openUserStore, ROLES, type Role } from '../../dashboard/server/users.ts'
import { openAuditLog } from '../../dashboard/server/audit.ts'

const USERNAME = /^[a-z0-9][a-z0-9._-]{2,31}$/

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
}

/** True when another process (a running `coldproof start`) holds the ledger's LevelDB lock. */
async function ledgerInUse(dataDir: string): Promise<boolean> {
  const dir = join(dataDir, 'ledger', 'db')
  if (!existsSync(dir)) return false
  const db = new ClassicLevel(dir, { createIfMissing: false })
  try {
    await db.open()
    await db.close()
    return false
  } catch (e) {
    for (let cur = e as { code?: string; cause?: unknown } | undefined; cur; cur = cur.cause as typeof cur)
      if (cur.code === 'LEVEL_LOCKED') return true
    return false
  }
}

function fail(message: string): never {
  process.stderr.write(`coldproof user add: ${message}\n`)
  process.exit(1)
}

export function register(program: Command): void {
  const user = program
    .command('user')
    .description('manage dashboard users in the data directory (first admin of a production start)')
    .addHelpText(
      'after',
      `\nExample (the first admin of a production start):\n  coldproof user add <name> --role admin --data <dir> [--password-stdin]\n  roles: ${ROLES.join(', ')}`,
    )
  user
    .command('add <name>')
    .description('create a dashboard user; prints a generated password once unless --password-stdin')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`, (v: string) => {
      if (!(ROLES as readonly string[]).includes(v))
        throw new InvalidArgumentError(`must be one of ${ROLES.join(', ')}, got "${v}"`)
      return v
    })
    .option('--data <dir>', 'data directory (env COLDPROOF_DATA)', process.env.COLDPROOF_DATA ?? '.data')
    .option('--password-stdin', 'read the password from stdin (10..200 characters) instead of generating one')
    .action(async (name: string, o: { role: Role; data: string; passwordStdin?: boolean }) => {
      if (!USERNAME.test(name))
        fail(
          `ERR_USER_NAME: "${name}" is not a valid user name: 3..32 characters a-z 0-9 . _ -, starting with a letter or digit`,
        )
      const dataDir = resolve(o.data)
      const password = o.passwordStdin ? await readStdin() : randomBytes(18).toString('base64url')
      if (password.length < 10 || password.length > 200)
        fail(`ERR_USER_PASSWORD: the password read from stdin has ${password.length} characters; it needs 10..200`)
      const store = await openUserStore({ file: join(dataDir, 'users.json') })
      if (store.get(name))
        fail(
          `ERR_USER_EXISTS: user "${name}" already exists in ${join(dataDir, 'users.json')}; change its password on the dashboard's Users page`,
        )
      if (store.list().length > 0 && (await ledgerInUse(dataDir))) {
        fail(
          `ERR_DATA_IN_USE: a running ColdProof holds ${dataDir} and keeps its users in memory; add "${name}" on the dashboard's Users page (admin), or stop the server first`,
        )
      }
      await store.create({ username: name, password, role: o.role })
      // Into the same audit trail as the Users page's changes (docs/OPERATIONS.md): by the OS account, from this machine.
      const audit = await openAuditLog(join(dataDir, 'audit.jsonl'))
      await audit.append({
        at: Date.now(),
        by: `cli:${userInfo().username}`,
        action: 'user.created',
        target: name,
        ip: 'local',
        details: { role: o.role },
      })
      await audit.close()
      process.stdout.write(`created ${o.role} "${name}" in ${join(dataDir, 'users.json')}\n`)
      if (!o.passwordStdin) process.stdout.write(`password (shown once, store it now): ${password}\n`)
    })
}
