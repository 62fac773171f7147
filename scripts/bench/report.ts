/**
 * The benchmark's output: the table on stdout, the JSON file, and the
 * generated part of BENCHMARKS.md (between two markers, so the hand-written
 * history around it stays). Targets are checked against medians; derived
 * ratios carry the range their inputs' spreads allow.
 */
import { readFile, writeFile } from 'node:fs/promises'
import type { Figure } from './figures.ts'
import type { Machine } from './machine.ts'

export interface Derived {
  id: string
  name: string
  unit: string
  median: number
  min: number
  max: number
  from: string
}

export interface Target {
  what: string
  figure: string
  op: '>=' | '<='
  value: number
  unit: string
}

export interface Results {
  machine: Machine
  quick: boolean
  loadAfter: number[]
  figures: Figure[]
  derived: Derived[]
  targets: (Target & { measured: number; met: boolean })[]
}

export const SECTIONS: Record<string, string> = {
  limits: '1. Limits of this machine',
  pipeline: '2. Pipeline (embedded broker -> ingest -> ledger)',
  fleet: '3. Fleet scale',
  growth: '4. Growth',
  regulator: "5. The regulator's side",
  cluster: '6. Cluster mode (NATS JetStream, partitions; docs/SCALING.md)',
}

export const TARGETS: Target[] = [
  {
    what: 'pipeline >= 70 % of the combined limit',
    figure: 'derived.pipeline_ratio',
    op: '>=',
    value: 0.7,
    unit: 'ratio',
  },
  {
    what: 'pipeline at 1,000 devices within 10 % of 50 devices (runs side by side)',
    figure: 'fleet.paired_ratio',
    op: '>=',
    value: 0.9,
    unit: 'ratio',
  },
  {
    what: 'p99 publish -> commit at half load <= 250 ms',
    figure: 'pipeline.latency_commit_p99',
    op: '<=',
    value: 250,
    unit: 'ms',
  },
  {
    what: 'appends at full size >= 80 % of appends on an empty ledger',
    figure: 'derived.append_full_vs_empty',
    op: '>=',
    value: 0.8,
    unit: 'ratio',
  },
  { what: 'inclusion proof at full size <= 1 ms', figure: 'growth.inclusion_proof', op: '<=', value: 1, unit: 'ms' },
  {
    what: 'consistency proof at full size <= 1 ms',
    figure: 'growth.consistency_proof',
    op: '<=',
    value: 1,
    unit: 'ms',
  },
  {
    what: 'server RSS with the large fleet < 1 GiB (max sample)',
    figure: 'fleet.rss_server',
    op: '<=',
    value: 1024,
    unit: 'MiB',
  },
  { what: '10,000-reading bundle verified in <= 3 s', figure: 'regulator.verify', op: '<=', value: 3000, unit: 'ms' },
]

const get = (figures: Figure[], id: string): Figure => {
  const f = figures.find((x) => x.id === id)
  if (!f) throw new Error(`bench: figure ${id} was not measured`)
  return f
}

/** Ratios computed from measured figures: median from medians, range from the extremes. */
export function derive(figures: Figure[]): Derived[] {
  const combined = (t: number, v: number) => 1 / (1 / t + 1 / v)
  const tr = get(figures, 'limits.transport')
  const va = get(figures, 'limits.verify_all_cores')
  const v1 = get(figures, 'limits.verify_one_core')
  const pipe = get(figures, 'pipeline.saturation')
  const ratio = (id: string, name: string, a: Figure, b: Figure, from: string): Derived => ({
    id,
    name,
    unit: 'ratio',
    median: a.median / b.median,
    min: a.min / b.max,
    max: a.max / b.min,
    from,
  })
  const comb: Derived = {
    id: 'derived.combined_limit',
    name: 'combined limit 1/(1/transport + 1/verify all cores)',
    unit: 'readings/s',
    median: combined(tr.median, va.median),
    min: combined(tr.min, va.min),
    max: combined(tr.max, va.max),
    from: 'limits.transport, limits.verify_all_cores',
  }
  return [
    comb,
    {
      id: 'derived.pipeline_ratio',
      name: 'pipeline / combined limit',
      unit: 'ratio',
      median: pipe.median / comb.median,
      min: pipe.min / comb.max,
      max: pipe.max / comb.min,
      from: 'pipeline.saturation, derived.combined_limit',
    },
    ratio(
      'derived.verify_pool_gain',
      'pipeline with the verify pool / with signatures on the main thread',
      pipe,
      get(figures, 'pipeline.saturation_main_thread'),
      'pipeline.saturation, pipeline.saturation_main_thread',
    ),
    ratio(
      'derived.verify_scaling',
      'verify all cores / one core',
      va,
      v1,
      'limits.verify_all_cores, limits.verify_one_core',
    ),
    ratio(
      'derived.append_full_vs_empty',
      'appends at full size / on an empty ledger',
      get(figures, 'growth.append_full'),
      get(figures, 'growth.append_empty'),
      'growth.append_full, growth.append_empty',
    ),
  ]
}

