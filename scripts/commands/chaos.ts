/**
 * `coldproof chaos`: the chaos suite (scripts/chaos/, docs/RELIABILITY.md).
 * Exit 0 when nothing was lost and every check held, 1 otherwise.
 */
import { InvalidArgumentError, type Command } from 'commander'
import { runChaos } from '../chaos/run.ts'
import { formatReport } from '../chaos/report.ts'

const int = (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`must be a non-negative integer, got "${v}"`)
  return Number(v)
}

export function register(program: Command): void {
  program
    .command('chaos')
    .description('kill, flood and fuzz the whole system while a fleet publishes, then prove nothing was lost')
    .option('--quick', 'the small CI version (5 kills, one simulated day)')
    .option('--seed <n>', 'seed of the fault schedule', int, 17)
    .option('--kills <n>', 'number of SIGKILLs of the system (default 55, quick 5)', int)
    .option('--no-disk-full', "do not fill the ledger's filesystem (it needs root to mount a tmpfs anyway)")
    .option('--keep', 'keep the work directory')
    .option('--json', 'print the report as JSON')
    .action(
      async (o: {
        quick?: boolean
        seed: number
        kills?: number
        diskFull: boolean
        keep?: boolean
        json?: boolean
      }) => {
        const r = await runChaos({
          quick: o.quick,
          seed: o.seed,
          kills: o.kills,
          diskFull: o.diskFull,
          keep: o.keep,
          log: (l) => process.stderr.write(`chaos: ${l}\n`),
        })
        process.stdout.write((o.json ? JSON.stringify(r, null, 2) : formatReport(r)) + '\n')
        process.exitCode = r.ok ? 0 : 1
      },
    )
}
