/**
 * RFC 8032 section 7.1 test vectors (testdata/rfc8032/*.json), checked against
 * both Ed25519 engines: key derivation, deterministic signing and verification.
 */
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { fromHex, toHex } from './bytes.ts'
import { nobleSign, noblePublicKey, nobleVerify, nodePublicKey, nodeSign, nodeVerify } from './test/support.ts'

interface Rfc8032Vector {
  desc: string
  source: string
  secretKey: string
  publicKey: string
  message: string
  signature: string
}

const dir = new URL('./testdata/rfc8032/', import.meta.url)
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()

t.equal(files.length, 5, 'TEST 1, 2, 3, 1024 and SHA(abc) are all present')

for (const file of files) {
  const v = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as Rfc8032Vector
  t.test(`${file}: ${v.desc}`, async (t) => {
    t.match(v.source, /RFC 8032, section 7\.1/)
    const sk = fromHex(v.secretKey),
      pk = fromHex(v.publicKey),
      msg = fromHex(v.message),
      sig = fromHex(v.signature)
    t.equal(toHex(noblePublicKey(sk)), v.publicKey, 'noble derives the public key')
    t.equal(toHex(nodePublicKey(sk)), v.publicKey, 'Node derives the public key')
    t.equal(toHex(nobleSign(msg, sk)), v.signature, 'noble signs to the published signature')
    t.equal(toHex(nodeSign(msg, sk)), v.signature, 'Node signs to the published signature')
    t.ok(nobleVerify(sig, msg, pk), 'noble verifies')
    t.ok(nodeVerify(sig, msg, pk), 'Node verifies')
    // One flipped bit anywhere in the signature or message must fail in both engines.
    const badSig = sig.slice()
    badSig[v.message.length % 64] ^= 0x01
    t.notOk(nobleVerify(badSig, msg, pk), 'noble refuses a flipped signature bit')
    t.notOk(nodeVerify(badSig, msg, pk), 'Node refuses a flipped signature bit')
    const badMsg = Uint8Array.from([...msg, 0])
    t.notOk(nobleVerify(sig, badMsg, pk), 'noble refuses an extended message')
    t.notOk(nodeVerify(sig, badMsg, pk), 'Node refuses an extended message')
  })
}
