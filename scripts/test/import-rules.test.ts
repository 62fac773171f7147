/**
 * The import rules (.dependency-cruiser.cjs) have teeth: a tiny tree in a temp
 * dir, laid out like the project, breaks one rule per file, and the checker
 * names each broken rule; the allowed imports beside them raise nothing.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const depcruise = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs')

const files: Record<string, string> = {
  'tsconfig.json': JSON.stringify({
    compilerOptions: {
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      allowImportingTsExtensions: true,
      noEmit: true,
    },
  }),
  'package.json': JSON.stringify({ name: 'fixture', type: 'module', private: true }),
  'ledger/protocol/index.ts': "export * from './bytes.ts'\n",
  'ledger/protocol/bytes.ts': 'export const b = 1\n',
  'ledger/tlog/index.ts': "export * from './merkle.ts'\n",
  'ledger/tlog/merkle.ts': "import { b } from '../protocol/index.ts'\nexport const m = b\n",
  'ledger/store/index.ts': "export * from './good.ts'\n",
  // allowed: another zone through its door
  'ledger/store/good.ts': "import { m } from '../tlog/index.ts'\nexport const g = m\n",
  // ledger-zone-door-only: past tlog's door
  'ledger/store/past-door.ts': "import { m } from '../tlog/merkle.ts'\nexport const p = m\n",
  // ledger-not-up: the ledger imports the dashboard
  'ledger/store/up.ts': "import { s } from '../../dashboard/server/app.ts'\nexport const u = s\n",
  // tlog-only-protocol: a Node built-in in the pure formats
  'ledger/tlog/fs.ts': "import { readFileSync } from 'node:fs'\nexport const f = readFileSync\n",
  // protocol-self-contained: the wire format imports the log formats
  'ledger/protocol/out.ts': "import { m } from '../tlog/index.ts'\nexport const o = m\n",
  'dashboard/server/app.ts': "import { g } from '../../ledger/store/index.ts'\nexport const s = g\n",
  // domain-not-delivery: compliance imports the server
  'dashboard/compliance/engine.ts': "import { s } from '../server/app.ts'\nexport const e = s\n",
  // ledger-door-only: the dashboard past the store's door
  'dashboard/evidence/collect.ts': "import { g } from '../../ledger/store/good.ts'\nexport const c = g\n",
  // browser-code-no-node
  'dashboard/web/main.ts': "import { join } from 'node:path'\nexport const w = join\n",
  // not-to-unresolvable
  'broker/broker.ts': "import x from 'no-such-package-anywhere'\nexport const br = x\n",
  // scripts-not-up: the CLI imports its entry point
  'bin/entry.js': 'export const en = 1\n',
  'scripts/up.ts': "import { en } from '../bin/entry.js'\nexport const su = en\n",
  // no-circular
  'device-sim/a.ts': "import { bb } from './b.ts'\nexport const aa = () => bb\n",
  'device-sim/b.ts': "import { aa } from './a.ts'\nexport const bb = () => aa\n",
}

t.test('each broken rule is reported, allowed imports are not', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'coldproof-import-rules-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true })
    await writeFile(join(dir, path), text)
  }
  // JSON output exits 0 whatever it finds (npm run lint:deps uses the err output, which exits non-zero).
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      [
        depcruise,
        'ledger',
        'dashboard',
        'broker',
        'device-sim',
        'scripts',
        '--config',
        join(root, '.dependency-cruiser.cjs'),
        '--output-type',
        'json',
      ],
      { cwd: dir, maxBuffer: 64 * 1024 * 1024 },
      (err, out) => (err ? reject(err) : resolve(out)),
    )
  })
  const result = JSON.parse(stdout) as {
    summary: { violations: { rule: { name: string }; from: string; to: string }[] }
  }
  const found = result.summary.violations.map((v) => `${v.rule.name}: ${v.from}`)
  const expected = [
    'ledger-zone-door-only: ledger/store/past-door.ts',
    'ledger-not-up: ledger/store/up.ts',
    'tlog-only-protocol: ledger/tlog/fs.ts',
    'protocol-self-contained: ledger/protocol/out.ts',
    'domain-not-delivery: dashboard/compliance/engine.ts',
    'ledger-door-only: dashboard/evidence/collect.ts',
    'browser-code-no-node: dashboard/web/main.ts',
    'not-to-unresolvable: broker/broker.ts',
    'scripts-not-up: scripts/up.ts',
  ]
  for (const e of expected) t.ok(found.includes(e), `reports ${e}`)
  t.ok(
    found.some((f) => f.startsWith('no-circular: device-sim/')),
    'reports the device-sim cycle',
  )
  for (const clean of ['ledger/store/good.ts', 'dashboard/server/app.ts', 'ledger/tlog/merkle.ts']) {
    t.notOk(
      found.some((f) => f.endsWith(`: ${clean}`)),
      `no violation for the allowed ${clean}`,
    )
  }
})
