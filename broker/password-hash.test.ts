import t from 'tap'
import { hashPassword, needsRehash, parsePasswordHash, PasswordHashError, verifyPassword } from './password-hash.ts'
import { hashServicePassword, verifyServicePassword } from './service-accounts.ts'
import {
  hashPassword as hashUserPassword,
  verifyPassword as verifyUserPassword,
  USER_SCRYPT_COST,
} from '../dashboard/server/users.ts'

// Real strings made by the two hashers before they shared this module (commit 6742961):
// the dashboard's (padded base64, 64-byte key) and the broker's (base64url, 32-byte key).
const OLD = {
  dashboard: {
    password: 'dashboard user password 1',
    hash: 'scrypt$16384$8$1$vRCdlB/UT+sIU2iH9g/ULQ==$1sSOT2XFyqsXaXmnk5J2SW01aGmFosR6OTToh/oYEwqEwDsyLA9u/S7T20YGlAKxfAc0XaGzBxxjit7OlbzJOg==',
  },
  broker: {
    password: 'broker service password 1',
    hash: 'scrypt$4096$8$1$1p6FQTfyhWStuZfnygBMaA$VqLrboTZdVvYpbyculvpFOigz2qF_n3A7BbnD-cJWzA',
  },
}
const COST = { N: 2 ** 12, r: 8, p: 1 }

t.test('hashes in both older forms still verify, and only the dashboard one needs a re-hash', async (t) => {
  for (const [name, o] of Object.entries(OLD)) {
    t.equal(await verifyPassword(o.password, o.hash), true, `${name}: right password`)
    t.equal(await verifyPassword(`${o.password}x`, o.hash), false, `${name}: wrong password`)
  }
  t.equal(
    await verifyServicePassword(OLD.dashboard.password, OLD.dashboard.hash),
    true,
    'the broker reads an old dashboard hash',
  )
  t.equal(
    await verifyUserPassword(OLD.broker.password, OLD.broker.hash),
    true,
    'the dashboard reads an old broker hash',
  )
  t.equal(needsRehash(OLD.dashboard.hash, USER_SCRYPT_COST), true, 'padded base64 and a 64-byte key are replaced')
  t.equal(needsRehash(OLD.broker.hash, COST), false, 'the broker form is the current form')
  t.equal(needsRehash(OLD.broker.hash), true, 'a cheaper cost than asked for is replaced')
})

t.test("either side verifies the other side's new hashes", async (t) => {
  const fromBroker = await hashServicePassword('a service password', COST)
  const fromDashboard = await hashUserPassword('a user password')
  t.match(
    fromDashboard,
    /^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/,
    'one format: base64url, 32-byte key',
  )
  t.equal(await verifyUserPassword('a service password', fromBroker), true)
  t.equal(await verifyServicePassword('a user password', fromDashboard), true)
  t.equal(await verifyUserPassword('a service passworD', fromBroker), false)
  t.equal(await verifyServicePassword(Buffer.from('a user passworD'), fromDashboard), false)
  t.equal(needsRehash(fromDashboard, USER_SCRYPT_COST), false)
})

t.test('malformed hashes: a typed error that names the part', async (t) => {
  const good = await hashPassword('pw', COST)
  const [, , , , salt, key] = good.split('$')
  const cases: Array<[string, RegExp]> = [
    ['', /start with "scrypt\$"/],
    ['$2b$10$abcdefghijklmnopqrstuv', /start with "scrypt\$"/],
    [`scrypt$4096$8$1$${salt}`, /6 "\$"-separated fields.*got 5/],
    [`scrypt$1000$8$1$${salt}$${key}`, /N must be a power of two.*got 1000/],
    [`scrypt$${2 ** 21}$8$1$${salt}$${key}`, /N must be a power of two from 2 to 2\^20/],
    [`scrypt$4096$0$1$${salt}$${key}`, /r must be an integer.*got 0/],
    [`scrypt$4096$x$1$${salt}$${key}`, /r must be an integer.*got NaN/],
    [`scrypt$4096$8$99$${salt}$${key}`, /p must be an integer.*got 99/],
    [`scrypt$1048576$32$1$${salt}$${key}`, /4096 MiB, more than the 1024 MiB/],
    [`scrypt$4096$8$1$${salt}!$${key}`, /the salt is not base64url/],
    // base64url's alphabet with base64's padding is neither form (a random key without - or _ would be valid padded base64).
    [`scrypt$4096$8$1$${salt}$${'A'.repeat(42)}_=`, /the key is not base64url/],
    [`scrypt$4096$8$1$${'A'.repeat(88)}$${key}`, /salt must be 1 to 64 bytes, got 66/],
    [`scrypt$4096$8$1$${salt}$AAAA`, /key must be 16 to 64 bytes, got 3/],
  ]
  for (const [bad, message] of cases) {
    t.throws(
      () => parsePasswordHash(bad),
      { name: 'PasswordHashError', code: 'ERR_PASSWORD_HASH', message },
      JSON.stringify(bad),
    )
  }
  await t.rejects(
    verifyPassword('pw', 'scrypt$4096$8$1$AAAA$AAAA'),
    PasswordHashError,
    'verify refuses it too, not false',
  )
  await t.rejects(hashPassword('pw', { N: 1000, r: 8, p: 1 }), RangeError)
})
