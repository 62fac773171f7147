/**
 * A root log leaf (docs/SCALING.md, "The root log"): one partition checkpoint,
 * as the line {"p":k,"note":"<signed checkpoint>"} of partitions.log. Pure, so
 * the browser's bundle verifier rebuilds leaves exactly as the root log wrote them.
 */
import { utf8 } from '../protocol/index.ts'

export interface RootLeaf {
  p: number
  note: string
}

/** A leaf's exact bytes: the line of partitions.log without its newline. */
export const rootLeafBytes = (l: RootLeaf): Uint8Array => utf8(JSON.stringify({ p: l.p, note: l.note }))
