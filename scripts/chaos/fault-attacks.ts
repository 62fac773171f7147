/**
 * The attack fault: one batch of hostile MQTT (rogue and forged messages,
 * floods, clients stalled mid-handshake) then HTTP fuzz and access cases,
 * while the system is up. Each batch is fully processed before the next kill,
 * so a rejected message is never lost to a kill between the broker's PUBACK
 * and the ingest.
 */
import { httpAttackBatch } from './http-attacks.ts'
import { attackBatch, slowClients, type Rogue } from './mqtt-attacks.ts'
import type { ChaosRun } from './run-state.ts'
import { until } from './wait.ts'

export interface AttackRound {
  /** Which batch this is (0-based): picks floods, the huge bodies and, in --quick, the HTTP rounds. */
  batch: number
  rogue: Rogue
  /** The fleet's logger whose identity the attacks impersonate. */
  victim: string
  /** Genuine signed payloads of another logger, replayed as foreign ones. */
  foreignPayloads: () => Buffer[]
  /** Quarantined messages so far, by the ledger's count. */
  quarantineTotal: () => Promise<number>
  /** When the current kill's interval began (for the log's seconds). */
  startedAt: number
}

/** Runs one attack batch; returns the HTTP cases it ran. Findings go to run.failures and run.events. */
export async function attackRound(run: ChaosRun, a: AttackRound): Promise<number> {
  const { quick, log } = run
  const { batch, rogue: r } = a
  const before = await a.quarantineTotal()
  const release = slowClients(run.sys.mqttUrl, quick ? 5 : 20)
  run.bump('MQTT clients stalled mid-handshake during a batch', quick ? 5 : 20)
  const msgs = await attackBatch(
    { mqttUrl: run.sys.mqttUrl, rng: run.rng, foreignPayloads: a.foreignPayloads, victim: a.victim },
    r,
    {
      messages: quick ? 30 : 60,
      flood: batch % 5 === 2 ? (quick ? 300 : 700) : 0,
    },
  )
  release()
  run.sent.push(...msgs)
  run.bump('MQTT hostile messages and logins', msgs.length)
  const expected = msgs.filter(
    (m) =>
      m.outcome === 'puback' &&
      (m.expect === 'quarantine' || m.expect === 'refused' || m.expect === 'fork-or-quarantine'),
  ).length
  try {
    // Forks log a reading.fork entry instead of a quarantine record, hence the - 1.
    await until(
      'the ingest to quarantine the batch',
      60_000,
      async () => (await a.quarantineTotal()) >= before + expected - 1,
    )
  } catch (e) {
    run.events.push(`batch ${batch}: ${(e as Error).message}`)
  }
  log(`batch ${batch}: ${msgs.length} MQTT messages in ${Math.round((Date.now() - a.startedAt) / 1000)} s`)
  const h =
    quick && batch % 2 === 1
      ? { cases: 0, failures: [] }
      : await httpAttackBatch(run.http, {
          seed: run.seed + batch,
          cases: quick ? 40 : 150,
          rogueDevice: r.id.deviceId,
          sessions: run.sess,
          hugeBodies: batch === 0,
        })
  run.bump('HTTP fuzz and access cases', h.cases)
  for (const f of h.failures) run.failures.push(`HTTP: ${f}`)
  log(`batch ${batch}: ${h.cases} HTTP cases, ${Math.round((Date.now() - a.startedAt) / 1000)} s`)
  return h.cases
}