export function checkTargets(figures: Figure[], derived: Derived[]): Results['targets'] {
  return TARGETS.map((t) => {
    const src = t.figure.startsWith('derived.')
      ? derived.find((d) => d.id === t.figure)
      : figures.find((f) => f.id === t.figure)
    if (!src) throw new Error(`bench: target ${t.what} has no measured figure ${t.figure}`)
    const measured = t.figure === 'fleet.rss_server' ? src.max : src.median
    return { ...t, measured, met: t.op === '>=' ? measured >= t.value : measured <= t.value }
  })
}

export function fmt(n: number, unit: string): string {
  if (unit === 'ratio') return n.toFixed(2)
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US')
  if (Math.abs(n) >= 10) return n.toFixed(1)
  return n.toFixed(2)
}

function figureRows(r: Results): string[][] {
  const rows: string[][] = []
  for (const [key, title] of Object.entries(SECTIONS)) {
    const fs = r.figures.filter((f) => f.section === key)
    if (fs.length === 0) continue
    rows.push([`**${title}**`, '', '', '', '', ''])
    for (const f of fs)
      rows.push([
        f.name + (f.note ? ` (${f.note})` : ''),
        f.unit,
        String(f.runs),
        fmt(f.min, f.unit),
        fmt(f.median, f.unit),
        fmt(f.max, f.unit),
      ])
  }
  rows.push(['**Derived (from the figures above)**', '', '', '', '', ''])
  for (const d of r.derived)
    rows.push([d.name, d.unit, '-', fmt(d.min, d.unit), fmt(d.median, d.unit), fmt(d.max, d.unit)])
  return rows
}

function machineLine(r: Results): string {
  const m = r.machine
  return `${m.cores} cores, ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, ${m.date}; load average ${m.loadAverage.join(' / ')} before, ${r.loadAfter.join(' / ')} after${r.quick ? ' (QUICK RUN: small sizes, not comparable)' : ''}`
}

export function printResults(r: Results): void {
  console.log(`\nColdProof benchmark — ${machineLine(r)}`)
  const rows = figureRows(r)
  const w = Math.max(...rows.map((x) => x[0].length))
  console.log(
    `\n${'figure'.padEnd(w)}  ${'unit'.padEnd(16)} ${'runs'.padStart(4)} ${'min'.padStart(10)} ${'median'.padStart(10)} ${'max'.padStart(10)}`,
  )
  for (const row of rows) {
    if (row[0].startsWith('**')) {
      console.log(`\n${row[0].replaceAll('**', '')}`)
      continue
    }
    console.log(
      `${row[0].padEnd(w)}  ${row[1].padEnd(16)} ${row[2].padStart(4)} ${row[3].padStart(10)} ${row[4].padStart(10)} ${row[5].padStart(10)}`,
    )
  }
  console.log('\nTargets (checked against the median; RSS against the largest sample)')
  for (const t of r.targets)
    console.log(
      `  ${t.met ? '✔' : '✘'} ${t.what.padEnd(60)} target ${t.op} ${fmt(t.value, t.unit)} ${t.unit}, measured ${fmt(t.measured, t.unit)}`,
    )
}

const BEGIN = '<!-- bench:begin (written by npm run bench; edit outside the markers) -->'
const END = '<!-- bench:end -->'

export function markdown(r: Results): string {
  const lines = [
    BEGIN,
    '',
    `Machine: ${machineLine(r)}.`,
    '',
    '| figure | unit | runs | min | median | max |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ]
  for (const row of figureRows(r)) lines.push(`| ${row.join(' | ')} |`)
  lines.push('', '| target | target | measured | met |', '| --- | --- | ---: | :---: |')
  for (const t of r.targets)
    lines.push(
      `| ${t.what} | ${t.op} ${fmt(t.value, t.unit)} ${t.unit} | ${fmt(t.measured, t.unit)} | ${t.met ? '✔' : '✘'} |`,
    )
  lines.push('', END)
  return lines.join('\n')
}

/** Writes the JSON file and replaces the generated part of the Markdown file (created if missing). */
export async function writeResults(r: Results, jsonPath: string, mdPath: string): Promise<void> {
  await writeFile(jsonPath, JSON.stringify(r, null, 2) + '\n')
  let md: string
  try {
    md = await readFile(mdPath, 'utf8')
  } catch {
    md = `# Benchmarks\n\n${BEGIN}\n${END}\n`
  }
  const a = md.indexOf(BEGIN)
  const b = md.indexOf(END)
  md = a >= 0 && b > a ? md.slice(0, a) + markdown(r) + md.slice(b + END.length) : `${md.trimEnd()}\n\n${markdown(r)}\n`
  await writeFile(mdPath, md)
}
