/**
 * `coldproof witness`: runs a C2SP tlog-witness (ledger/witness/witness.ts)
 * for the logs whose verifier keys are given, cosigning each checkpoint that
 * extends the last one it cosigned for that log. docs/PROTOCOL.md, "Witnesses".
 *
 *   coldproof witness --key witness.key --log ledger.vkey --state witness-state.json --port 7380
 *
 * The first run creates the key file (mode 0600) and prints the witness's
 * verifier key: give it to the log operator (COLDPROOF_WITNESSES) and to
 * verifiers (coldproof verify --witness).
 */
import type { Command } from 'commander'
import { createServer } from 'node:http'
import { readFile } from 'node:fs/promises'
import { parseVerifierKey } from '../../ledger/tlog/index.ts'
import { createWitness } from '../../ledger/witness/index.ts'
import { WitnessState } from '../../ledger/witness/index.ts'
import { DEFAULT_WITNESS_NAME, loadOrCreateWitnessKey } from '../../ledger/witness/index.ts'

interface Options {
  key: string
  name?: string
  log: string[]
  state: string
  port: string
  host: string
}

async function logKey(arg: string): Promise<string> {
  try {
    parseVerifierKey(arg)
    return arg.trim()
  } catch {
    /* a file */
  }
  const k = (await readFile(arg, 'utf8')).trim()
  parseVerifierKey(k)
  return k
}

export async function startWitness(o: Options): Promise<{ url: string; verifierKey: string; close(): Promise<void> }> {
  const port = Number(o.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be 0..65535, got ${JSON.stringify(o.port)}`)
  if (!o.log?.length)
    throw new Error('give at least one --log <verifier key or file>: the witness cosigns only logs it knows')
  const logs = await Promise.all(
    o.log.map((l) =>
      logKey(l).catch((e: Error) => {
        throw new Error(`--log ${l}: not a log verifier key nor a file holding one (${e.message})`)
      }),
    ),
  )
  const key = await loadOrCreateWitnessKey(o.key, o.name ?? DEFAULT_WITNESS_NAME)
  const state = await WitnessState.open(o.state)
  const witness = createWitness({
    key,
    logs,
    state,
    onConflict: (c) =>
      process.stderr.write(
        `witness: REFUSED ${c.status} for ${c.origin}: ${c.reason}; the checkpoint was:\n${c.checkpoint}`,
      ),
  })
  const server = createServer(witness.handler('/'))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, o.host, () => resolve())
  })
  const addr = server.address() as { port: number }
  return {
    url: `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${addr.port}/`,
    verifierKey: key.verifierKey,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

export function register(program: Command): void {
  program
    .command('witness')
    .description(
      'run a C2SP tlog-witness: cosign checkpoints of the given logs that are consistent with what it cosigned before',
    )
    .requiredOption('--key <file>', 'the witness signing key file (created, mode 0600, on first run)')
    .option('--name <name>', `the witness key name, when creating the key (default ${DEFAULT_WITNESS_NAME})`)
    .requiredOption(
      '--log <vkey-or-file...>',
      "verifier key of a log to witness (e.g. a ledger's ledger.vkey); repeatable",
    )
    .requiredOption(
      '--state <file>',
      'where the witness keeps the latest cosigned size and root of each log (atomic writes)',
    )
    .option('--port <port>', 'TCP port', '7380')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async (o: Options) => {
      try {
        const w = await startWitness(o)
        process.stdout.write(`witness ${w.verifierKey}\nlistening on ${w.url} (POST ${w.url}add-checkpoint)\n`)
        const stop = () => {
          void w.close().then(() => process.exit(0))
        }
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
      } catch (e) {
        process.stderr.write(
          `witness: ${(e as { code?: string }).code ? `${(e as { code?: string }).code}: ` : ''}${(e as Error).message}\n`,
        )
        process.exitCode = 2
      }
    })
}
