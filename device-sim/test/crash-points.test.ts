/**
 * A device killed at any step of a sample loses nothing silently (issue 17:
 * a reading missing after kill -9 cycles, without an overflow flag). After
 * the restart, every seq the device signed is delivered, or was dropped for
 * room with BUFFER_OVERFLOW on a later delivered reading, and the delivered
 * readings form one chain (no seq signed twice with different bytes reached
 * the ledger).
 *
 * Every step of every offline sample is tried in-process (a hook throws: the
 * steps are synchronous writes, so what is on disk then is exactly what a
 * kill -9 leaves); the steps around the drop are tried with a real SIGKILL of
 * a child process too.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { STATUS, decodeReading, equalBytes, readingHash } from '../../ledger/protocol/index.ts'
import type { SampleStep } from '../device.ts'
import { createFleet } from '../fleet.ts'
import { createMemoryLink } from '../memory-link.ts'
import { crashScenario, CRASH_OFFLINE_UNTIL, smallScenario, START } from './helpers.ts'

const STEPS: SampleStep[] = ['signed', 'appended', 'drop-recorded', 'chain-saved']
const LAST_SEQ = 13 // minutes 0..60, every 5
class Crash extends Error {}

function tempDir(t: { teardown(f: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'coldproof-crash-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Restarts the device from `dir`, runs it to the end online, and returns what problems the delivered readings show. */
async function restartAndCheck(dir: string): Promise<{ problems: string[]; delivered: number }> {
  const stored = new Map<number, Uint8Array>()
  const problems: string[] = []
  const fleet = createFleet({
    scenario: crashScenario(),
    dataDir: dir,
    startMs: START,
    log: () => {},
    link: () =>
      createMemoryLink((p) => {
        const seq = decodeReading(p).fields.seq
        const had = stored.get(seq)
        if (had && !equalBytes(had, p)) problems.push(`seq ${seq} delivered with two different payloads`)
        stored.set(seq, p)
      }),
  })
  await fleet.start()
  fleet.runUntil(START + 60 * 60_000)
  await fleet.stop()
  const status = fleet.devices[0].status()
  if (status.seq !== LAST_SEQ) problems.push(`device ended at seq ${status.seq}, expected ${LAST_SEQ}`)
  const flagged = [...stored]
    .filter(([, p]) => ((decodeReading(p).fields.status ?? 0) & STATUS.BUFFER_OVERFLOW) !== 0)
    .map(([s]) => s)
  for (let s = 1; s <= LAST_SEQ; s++) {
    if (stored.has(s)) continue
    if (!flagged.some((f) => f > s))
      problems.push(`seq ${s} neither delivered nor announced by BUFFER_OVERFLOW on a later reading`)
  }
  for (const [s, p] of stored) {
    const below = stored.get(s - 1)
    if (below && !equalBytes(decodeReading(p).fields.prevHash, readingHash(below)))
      problems.push(`seq ${s} does not link to seq ${s - 1}`)
  }
  return { problems, delivered: stored.size }
}

t.test(
  'a crash after any step of any offline sample: every signed seq delivered or announced as dropped',
  async (t) => {
    for (let seq = 1; seq <= 6; seq++) {
      for (const step of STEPS) {
        if (step === 'drop-recorded' && seq < 6) continue // only seq 6 drops a reading
        const dir = tempDir(t)
        const a = createFleet({
          scenario: crashScenario(),
          dataDir: dir,
          startMs: START,
          log: () => {},
          onSampleStep: (_id, s, n) => {
            if (s === step && n === seq) throw new Crash(`${step} ${n}`)
          },
        })
        let crashed = false
        try {
          a.runUntil(CRASH_OFFLINE_UNTIL)
        } catch (e) {
          crashed = e instanceof Crash
        }
        t.ok(crashed, `crashed after "${step}" of seq ${seq}`)
        const { problems } = await restartAndCheck(dir)
        t.same(problems, [], `after "${step}" of seq ${seq}: nothing lost silently`)
      }
    }
  },
)

t.test('a real SIGKILL at the steps around the drop', async (t) => {
  const child = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url))
  for (const step of ['appended', 'drop-recorded'] as const) {
    const dir = tempDir(t)
    const signal = await new Promise<NodeJS.Signals | null>((resolve, reject) => {
      const p = spawn(process.execPath, ['--import=tsx', child, dir, step, '6'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      p.on('error', reject)
      p.on('exit', (_code, sig) => resolve(sig))
    })
    t.equal(signal, 'SIGKILL', `the child died by SIGKILL after "${step}" of seq 6`)
    const { problems, delivered } = await restartAndCheck(dir)
    t.same(problems, [], `after "${step}": nothing lost silently`)
    t.equal(delivered, LAST_SEQ - 1, 'seq 1 dropped for room, the rest delivered')
  }
})

t.test('a reading handed to a link but never acknowledged counts as not delivered: its drop is flagged', async (t) => {
  for (const acks of [false, true]) {
    const sent: number[] = []
    const scenario = smallScenario({
      bufferCapacity: 3,
      durationMin: 30,
      faults: { connectivityLoss: [{ fromMin: 10, toMin: 60 }] },
    })
    const signed: Uint8Array[] = []
    const fleet = createFleet({
      scenario,
      startMs: START,
      log: () => {},
      onReading: (_id, p) => signed.push(p),
      link: () => {
        let up = false
        return {
          get connected() {
            return up
          },
          open(h) {
            up = true
            h.onConnect()
          },
          // The publish goes out, the link dies before the PUBACK (or, for comparison, the PUBACK comes).
          publish(p, onDelivered) {
            sent.push(decodeReading(p).fields.seq)
            if (acks) onDelivered?.()
          },
          async close() {
            up = false
          },
        }
      },
    })
    await fleet.start()
    fleet.runUntil(START + 15 * 60_000) // seq 1, 2 online (published), 3, 4 offline: 4 drops 1
    await fleet.stop()
    t.same(sent, [1, 2], 'seq 1 and 2 were handed to the link')
    const flag = ((decodeReading(signed[3]).fields.status ?? 0) & STATUS.BUFFER_OVERFLOW) !== 0
    t.equal(
      flag,
      !acks,
      acks
        ? 'acknowledged by the broker: its drop is not flagged'
        : 'never acknowledged: seq 4 announces the drop of seq 1',
    )
  }
})

t.test('a restart inside a connectivity loss stays offline until a sample outside it', async (t) => {
  const dir = tempDir(t)
  const a = createFleet({ scenario: crashScenario(), dataDir: dir, startMs: START, log: () => {} })
  a.runUntil(START + 10 * 60_000) // seq 1..3, offline
  await a.stop()
  const sent: number[] = []
  const b = createFleet({
    scenario: crashScenario(),
    dataDir: dir,
    startMs: START,
    log: () => {},
    link: () => createMemoryLink((p) => sent.push(decodeReading(p).fields.seq)),
  })
  await b.start()
  t.same(sent, [], 'nothing sent on start: the radio is still down')
  t.equal(b.devices[0].status().connected, false)
  b.runUntil(START + 30 * 60_000) // seq 7 at minute 30: back online
  t.same(sent, [2, 3, 4, 5, 6, 7], 'the buffer goes out once the loss ends (seq 1 dropped for room)')
  await b.stop()
})
