/**
 * The device's chain position: the last sequence number it used and the hash
 * of that reading's payload (the next reading's prevHash). Persisted before
 * the reading is published, so a restart continues the chain and a crash
 * never reuses a sequence number (ARCHITECTURE.md decision 2).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { GENESIS_PREV_HASH, HASH_LENGTH, MAX_SEQ, fromHex, toHex } from '../ledger/protocol/index.ts'
import { writeFailureReporter, type WriteErrorLog } from './atomic-file.ts'
import { writeFileAtomicSync } from '../ledger/protocol/atomic-file.ts'
import { SimError } from './errors.ts'

export interface ChainState {
  /** Last sequence number used; 0 before the first reading. */
  seq: number
  /** SHA-256 of the last payload; 32 zero bytes before the first reading. */
  head: Uint8Array
  /** Simulated true time of the last sample, ms UTC (0 before the first), so a restart resumes the schedule. */
  sampledAtMs: number
}

export interface ChainStateStore {
  load(): ChainState
  save(state: ChainState): void
}

export const STATE_FILE = 'state.json'

export const initialChainState = (): ChainState => ({ seq: 0, head: GENESIS_PREV_HASH, sampledAtMs: 0 })

export function memoryChainState(): ChainStateStore {
  let s = initialChainState()
  return {
    load: () => s,
    save: (next) => {
      s = next
    },
  }
}

/**
 * `log` given: a failed save (full disk) is reported, not thrown; the state
 * lives on in memory and the next save writes it. (A crash before that
 * resumes from the buffer file if it has the newer reading, else an older
 * seq: the ledger sees the reuse as a fork.) Without `log` a failure throws.
 */
export function fileChainState(dir: string, log?: WriteErrorLog): ChainStateStore {
  const path = join(dir, STATE_FILE)
  const report = log && writeFailureReporter(path, log)
  return {
    load() {
      let text: string
      try {
        text = readFileSync(path, 'utf8')
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return initialChainState()
        throw e
      }
      let json: { seq?: unknown; head?: unknown; sampledAtMs?: unknown }
      try {
        json = JSON.parse(text) as typeof json
      } catch {
        throw new SimError('ERR_STATE_CORRUPT', `chain state ${path} is not JSON`, { path })
      }
      if (typeof json.seq !== 'number' || !Number.isInteger(json.seq) || json.seq < 0 || json.seq > MAX_SEQ) {
        throw new SimError(
          'ERR_STATE_CORRUPT',
          `chain state ${path}: "seq" must be an integer 0..${MAX_SEQ}, got ${JSON.stringify(json.seq)}`,
          { path },
        )
      }
      if (typeof json.head !== 'string' || json.head.length !== 2 * HASH_LENGTH || !/^[0-9a-f]+$/.test(json.head)) {
        throw new SimError('ERR_STATE_CORRUPT', `chain state ${path}: "head" must be ${2 * HASH_LENGTH} hex digits`, {
          path,
        })
      }
      const sampledAtMs = json.sampledAtMs ?? 0
      if (typeof sampledAtMs !== 'number' || !Number.isSafeInteger(sampledAtMs) || sampledAtMs < 0) {
        throw new SimError('ERR_STATE_CORRUPT', `chain state ${path}: "sampledAtMs" must be a non-negative integer`, {
          path,
        })
      }
      return { seq: json.seq, head: fromHex(json.head), sampledAtMs }
    },
    save(state) {
      try {
        writeFileAtomicSync(
          path,
          JSON.stringify({ seq: state.seq, head: toHex(state.head), sampledAtMs: state.sampledAtMs }) + '\n',
        )
        report?.ok()
      } catch (e) {
        if (!report) throw e
        report.failed(e)
      }
    },
  }
}
