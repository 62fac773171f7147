import t from 'tap'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AtomicWriteError, writeFileAtomic, writeFileAtomicSync } from './atomic-file.ts'

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'coldproof-atomic-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('replaces the content and leaves no temporary file', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'state.json')
  writeFileSync(file, 'old')
  t.equal(await writeFileAtomic(file, 'new text', { mode: 0o600 }), 8, 'bytes written')
  t.equal(readFileSync(file, 'utf8'), 'new text')
  writeFileAtomicSync(file, new Uint8Array([1, 2, 3]))
  t.same([...readFileSync(file)], [1, 2, 3])
  await writeFileAtomic(join(dir, 'secret'), 'x', { mode: 0o600 })
  t.equal(statSync(join(dir, 'secret')).mode & 0o777, 0o600, 'a new file gets the mode asked for')
  async function* chunks() {
    yield Buffer.from('a')
    yield Buffer.from('bc')
  }
  t.equal(await writeFileAtomic(join(dir, 'streamed'), chunks(), { durable: false }), 3)
  t.equal(readFileSync(join(dir, 'streamed'), 'utf8'), 'abc')
  t.same(readdirSync(dir).sort(), ['secret', 'state.json', 'streamed'])
})

t.test('a failure leaves the old file and removes the temporary one', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'backup')
  writeFileSync(file, 'the old backup')
  const boom = Object.assign(new Error('source failed'), { code: 'ERR_SOURCE' })
  async function* failing() {
    yield Buffer.from('half of it')
    throw boom
  }
  await t.rejects(writeFileAtomic(file, failing()), boom, 'an error of the data source passes as it is')
  t.equal(readFileSync(file, 'utf8'), 'the old backup')
  t.same(readdirSync(dir), ['backup'], 'no temporary file left')
  // A directory in the way of the rename: the fs error is wrapped, the temp file removed.
  const sub = 'blocked'
  mkdirSync(join(dir, sub))
  writeFileSync(join(dir, sub, 'inside'), 'keep')
  await t.rejects(writeFileAtomic(join(dir, sub), 'y'), { code: 'ERR_ATOMIC_WRITE', errno: /^E/ })
  t.throws(() => writeFileAtomicSync(join(dir, sub), 'y'), { code: 'ERR_ATOMIC_WRITE' })
  t.same(readdirSync(dir).sort(), ['backup', sub].sort(), 'no temporary file left after a failed rename')
})

t.test('a missing directory is a clear, typed error', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'no-such-dir', 'users.json')
  const expected = {
    name: 'AtomicWriteError',
    code: 'ERR_ATOMIC_WRITE',
    errno: 'ENOENT',
    message: `cannot write ${file}: the directory ${join(dir, 'no-such-dir')} does not exist`,
  }
  await t.rejects(writeFileAtomic(file, 'x'), expected)
  t.throws(() => writeFileAtomicSync(file, 'x'), expected)
  writeFileSync(join(dir, 'plain'), '')
  t.throws(() => writeFileAtomicSync(join(dir, 'plain', 'f'), 'x'), {
    errno: 'ENOTDIR',
    message: /plain is not a directory/,
  })
  t.ok(new AtomicWriteError('/a/b', new Error('x')) instanceof Error)
})
