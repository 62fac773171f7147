/**
 * Signed notes against the published examples (Go's sumdb/note package and
 * the C2SP spec, testdata/signed-note), verified by both Ed25519 engines
 * (noble and Node's crypto), and forged, unknown-key and modified-text notes.
 */
import t from 'tap'
import type { Test } from 'tap'
import { readFileSync } from 'node:fs'
import { fromBase64, fromHex, toHex, utf8 } from '../protocol/bytes.ts'
import { nobleSign, noblePublicKey, nodeSign, nodeVerify } from '../protocol/test/support.ts'
import {
  NoteError,
  noteKeyId,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  signerKey,
  verifierKey,
  verifyNote,
  type SignatureVerifier,
} from './note.ts'

const load = <T>(f: string): T =>
  JSON.parse(readFileSync(new URL(`./testdata/signed-note/${f}`, import.meta.url), 'utf8')) as T
const go = load<{
  source: string
  signerKey: string
  verifierKey: string
  text: string
  note: string
  secondVerifierKey: string
  secondSeedHex: string
  doublySignedNote: string
}>('go-sumdb-note.json')
const c2sp = load<{ source: string; verifierKey: string; text: string; note: string }>('c2sp-example.json')
// Node's crypto as the second, independent engine (OpenSSL).
const nodeNoteVerify: SignatureVerifier = nodeVerify
const engines: [string, SignatureVerifier | undefined][] = [
  ['noble', undefined],
  ['node', nodeNoteVerify],
]

async function rejects(t: Test, p: Promise<unknown>, code: string, msg: string) {
  try {
    await p
    t.fail(`${msg}: verified`)
  } catch (e) {
    t.equal((e as NoteError).code, code, msg)
  }
}

t.test('Go sumdb/note example', async (t) => {
  t.match(go.source, /golang\.org\/x\/mod\/sumdb\/note/)
  const sk = parseSignerKey(go.signerKey)
  const vk = parseVerifierKey(go.verifierKey)
  t.equal(sk.name, 'PeterNeumann')
  t.same(sk.publicKey, vk.publicKey, 'the signer key derives the verifier key')
  t.equal(verifierKey(sk.name, sk.publicKey), go.verifierKey, 'verifierKey reproduces the published string')
  t.equal(signerKey(sk.name, sk.seed), go.signerKey, 'signerKey reproduces the published string')
  t.equal(toHex(noteKeyId('PeterNeumann', vk.publicKey)), 'c74f20a3', 'key id')
  // Ed25519 is deterministic (RFC 8032), so both engines must sign to the published note byte for byte.
  t.equal(
    signNote(go.text, sk.name, (m) => nobleSign(m, sk.seed), sk.publicKey),
    go.note,
    'noble signs the published note',
  )
  t.equal(
    signNote(go.text, sk.name, (m) => nodeSign(m, sk.seed), sk.publicKey),
    go.note,
    'Node signs the published note',
  )
  for (const [name, verify] of engines) {
    t.same(await verifyNote(go.note, go.verifierKey, verify), { text: go.text }, `${name} verifies the published note`)
    await rejects(
      t,
      verifyNote(go.note.replace('cryptography', 'cryptographY'), go.verifierKey, verify),
      'ERR_NOTE_BAD_SIGNATURE',
      `${name}: modified text`,
    )
    await rejects(t, verifyNote(go.note, go.secondVerifierKey, verify), 'ERR_NOTE_UNVERIFIED', `${name}: another key`)
  }
  const enoch = parseVerifierKey(go.secondVerifierKey)
  t.same(
    enoch.publicKey,
    noblePublicKey(fromHex(go.secondSeedHex)),
    'EnochRoot key is the all-zero seed of the Go example',
  )
  for (const [name, verify] of engines) {
    t.same(
      await verifyNote(go.doublySignedNote, go.verifierKey, verify),
      { text: go.text },
      `${name}: doubly-signed note, first key`,
    )
    t.same(
      await verifyNote(go.doublySignedNote, go.secondVerifierKey, verify),
      { text: go.text },
      `${name}: doubly-signed note, second key`,
    )
  }
  t.equal(parseNote(go.doublySignedNote).signatures.length, 2)
})

t.test('C2SP signed-note example', async (t) => {
  for (const [name, verify] of engines)
    t.same(
      await verifyNote(c2sp.note, c2sp.verifierKey, verify),
      { text: c2sp.text },
      `${name} verifies the spec example`,
    )
})

