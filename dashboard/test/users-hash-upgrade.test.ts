import t from 'tap'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openUserStore } from '../server/users.ts'

// Made by the dashboard's hasher before the format was shared with the broker (padded base64, 64-byte key).
const OLD_HASH =
  'scrypt$16384$8$1$vRCdlB/UT+sIU2iH9g/ULQ==$1sSOT2XFyqsXaXmnk5J2SW01aGmFosR6OTToh/oYEwqEwDsyLA9u/S7T20YGlAKxfAc0XaGzBxxjit7OlbzJOg=='
const usersFile = (password: string) =>
  JSON.stringify({
    format: 'coldproof-users',
    version: 1,
    users: [{ username: 'ada', role: 'admin', password, createdAt: 1, tokens: [] }],
  })

t.test('an older hash signs in and is re-hashed into the current form', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'coldproof-users-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'users.json')
  await writeFile(file, usersFile(OLD_HASH))
  const store = await openUserStore({ file })
  t.equal(await store.authenticate('ada', 'dashboard user password 2'), null, 'a wrong password changes nothing')
  t.equal(JSON.parse(await readFile(file, 'utf8')).users[0].password, OLD_HASH)
  t.match(await store.authenticate('ada', 'dashboard user password 1'), { username: 'ada', role: 'admin' })
  const upgraded = JSON.parse(await readFile(file, 'utf8')).users[0].password
  t.match(upgraded, /^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/)
  const again = await openUserStore({ file })
  t.ok(await again.authenticate('ada', 'dashboard user password 1'), 'the new hash verifies')
})

t.test('a damaged hash in the users file fails at open, naming the user', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'coldproof-users-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'users.json')
  await writeFile(file, usersFile('scrypt$16384$8$1$c2FsdA'))
  await t.rejects(openUserStore({ file }), {
    code: 'ERR_PASSWORD_HASH',
    message: /users\.json: user "ada": .*6 "\$"-separated fields/,
  })
})
