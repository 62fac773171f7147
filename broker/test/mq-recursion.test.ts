/**
 * The stack overflow of the 10,000-device bench (see MQ_CONCURRENCY in
 * broker.ts): aedes's emitter, at its default concurrency, starts queued
 * messages recursively, and a few tens of thousands of synchronously finishing
 * ones behind a slow consumer overflow the stack and end the process. With the
 * broker's setting they all complete. The control run pins the aedes/mqemitter
 * behaviour the setting works around: if an upgrade fixes it upstream, the
 * control fails and the setting can be reconsidered. Deterministic: the slow
 * consumer holds its deliveries until the flood is queued. Each run is its own
 * process (plain JavaScript), since the overflow ends the process.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { MQ_CONCURRENCY } from '../broker.ts'

const FLOOD = fileURLToPath(new URL('./fixtures/mq-flood.js', import.meta.url))
const N = 50_000

function run(concurrency: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [FLOOD, String(concurrency), String(N)], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr })
    })
  })
}

t.test("the broker's emitter setting: a flood queued behind a slow consumer completes", async (t) => {
  const r = await run(MQ_CONCURRENCY)
  t.equal(r.code, 0, `exits normally ${r.stderr.slice(0, 300)}`)
  t.same(JSON.parse(r.stdout), { done: N + 150, expected: N + 150 }, 'every publish completed')
})

t.test("control: aedes's default concurrency overflows the stack on the same flood", async (t) => {
  const r = await run(100)
  t.not(r.code, 0, 'the process dies')
  t.match(r.stderr, /Maximum call stack size exceeded/)
})
