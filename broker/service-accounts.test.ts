import t from 'tap'
import { scryptSync } from 'node:crypto'
import { hashServicePassword, parsePasswordHash, verifyServicePassword } from './service-accounts.ts'

const COST = { N: 2 ** 12, r: 8, p: 1 }

t.test('hash and verify', async (t) => {
  const h = await hashServicePassword('correct horse battery staple', COST)
  t.match(h, /^scrypt\$4096\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/)
  t.equal(await verifyServicePassword('correct horse battery staple', h), true)
  t.equal(
    await verifyServicePassword(Buffer.from('correct horse battery staple'), h),
    true,
    'the MQTT password arrives as a Buffer',
  )
  t.equal(await verifyServicePassword('correct horse battery stapl', h), false)
  t.equal(await verifyServicePassword('', h), false)
  t.not(await hashServicePassword('correct horse battery staple', COST), h, 'salted: two hashes of one password differ')
})

t.test('the stored key is RFC 7914 scrypt, cross-checked with scryptSync', async (t) => {
  const h = await hashServicePassword('another long password', COST)
  const p = parsePasswordHash(h)
  t.same(scryptSync('another long password', p.salt, 32, COST), p.key)
})

t.test('RFC 7914 section 12 vector through the same parser', async (t) => {
  // scrypt("password", "NaCl", N=1024, r=8, p=16, dkLen=64), first 32 bytes.
  const key = Buffer.from('fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162', 'hex')
  const h = `scrypt$1024$8$16$${Buffer.from('NaCl').toString('base64url')}$${key.toString('base64url')}`
  t.equal(await verifyServicePassword('password', h), true)
  t.equal(await verifyServicePassword('Password', h), false)
})

t.test('refuses short passwords and foreign hash strings', async (t) => {
  await t.rejects(hashServicePassword('short', COST), RangeError)
  for (const bad of [
    '',
    'plain',
    '$2b$10$abc',
    'scrypt$1000$8$1$AAAA$AAAA',
    'scrypt$4096$8$1$AAAA$AAAA',
    'scrypt$4096$0$1$AAAA$' + 'A'.repeat(43),
  ]) {
    t.throws(() => parsePasswordHash(bad), { code: 'ERR_PASSWORD_HASH' }, JSON.stringify(bad))
  }
})
