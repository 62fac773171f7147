/**
 * `npm run bench` must keep working: it runs (quick mode) and prints every
 * figure it promises, each a positive rate. Nothing here judges the speed.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

t.test('coldproof bench --quick prints every figure', async (t) => {
  const { stdout } = await promisify(execFile)(process.execPath, [join(root, 'bin', 'coldproof.js'), 'bench', '--quick'], { cwd: root, timeout: 170_000 })
  for (const label of ['node:crypto (OpenSSL)', 'WebCrypto Ed25519', '@noble/ed25519 (pure JS)', 'decodeReading', 'group commit (all appends in flight)', 'one fsync per entry (each awaited)', 'inclusion proof at size', 'consistency proof']) {
    const line = stdout.split('\n').find((l) => l.includes(label))
    t.ok(line, `prints "${label}"`)
    const rate = Number(/([\d,.]+) \/s/.exec(line ?? '')?.[1].replace(/,/g, ''))
    t.ok(rate > 0, `${label}: a positive rate (${rate}/s)`)
  }
  t.match(stdout, /×[\d.]+ vs one fsync per entry/, 'prints the group-commit ratio measured in the same run')
  t.match(stdout, /entries per fsync/)
  t.match(stdout, /End to end: \d+ signed readings from \d+ devices/)
  t.match(stdout, /Bundle of [\d,]+ readings: build and verify \([\d.]+ MB, VERIFIED\)\n  build \d+ ms; verify \d+ ms \(webcrypto\)/, 'prints the bundle figure, of a bundle that verifies')
})
