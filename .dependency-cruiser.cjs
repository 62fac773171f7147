/**
 * The import rules (docs/ARCHITECTURE.md, "Zones and doors"), checked by
 * `npm run lint:deps` inside `npm test`. Data flows device-sim -> broker ->
 * ledger -> dashboard; imports point the other way round only to ledger's doors.
 * Tests may reach into what they test; production code may not.
 */
const TEST = '(^|/)(test|fixtures)/|\\.test\\.ts$|^ledger/protocol/independent/'
const ZONES = 'protocol|tlog|node-crypto|store|ingest|cluster|tiles|witness'
// Tools run by hand that regenerate test data from test code.
const TEST_TOOLS = '^scripts/gen-protocol-vectors\\.ts$'
// bench and chaos (npm run bench / chaos) are development harnesses: they use devDependencies and test helpers.
const DEV_HARNESS = '^scripts/(bench|chaos)/'
// The protocol's second door: the atomic file write every part uses (Node-only, so the browser-safe index.ts does not export it).
const ATOMIC_FILE = '^ledger/protocol/atomic-file\\.ts$'

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'Import cycles hide the layering (the parts of a factory may import its types: erased at build, they make no cycle at run time).',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'ledger-not-up',
      severity: 'error',
      comment: 'ledger is the bottom layer: it imports none of broker, dashboard, device-sim, scripts.',
      from: { path: '^ledger/', pathNot: TEST },
      to: { path: '^(broker|dashboard|device-sim|scripts|bin)/' },
    },
    {
      name: 'broker-not-up',
      severity: 'error',
      comment: 'The broker sits between the devices and the ledger: no dashboard, device-sim or scripts.',
      from: { path: '^broker/', pathNot: TEST },
      to: { path: '^(dashboard|device-sim|scripts|bin)/' },
    },
    {
      name: 'device-sim-only-protocol',
      severity: 'error',
      comment: 'The simulated firmware knows the wire format and nothing else of the system.',
      from: { path: '^device-sim/', pathNot: TEST },
      to: { path: '^(broker|dashboard|scripts|bin|ledger)/', pathNot: `^ledger/protocol/index\\.ts$|${ATOMIC_FILE}` },
    },
    {
      name: 'dashboard-not-up',
      severity: 'error',
      comment:
        'The dashboard reads the ledger; it never imports the broker (but its password hash format), the device simulator or the CLI.',
      from: { path: '^dashboard/', pathNot: TEST },
      to: { path: '^(broker|device-sim|scripts|bin)/', pathNot: '^broker/password-hash\\.ts$' },
    },
    {
      name: 'scripts-not-up',
      severity: 'error',
      comment:
        'bin/ is the entry point above the CLI: scripts never import it (shared start-up code lives in scripts/).',
      from: { path: '^scripts/' },
      to: { path: '^bin/' },
    },
    {
      name: 'ledger-door-only',
      severity: 'error',
      comment: 'Outside a ledger zone, import only its index.ts (tests may also use its test/ helpers).',
      from: { path: '^(broker|dashboard|device-sim|scripts|bin)/', pathNot: TEST_TOOLS },
      to: {
        path: `^ledger/(${ZONES})/`,
        pathNot: `^ledger/(${ZONES})/(index\\.ts$|test/|independent/)|${ATOMIC_FILE}`,
      },
    },
    {
      name: 'ledger-zone-door-only',
      severity: 'error',
      comment: 'One ledger zone reaches another only through its index.ts.',
      from: { path: '^ledger/([^/]+)/', pathNot: TEST },
      to: { path: `^ledger/(${ZONES})/`, pathNot: `^ledger/($1|[^/]+/index\\.ts$)|${ATOMIC_FILE}` },
    },
    {
      name: 'protocol-self-contained',
      severity: 'error',
      comment: 'The wire format depends on nothing but itself and @noble (devices and browsers run it).',
      from: { path: '^ledger/protocol/', pathNot: `${TEST}|${ATOMIC_FILE}` },
      to: { pathNot: '^(ledger/protocol/|node_modules/@noble/)' },
    },
    {
      name: 'tlog-only-protocol',
      severity: 'error',
      comment: 'The log formats are pure: protocol and @noble only, no Node built-ins (the browser verifies bundles).',
      from: { path: '^ledger/tlog/', pathNot: TEST },
      to: { pathNot: '^(ledger/tlog/|ledger/protocol/index\\.ts$|node_modules/@noble/)' },
    },
    {
      name: 'node-crypto-only-protocol',
      severity: 'error',
      from: { path: '^ledger/node-crypto/', pathNot: TEST },
      to: { path: '^ledger/', pathNot: '^ledger/(node-crypto|protocol)/' },
    },
    {
      name: 'store-below-ingest',
      severity: 'error',
      comment: 'The store knows nothing of the services that feed or serve it.',
      from: { path: '^ledger/store/', pathNot: TEST },
      to: { path: '^ledger/(ingest|cluster|tiles|witness)/' },
    },
    {
      name: 'ingest-below-cluster',
      severity: 'error',
      from: { path: '^ledger/ingest/', pathNot: TEST },
      to: { path: '^ledger/(cluster|tiles|witness)/' },
    },
    {
      name: 'domain-not-delivery',
      severity: 'error',
      comment: 'compliance and evidence are the domain: they never import server, web, reports or notify.',
      from: { path: '^dashboard/(compliance|evidence)/', pathNot: TEST },
      to: { path: '^dashboard/(server|web|reports|notify)/' },
    },
    {
      name: 'compliance-not-evidence',
      severity: 'error',
      from: { path: '^dashboard/compliance/', pathNot: TEST },
      to: { path: '^dashboard/evidence/' },
    },
    {
      name: 'common-neutral',
      severity: 'error',
      comment: 'dashboard/common runs in the browser and the server: no other dashboard folder, no Node built-ins.',
      from: { path: '^dashboard/common/', pathNot: TEST },
      to: { path: '^dashboard/(?!common/)', dependencyTypesNot: ['npm'] },
    },
    {
      name: 'browser-code-no-node',
      severity: 'error',
      comment: 'Browser code (web, common) and all it reaches must not need Node built-ins.',
      from: { path: '^dashboard/(web|common)/', pathNot: TEST },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'browser-code-reaches-no-node',
      severity: 'error',
      comment: 'Nothing the browser bundle reaches may import a Node built-in.',
      from: { path: '^dashboard/web/', pathNot: TEST },
      to: {
        reachable: true,
        path: '^(node:)?(assert|buffer|child_process|crypto|dgram|dns|events|fs|fs/promises|http|https|module|net|os|path|process|readline|stream|tls|url|util|worker_threads|zlib)$',
      },
    },
    {
      name: 'no-dev-deps-in-production',
      severity: 'error',
      comment: 'Production code may not import devDependencies (not installed with --omit=dev).',
      from: {
        path: '^(bin|broker|dashboard|device-sim|ledger|scripts)/',
        pathNot: `${TEST}|${DEV_HARNESS}|${TEST_TOOLS}`,
      },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-test-code-in-production',
      severity: 'error',
      comment: 'Test helpers live in test/ folders and only tests import them.',
      from: {
        path: '^(bin|broker|dashboard|device-sim|ledger|scripts)/',
        pathNot: `${TEST}|${DEV_HARNESS}|${TEST_TOOLS}`,
      },
      to: { path: TEST },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import resolves.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-non-package-json',
      severity: 'error',
      comment: 'Every npm package imported is declared in package.json.',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|\\.data)/|^dashboard/public/' },
    // node_modules may be a symlink (git worktrees); keep its paths as node_modules/...
    preserveSymlinks: true,
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
}