t.test('forged, unknown-key, malformed', async (t) => {
  const seed = new Uint8Array(32).fill(7),
    pub = noblePublicKey(seed)
  const name = 'coldproof.example/ledger'
  const vkey = verifierKey(name, pub)
  const text = 'coldproof.example/ledger\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n'
  const note = signNote(text, name, (m) => nobleSign(m, seed), pub)
  t.match(note, /\n\n\u2014 coldproof\.example\/ledger [A-Za-z0-9+/]+=*\n$/, 'signature line starts with an em dash')
  t.same(await verifyNote(note, vkey, nodeNoteVerify), { text }, 'Node verifies a noble-signed note')

  // A forger who knows the name and key id but not the key: the signature must fail.
  const forger = new Uint8Array(32).fill(9)
  const forged = `${text}\n\u2014 ${name} ${Buffer.concat([noteKeyId(name, pub), nobleSign(utf8(text), forger)]).toString('base64')}\n`
  for (const [n, verify] of engines)
    await rejects(
      t,
      verifyNote(forged, vkey, verify),
      'ERR_NOTE_BAD_SIGNATURE',
      `${n}: forged signature under the trusted name and key id`,
    )
  // Signed by an unknown key (other key id, same name): ignored, so nothing verifies.
  const other = signNote(text, name, (m) => nobleSign(m, forger), noblePublicKey(forger))
  await rejects(t, verifyNote(other, vkey), 'ERR_NOTE_UNVERIFIED', 'unknown key')
  // Unknown signature plus the real one: the unknown one is ignored (signed-note: "MUST ignore").
  const both = other.trimEnd() + '\n' + note.slice(note.lastIndexOf('\u2014'))
  t.same(await verifyNote(both, vkey), { text }, 'an extra signature from an unknown key is ignored')
  await rejects(t, verifyNote(note.replace('\n12\n', '\n13\n'), vkey), 'ERR_NOTE_BAD_SIGNATURE', 'modified size line')
  await rejects(t, verifyNote(note.replace('\u2014', '-'), vkey), 'ERR_NOTE_MALFORMED', 'hyphen instead of em dash')
  await rejects(t, verifyNote(note.replace('\n\n', '\n'), vkey), 'ERR_NOTE_MALFORMED', 'no blank line')
  await rejects(t, verifyNote(note.slice(0, -1), vkey), 'ERR_NOTE_MALFORMED', 'no final newline')
  await rejects(
    t,
    verifyNote(note.replace('ledger\n12', 'ledger\t\n12'), vkey),
    'ERR_NOTE_MALFORMED',
    'control character',
  )
  const sig = note.slice(note.lastIndexOf(' ') + 1, -1)
  await rejects(t, verifyNote(note.replace(sig, sig.replace(/=*$/, '')), vkey), 'ERR_NOTE_MALFORMED', 'unpadded base64')
  t.equal(fromBase64(sig).length, 68, 'signature is key id (4) + Ed25519 (64)')
  const shortSig = `${text}\n\u2014 ${name} ${Buffer.concat([noteKeyId(name, pub), new Uint8Array(10)]).toString('base64')}\n`
  await rejects(t, verifyNote(shortSig, vkey), 'ERR_NOTE_BAD_SIGNATURE', 'truncated signature under the trusted key')
  const many = text + '\n' + Array.from({ length: 101 }, () => note.slice(note.lastIndexOf('\u2014'))).join('')
  await rejects(t, verifyNote(many, vkey), 'ERR_NOTE_TOO_MANY_SIGNATURES', '101 signatures')
  t.throws(() => signNote('no newline', name, (m) => nobleSign(m, seed), pub), { code: 'ERR_NOTE_MALFORMED' })
  t.throws(() => signNote(text, 'bad name', (m) => nobleSign(m, seed), pub), { code: 'ERR_NOTE_BAD_NAME' })
  t.throws(() => signNote(text, 'a+b', (m) => nobleSign(m, seed), pub), { code: 'ERR_NOTE_BAD_NAME' })
})

t.test('verifier key strings', async (t) => {
  const good = go.verifierKey
  t.throws(() => parseVerifierKey(good.replace('c74f20a3', 'c74f20a4')), { code: 'ERR_NOTE_BAD_KEY' }, 'wrong key id')
  t.throws(
    () => parseVerifierKey(good.replace('PeterNeumann', 'PeterNeuman')),
    { code: 'ERR_NOTE_BAD_KEY' },
    'name not bound to key id',
  )
  t.throws(() => parseVerifierKey(good.replace('+ARpc', '+Ahpc')), { code: 'ERR_NOTE_BAD_KEY' }, 'key type 0x02')
  t.throws(() => parseVerifierKey(good.slice(0, -4)), { code: 'ERR_NOTE_BAD_KEY' }, 'truncated key')
  t.throws(() => parseVerifierKey('PeterNeumann'), { code: 'ERR_NOTE_BAD_KEY' }, 'no key')
  // Every strict substring of a valid key is refused (as Go's TestNewVerifier checks).
  let accepted = 0
  for (let i = 0; i < good.length; i++)
    for (let j = i + 1; j <= good.length; j++) {
      if (i === 0 && j === good.length) continue
      try {
        parseVerifierKey(good.slice(i, j))
        accepted++
      } catch (e) {
        if (!(e instanceof NoteError)) throw e
      }
    }
  t.equal(accepted, 0, 'no substring of a verifier key parses')
  const plus = 'TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6'
  t.equal(parseVerifierKey(plus).name, 'TEST', 'a key whose base64 contains "+" (transparency-dev/formats test key)')
})
