/**
 * Crash-safe small-file writes: write a temporary file, fsync it, rename it
 * over the target (rename is atomic on POSIX file systems), then fsync the
 * directory so the rename itself survives a power cut.
 */
import { openSync, writeSync, fsyncSync, closeSync, renameSync, rmSync } from 'node:fs'
import { dirname } from 'node:path'

export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): void {
  const tmp = `${path}.tmp`
  const fd = openSync(tmp, 'w', mode)
  try {
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
      let off = 0
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, path)
  } catch (e) {
    // A full disk: the half-written temporary file must not keep the space.
    rmSync(tmp, { force: true })
    throw e
  }
  fsyncDir(dirname(path))
}

/**
 * Reports failed writes of one persisted file once per failure episode (a
 * full disk fails every write until space returns) and once on recovery.
 */
export type WriteErrorLog = (level: 'warn' | 'info', message: string) => void

export function writeFailureReporter(what: string, log: WriteErrorLog): { failed(e: unknown): void; ok(): void } {
  let failing = false
  return {
    failed(e) {
      if (failing) return
      failing = true
      log('warn', `${what}: write failed (${(e as Error).message}); kept in memory, retried on the next write`)
    },
    ok() {
      if (!failing) return
      failing = false
      log('info', `${what}: written again`)
    },
  }
}

export function fsyncDir(dir: string): void {
  let fd: number | undefined
  try {
    fd = openSync(dir, 'r')
    fsyncSync(fd)
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}
