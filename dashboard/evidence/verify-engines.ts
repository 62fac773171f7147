/**
 * The verifier's own Ed25519 engines: WebCrypto where the platform has it
 * (proven against an RFC 8032 vector first), else @noble/ed25519 — never the
 * ingest's Node crypto. Pure (no Node API).
 */
import * as ed from '@noble/ed25519'
import { sha512 } from '@noble/hashes/sha2.js'
import type { SignatureVerifier } from '../../ledger/tlog/index.ts'
import { fromHex, toHex } from '../../ledger/protocol/index.ts'

if (!ed.hashes.sha512) ed.hashes.sha512 = sha512

export type EngineName = 'webcrypto' | 'noble'

/** One signature to check: 64-byte signature, message, 32-byte public key. */
export interface SignatureItem {
  sig: Uint8Array
  msg: Uint8Array
  pub: Uint8Array
}

/**
 * Runs a batch of signature checks on other threads, each running this same
 * engine (Node: verify-threads.ts; the browser passes none and keeps one
 * thread). It resolves null when it will not (too few checks to pay for
 * starting threads) or cannot (no worker support, a worker died): the checks
 * are then made here, with the same engine.
 */
export type SpreadSignatures = (
  engine: EngineName,
  items: SignatureItem[],
  onDone: (n: number) => void,
) => Promise<boolean[] | null>

/** One signature engine. Neither method throws: an invalid signature or key verifies as false. */
export interface Engine {
  used: EngineName
  note?: string
  verifyMany(items: SignatureItem[], onDone: (n: number) => void): Promise<boolean[]>
  noteVerify: SignatureVerifier
}

const yieldToLoop = () => new Promise<void>((r) => setTimeout(r, 0))
const u8 = (b: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(b) as Uint8Array<ArrayBuffer>

function nobleEngine(note?: string): Engine {
  // noble, strict RFC 8032 (zip215: false): canonical S and R, no small-order shortcuts.
  const one = (sig: Uint8Array, msg: Uint8Array, pub: Uint8Array) => {
    try {
      return ed.verify(sig, msg, pub, { zip215: false })
    } catch {
      return false
    }
  }
  return {
    used: 'noble',
    note,
    async verifyMany(items, onDone) {
      const out: boolean[] = []
      for (let i = 0; i < items.length; i++) {
        out.push(one(items[i].sig, items[i].msg, items[i].pub))
        if ((i + 1) % 64 === 0 || i + 1 === items.length) {
          onDone(i + 1)
          await yieldToLoop()
        }
      }
      return out
    },
    noteVerify: one,
  }
}

/** WebCrypto Ed25519 (Node 20, Chromium in a secure context), or the reason it is unusable on this platform. */
async function webCryptoEngine(): Promise<Engine | string> {
  const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle
  if (!subtle) return 'this platform has no WebCrypto (crypto.subtle; browsers give it only to secure contexts)'
  const keys = new Map<string, Promise<CryptoKey>>()
  const keyOf = (pub: Uint8Array) => {
    const k = toHex(pub)
    let p = keys.get(k)
    if (!p) {
      p = subtle.importKey('raw', u8(pub), { name: 'Ed25519' }, false, ['verify'])
      keys.set(k, p)
    }
    return p
  }
  const one = async (sig: Uint8Array, msg: Uint8Array, pub: Uint8Array) => {
    try {
      return await subtle.verify({ name: 'Ed25519' }, await keyOf(pub), u8(sig), u8(msg))
    } catch {
      return false
    }
  }
  // RFC 8032 section 7.1, TEST 1: proves the platform really verifies Ed25519 before it is trusted with the job.
  const pub = fromHex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a')
  const sig = fromHex(
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  )
  try {
    await subtle.importKey('raw', u8(pub), { name: 'Ed25519' }, false, ['verify'])
  } catch (e) {
    return `this platform's WebCrypto has no Ed25519 (${(e as Error).message})`
  }
  if (!(await one(sig, new Uint8Array(0), pub)))
    return "this platform's WebCrypto Ed25519 fails the RFC 8032 test vector"
  const bad = sig.slice()
  bad[0] ^= 1
  if (await one(bad, new Uint8Array(0), pub)) return "this platform's WebCrypto Ed25519 accepts an altered signature"
  return {
    used: 'webcrypto',
    async verifyMany(items, onDone) {
      const out: boolean[] = new Array(items.length)
      const CHUNK = 512
      for (let i = 0; i < items.length; i += CHUNK) {
        const part = items.slice(i, i + CHUNK)
        const r = await Promise.all(part.map((x) => one(x.sig, x.msg, x.pub)))
        r.forEach((v, j) => {
          out[i + j] = v
        })
        onDone(Math.min(i + CHUNK, items.length))
      }
      return out
    },
    noteVerify: one,
  }
}

export async function pickEngine(requested: EngineName, spread?: SpreadSignatures): Promise<Engine> {
  const w = requested === 'noble' ? nobleEngine() : await webCryptoEngine()
  const engine = typeof w === 'string' ? nobleEngine(`${w}; used @noble/ed25519 instead`) : w
  if (!spread) return engine
  return {
    ...engine,
    async verifyMany(items, onDone) {
      return (await spread(engine.used, items, onDone).catch(() => null)) ?? engine.verifyMany(items, onDone)
    },
  }
}
