/**
 * Hostile values (noble's habit) against the parsers of the integrity
 * formats: each refuses every one with its own typed error, never a crash
 * or a foreign exception.
 */
import t from 'tap'
import { decodeEntry, EntryError, validateEntry } from './entry-codec.ts'
import { parseCheckpoint, CheckpointError } from './checkpoint.ts'
import { parseNote, parseVerifierKey, verifyNote, NoteError } from './note.ts'
import { parseTlogProof, TlogProofError } from './tlog-proof.ts'
import { MerkleError, verifyConsistency, verifyInclusion, EMPTY_ROOT } from './merkle.ts'
import { utf8 } from '../protocol/bytes.ts'

const strings = [
  '',
  ' ',
  '\n',
  '\n\n',
  '\u2014',
  '\u2014 \n',
  'a\n\n\u2014 a AAAA\n',
  'x'.repeat(100_000),
  '\u0000',
  '\ud800',
  '{}',
  '[]',
  'null',
  '1e309',
  '{"v":1}',
  '{"__proto__":{"v":1}}',
  'c2sp.org/tlog-proof@v1\n',
  'c2sp.org/tlog-proof@v1\nindex 1\n\n',
  'o\n1\n=\n',
  'o\n-0\nAAAA\n',
  'PRIVATE+KEY+',
  '+++',
  'a+b+c',
  'a+00000000+AQ==',
]
const values: unknown[] = [
  undefined,
  null,
  0,
  -1,
  1.5,
  NaN,
  Infinity,
  2 ** 53,
  true,
  {},
  [],
  () => 1,
  Symbol('s'),
  new Uint8Array(31),
  new Uint8Array(33),
  'str',
  [new Uint8Array(32), 5],
]

t.test('string parsers', async (t) => {
  let bad = 0
  for (const s of strings) {
    const checks: [() => unknown, new (...a: never[]) => Error][] = [
      [() => decodeEntry(utf8(s)), EntryError],
      [() => parseCheckpoint(s), CheckpointError],
      [() => parseNote(s), NoteError],
      [() => parseVerifierKey(s), NoteError],
      [() => parseTlogProof(s), TlogProofError],
    ]
    for (const [fn, cls] of checks) {
      try {
        fn()
        bad++
        t.fail(`accepted ${JSON.stringify(s.slice(0, 40))}`)
      } catch (e) {
        if (!(e instanceof cls)) {
          bad++
          t.fail(`${JSON.stringify(s.slice(0, 40))}: ${String(e)}`)
        }
      }
    }
    try {
      await verifyNote(s, 'a+00000000+AQ==')
      bad++
    } catch (e) {
      if (!(e instanceof NoteError)) bad++
    }
  }
  t.equal(bad, 0, `${strings.length} hostile strings x 6 parsers, each refused with its typed error`)
})

t.test('non-string values', async (t) => {
  let bad = 0
  for (const v of values) {
    for (const [fn, ok] of [
      [() => validateEntry(v), (e: unknown) => e instanceof EntryError],
      [() => decodeEntry(v as Uint8Array), (e: unknown) => e instanceof EntryError],
      [() => parseCheckpoint(v as string), (e: unknown) => e instanceof CheckpointError],
      [() => parseNote(v as string), (e: unknown) => e instanceof NoteError],
      [() => parseVerifierKey(v as string), (e: unknown) => e instanceof NoteError],
      [() => parseTlogProof(v as string), (e: unknown) => e instanceof TlogProofError],
      [() => verifyInclusion(v as Uint8Array, 0, 1, [], EMPTY_ROOT), (e: unknown) => e instanceof MerkleError],
      [
        () => verifyInclusion(EMPTY_ROOT, v as number, 1, [], new Uint8Array(32)),
        (e: unknown) => e instanceof MerkleError,
      ],
      [
        () => verifyConsistency(1, 2, EMPTY_ROOT, EMPTY_ROOT, v as Uint8Array[]),
        (e: unknown) => e instanceof MerkleError || e instanceof TypeError,
      ],
    ] as [() => unknown, (e: unknown) => boolean][]) {
      try {
        fn()
        bad++
        t.fail(`accepted ${String(v)}`)
      } catch (e) {
        if (!ok(e)) {
          bad++
          t.fail(`${String(v)}: ${String(e)}`)
        }
      }
    }
  }
  t.equal(bad, 0, `${values.length} hostile values x 9 entry points`)
})
