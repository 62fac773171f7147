/**
 * Long-running commands (start, sim) must survive their own output: standard
 * output or error redirected to a file on a full disk fails its writes with
 * ENOSPC, and an unhandled stream 'error' would end the process (docs/OPERATIONS.md,
 * "Disk full"). A line that cannot be written is dropped; the process goes on.
 */
import { writeSync } from 'node:fs'

let guarded = false

/** Ignores write errors of process.stdout and process.stderr (once per process). */
export function guardStandardStreams(): void {
  if (guarded) return
  guarded = true
  for (const s of [process.stdout, process.stderr])
    s.on('error', () => {
      /* a dropped log line, not a crash */
    })
}

/**
 * A pino destination writing to `fd` synchronously; a failed write (full
 * disk, closed pipe) drops the line, and later lines are written again once
 * there is space (pino's own stream would emit an unhandled 'error').
 */
export function dropOnErrorStream(fd = 1): { write(line: string): void } {
  return {
    write(line) {
      try {
        writeSync(fd, line)
      } catch {
        /* dropped: the disk is full or the reader went away */
      }
    },
  }
}
