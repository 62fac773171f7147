/**
 * The UI's XSS defence is structural: text only ever enters the DOM through
 * textContent, createTextNode and setAttribute (dom.ts). This test keeps it
 * that way by refusing the HTML-parsing sinks anywhere in the browser code;
 * the browser tests (test/e2e/access.test.ts) prove the behaviour.
 */
import t from 'tap'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const SINKS =
  /\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser|srcdoc)\b|\beval\s*\(|new Function\s*\(/

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : []
  })
}

const all = files(here)
t.ok(all.length >= 10, `found the browser sources (${all.length} files)`)
for (const f of all) {
  const lines = readFileSync(f, 'utf8').split('\n')
  const hits = lines.map((l, i) => [i + 1, l] as const).filter(([, l]) => SINKS.test(l) && !/^\s*(\*|\/\/)/.test(l))
  t.same(hits, [], `${f.slice(here.length + 1)} uses no HTML-parsing sink`)
}

t.test('the DOM helper refuses inline handlers and styles', async (t) => {
  const src = readFileSync(join(here, 'dom.ts'), 'utf8')
  t.match(
    src,
    /\^on\/i\.test\(k\) \|\| k === 'style'/,
    'h() throws on on* and style attributes (CSP forbids inline code and styles)',
  )
})
