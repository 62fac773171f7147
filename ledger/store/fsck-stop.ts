/** How the checker's parts report the first failure: thrown as Stop, caught once by checkLedger. */
import type { FsckErrorCode, FsckFailure } from './fsck.ts'

export class Stop extends Error {
  constructor(readonly failure: FsckFailure) {
    super(failure.message)
  }
}

export const stop = (
  code: FsckErrorCode,
  index: number | undefined,
  message: string,
  details: Record<string, unknown> = {},
): never => {
  throw new Stop({ code, index, message: index === undefined ? message : `entry ${index}: ${message}`, details })
}
