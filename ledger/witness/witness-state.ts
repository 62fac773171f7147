/**
 * The witness's durable memory: for each log origin, the size and root of
 * the latest checkpoint it cosigned. One JSON file, replaced atomically
 * (ledger/protocol/atomic-file.ts), so a crash leaves
 * the old state or the new one, never a torn file and never a rollback.
 * tlog-witness requires the old-size check and the update to be one atomic
 * step: `update` runs its callback under a lock (one at a time, in order).
 */
import { readFile } from 'node:fs/promises'
import { writeFileAtomic } from '../protocol/atomic-file.ts'

export interface LogState {
  size: number /** base64 */
  rootHash: string
}
interface StateFile {
  format: 'coldproof-witness-state'
  version: 1
  logs: Record<string, LogState>
}

export class WitnessStateError extends Error {
  readonly code = 'ERR_WITNESS_STATE'
  constructor(message: string) {
    super(message)
    this.name = 'WitnessStateError'
  }
}

export class WitnessState {
  readonly path: string
  #logs: Record<string, LogState>
  #lock: Promise<unknown> = Promise.resolve()

  private constructor(path: string, logs: Record<string, LogState>) {
    this.path = path
    this.#logs = logs
  }

  /** Reads `path`, or starts empty when it does not exist; a file that is not a witness state is refused. */
  static async open(path: string): Promise<WitnessState> {
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new WitnessState(path, {})
      throw new WitnessStateError(`cannot read the witness state ${path}: ${(e as Error).message}`)
    }
    let f: StateFile
    try {
      f = JSON.parse(text) as StateFile
    } catch {
      throw new WitnessStateError(
        `${path} is not JSON; a witness that forgot what it cosigned could be made to cosign a split view, so it refuses to start (restore the file from a backup)`,
      )
    }
    const ok =
      f?.format === 'coldproof-witness-state' &&
      f.version === 1 &&
      typeof f.logs === 'object' &&
      f.logs !== null &&
      Object.values(f.logs).every((l) => Number.isSafeInteger(l?.size) && l.size >= 0 && typeof l.rootHash === 'string')
    if (!ok) throw new WitnessStateError(`${path} is not a coldproof-witness-state version 1 file`)
    return new WitnessState(path, f.logs)
  }

  get(origin: string): LogState | undefined {
    return this.#logs[origin]
  }

  /**
   * Runs `decide` with the origin's current state under the lock; when it
   * returns a new state, that state is durable before `update` resolves.
   */
  update<T>(origin: string, decide: (current: LogState | undefined) => { next?: LogState; result: T }): Promise<T> {
    const run = async (): Promise<T> => {
      const { next, result } = decide(this.#logs[origin])
      if (next) {
        const logs = { ...this.#logs, [origin]: next }
        const file: StateFile = { format: 'coldproof-witness-state', version: 1, logs }
        await writeFileAtomic(this.path, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 })
        this.#logs = logs
      }
      return result
    }
    const p = this.#lock.then(run, run)
    this.#lock = p.catch(() => undefined)
    return p
  }
}
