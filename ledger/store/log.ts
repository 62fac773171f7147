/**
 * The ledger's own log lines (a durable write failing, a listener throwing, a
 * commit the ingest could not make): pino, structured JSON with levels. The
 * process that embeds the ledger passes its logger; alone, the ledger writes
 * warnings and errors to stderr.
 */
import { pino, destination, type Logger } from 'pino'

export type LedgerLog = Pick<Logger, 'warn' | 'error'>

let fallback: Logger | undefined
/** stderr, level warn; made on first use so that a ledger given a logger never opens it. */
export function defaultLedgerLog(): LedgerLog {
  return (fallback ??= pino({ name: 'coldproof-ledger', level: 'warn' }, destination({ dest: 2, sync: false })))
}
