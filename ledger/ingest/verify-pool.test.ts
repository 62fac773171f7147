import t from 'tap'
import { generateKeyPairSync, sign, randomBytes } from 'node:crypto'
import { createVerifyPool } from './verify-pool.ts'

function signer() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const pk = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12))
  return { pk, sign: (m: Uint8Array) => new Uint8Array(sign(null, m, privateKey)) }
}

/** 600 requests over 3 keys: valid, tampered message, tampered signature, wrong key, in a fixed pattern. */
function cases() {
  const keys = [signer(), signer(), signer()]
  return Array.from({ length: 600 }, (_, i) => {
    const k = keys[i % 3]
    const message = new Uint8Array(randomBytes(40 + (i % 80)))
    const signature = k.sign(message)
    switch (i % 4) {
      case 0:
        return { pk: k.pk, message, signature, valid: true }
      case 1: {
        const m = message.slice()
        m[0] ^= 1
        return { pk: k.pk, message: m, signature, valid: false }
      }
      case 2: {
        const s = signature.slice()
        s[10] ^= 4
        return { pk: k.pk, message, signature: s, valid: false }
      }
      default:
        return { pk: keys[(i + 1) % 3].pk, message, signature, valid: false }
    }
  })
}

for (const threads of [0, 1, 2]) {
  t.test(`${threads} worker threads: each request gets its own outcome`, async (t) => {
    const pool = createVerifyPool({ threads, maxBatch: 64 })
    t.teardown(() => pool.close())
    const all = cases()
    const got = await Promise.all(all.map((c) => pool.verify(c.signature, c.message, c.pk)))
    t.same(
      got,
      all.map((c) => c.valid),
      'valid ones true, every tampered one false, in request order',
    )
    t.equal(pool.threads, threads)
  })
}

t.test('bad shapes are invalid, never thrown', async (t) => {
  const pool = createVerifyPool({ threads: 1 })
  t.teardown(() => pool.close())
  const k = signer()
  const m = new Uint8Array([1, 2, 3])
  const s = k.sign(m)
  t.equal(await pool.verify(s, m, k.pk.subarray(1)), false, 'short key')
  t.equal(await pool.verify(s.subarray(1), m, k.pk), false, 'short signature')
  t.equal(await pool.verify(s, m, new Uint8Array(32)), false, 'all-zero key')
  t.equal(await pool.verify(s, new Uint8Array(70_000), k.pk), false, 'message longer than a batch slot')
  t.equal(await pool.verify(s, m, k.pk), true, 'and the pool still works')
})

t.test('close waits for requests in flight, then verifies inline', async (t) => {
  const pool = createVerifyPool({ threads: 2 })
  const k = signer()
  const m = new Uint8Array([9, 9])
  const pending = Array.from({ length: 50 }, () => pool.verify(k.sign(m), m, k.pk))
  await pool.close()
  t.same(await Promise.all(pending), new Array(50).fill(true))
  t.equal(await pool.verify(k.sign(m), m, k.pk), true, 'after close: inline')
})

t.test('options are checked', async (t) => {
  t.throws(() => createVerifyPool({ threads: -1 }), RangeError)
  t.throws(() => createVerifyPool({ maxBatch: 0 }), RangeError)
})
