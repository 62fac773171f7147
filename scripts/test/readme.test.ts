/**
 * Docs that run: every `coldproof` command line shown in README.md names a
 * real subcommand, and every flag it uses is one that subcommand accepts.
 * The quick-start commands themselves are exercised by start.test.ts.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const bin = join(root, 'bin', 'coldproof.js')

const help = (args: string[]): string =>
  execFileSync(process.execPath, [bin, ...args, '--help'], { cwd: root, encoding: 'utf8' })

t.test('README quick start shows npm install && npm start, then npm test', async (t) => {
  const quick = readme.split('## Quick start')[1]?.split('\n## ')[0] ?? ''
  const first = /```sh\n([\s\S]*?)```/.exec(quick)?.[1].trim().split('\n') ?? []
  t.same(first, ['npm install && npm start', 'npm test'], 'the two commands, first')
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  t.match(pkg.scripts.start, /coldproof\.js start/, 'npm start runs coldproof start')
  t.match(pkg.scripts.test, /tsc --noEmit/, 'npm test type-checks the tree')
  t.match(pkg.scripts.test, /tap/, 'npm test runs tap')
})

t.test('every coldproof command in README.md exists with the flags shown', async (t) => {
  const lines = [...readme.matchAll(/^npx coldproof (.+)$/gm)].map((m) => m[1])
  t.ok(lines.length >= 3, `README shows ${lines.length} coldproof command lines`)
  for (const line of lines) {
    const words = line.replace(/\[|\]/g, ' ').split(/\s+/).filter(Boolean)
    const sub = words[0]
    const text = help([sub])
    const flags = words.filter((w) => w.startsWith('--'))
    for (const f of flags) t.ok(text.includes(f), `coldproof ${sub} accepts ${f}`)
  }
})
