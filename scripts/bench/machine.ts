/** The machine a benchmark ran on: printed and written beside every figure. */
import { availableParallelism, cpus, totalmem, platform, release, arch, loadavg } from 'node:os'

export interface Machine {
  cores: number
  cpuModel: string
  memoryGiB: number
  os: string
  node: string
  date: string
  loadAverage: number[]
}

export function describeMachine(): Machine {
  const c = cpus()
  return {
    cores: availableParallelism(),
    cpuModel: c[0]?.model.trim() || 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    date: new Date().toISOString(),
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
  }
}
