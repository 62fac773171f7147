/** What the runner and its faults share while the chaos run goes on: the two children, the HTTP sessions, the tallies. */
import type { Rng } from '../../device-sim/index.ts'
import type { FleetProc } from './fleet-proc.ts'
import { httpClient, type HttpClient, type HttpTally, type Role } from './http.ts'
import type { SentMessage } from './mqtt-attacks.ts'
import type { SystemProc } from './system-proc.ts'

export type Logins = Record<Role, { username: string; password: string }>
export type Sessions = Record<Role, string>

export interface ChaosRun {
  readonly quick: boolean
  readonly seed: number
  /** The fault schedule's randomness, from the seed. */
  readonly rng: Rng
  readonly log: (line: string) => void
  /** The system's data directory (a tmpfs when the disk-full fault runs). */
  readonly sysDir: string
  readonly ports: { http: number; mqtt: number }
  readonly graceMs: number
  readonly logins: Logins
  readonly tally: HttpTally
  readonly fleet: FleetProc
  /** The running system and signed-in sessions on it: replaced at every restart. */
  sys: SystemProc
  http: HttpClient
  sess: Sessions
  /** Every hostile MQTT message sent, for the audit. */
  readonly sent: SentMessage[]
  readonly failures: string[]
  readonly events: string[]
  readonly peak: { system: number; fleet: number; suite: number }
  /** Counts a fault injected, under its name in the report. */
  bump(fault: string, n?: number): void
}

/** A client on the system at `url` with a session for each role. */
export async function signIn(
  url: string,
  tally: HttpTally,
  logins: Logins,
): Promise<{ http: HttpClient; sess: Sessions }> {
  const http = httpClient(url, tally, logins)
  return {
    http,
    sess: {
      admin: await http.login('admin'),
      operator: await http.login('operator'),
      regulator: await http.login('regulator'),
    },
  }
}
