import { readFileSync } from 'node:fs'

/** Peak resident memory of a live process (VmHWM), MiB; 0 when unreadable. */
export function peakRssMiB(pid: number | undefined): number {
  if (!pid) return 0
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : 0
  } catch {
    return 0
  }
}
