/**
 * The system under test in its own process (broker, ingest, ledger and
 * dashboard, as `coldproof start` wires them), so that the chaos suite can
 * SIGKILL it. Fixed ports (argv) so the devices reconnect to the same address
 * after a restart. Prints one line `READY <json>` when everything listens.
 */
import { startSystem } from '../system.ts'

const [dataDir, httpPort, mqttPort, grace] = process.argv.slice(2)
// Orphaned (the suite itself was killed, e.g. by a test timeout): go too, never linger on the ports.
const parent = process.ppid
setInterval(() => {
  try {
    process.kill(parent, 0)
  } catch {
    process.exit(1)
  }
}, 1000).unref()
try {
  const sys = await startSystem({
    dataDir: dataDir!,
    httpPort: Number(httpPort),
    mqttPort: Number(mqttPort),
    demo: false,
    // The suite signs in as each role with the seeded logins (a production start seeds none).
    demoLogins: true,
    quiet: true,
    // Short enough for a test run; the rule itself is the ingest's (docs/PROTOCOL.md "Declared gaps").
    ingest: { overflowGraceMs: Number(grace ?? 3000), gapCheckIntervalMs: 500 },
  })
  process.stdout.write(`READY ${JSON.stringify({ url: sys.url, mqttUrl: sys.mqttUrl, pid: process.pid })}\n`)
  const stop = () => {
    void sys.close().then(() => process.exit(0))
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
} catch (e) {
  const code = (e as { code?: unknown }).code
  process.stderr.write(`system: ${typeof code === 'string' ? `${code}: ` : ''}${(e as Error).message}\n`)
  process.exit(1)
}
