/**
 * Wires a ledger to its witnesses: every checkpoint the ledger logs as an
 * entry (every `checkpointEvery` entries, every interval while entries
 * arrive, on close, and when a bundle needs one) is submitted, in order, to
 * each witness; the cosignatures land in `<ledgerDir>/cosignatures/` and
 * bundles built afterwards carry them. A witness that is down or refuses
 * never stops the ledger: the result is reported and the next checkpoint is
 * submitted as usual.
 */
import type { Ledger } from '../store/index.ts'
import { WitnessSubmitter, type SubmitResult, type WitnessTarget } from './submit.ts'

export interface AttachedWitnesses {
  /** Settles once every checkpoint logged so far was submitted. */
  idle(): Promise<void>
  detach(): void
}

/** Parses "url vkey" pairs (COLDPROOF_WITNESSES, --witness): a witness's submission URL and its verifier key. */
export function parseWitnessTargets(specs: string[]): WitnessTarget[] {
  return specs
    .flatMap((s) => s.split(/[\n,]/))
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const [url, vkey, extra] = s.split(/\s+/)
      if (!url || !vkey || extra !== undefined || !/^https?:\/\//.test(url))
        throw new Error(`a witness is "<http(s) url> <witness verifier key>", got ${JSON.stringify(s.slice(0, 120))}`)
      return { url, vkey }
    })
}

export function attachWitnesses(
  ledger: Pick<Ledger, 'dir' | 'subscribe' | 'consistencyProof'>,
  targets: WitnessTarget[],
  onResult: (r: SubmitResult, size: number) => void = () => {},
): AttachedWitnesses {
  const submitter = new WitnessSubmitter(ledger.dir, (a, b) => ledger.consistencyProof(a, b), targets)
  let last: Promise<unknown> = Promise.resolve()
  const unsubscribe = ledger.subscribe((e) => {
    if (e.entry.type !== 'checkpoint') return
    const { note, size } = e.entry.body as { note: string; size: number }
    last = submitter.submit(note).then(
      (rs) => rs.forEach((r) => onResult(r, size)),
      () => undefined,
    )
  })
  return {
    idle: async () => {
      await last
    },
    detach: unsubscribe,
  }
}
