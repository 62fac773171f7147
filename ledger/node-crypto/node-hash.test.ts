import t from 'tap'
import { randomBytes } from 'node:crypto'
import { sha256 } from '@noble/hashes/sha2.js'
import { leafHash, nodeHash } from '../tlog/merkle.ts'
import { entryHash } from '../tlog/entry-codec.ts'
import { toHex } from '../protocol/index.ts'
import { leafHashNode, nodeHashNode, sha256Hex } from './node-hash.ts'

t.test("Node's SHA-256 gives the browser-safe functions' bytes", async (t) => {
  for (const n of [0, 1, 55, 56, 64, 300, 4096]) {
    const b = new Uint8Array(randomBytes(n))
    t.equal(sha256Hex(b), toHex(sha256(b)), `sha256, ${n} bytes`)
    t.equal(sha256Hex(b), entryHash(b), `entry hash, ${n} bytes`)
    t.equal(toHex(leafHashNode(b)), toHex(leafHash(b)), `leaf hash, ${n} bytes`)
  }
  const l = new Uint8Array(randomBytes(32))
  const r = new Uint8Array(randomBytes(32))
  t.equal(toHex(nodeHashNode(l, r)), toHex(nodeHash(l, r)), 'node hash')
  t.not(toHex(nodeHashNode(l, r)), toHex(nodeHashNode(r, l)), 'order matters')
})
