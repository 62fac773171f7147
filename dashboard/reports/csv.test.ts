import t from 'tap'
import { readingsCsv, csvText, centiToDecimal, CSV_HEADER, CSV_NOTES } from './csv.ts'
import { sampleReportInput } from './test/sample-input.ts'

/** A small RFC 4180 reader, independent of the writer, for checking round trips. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = [],
    cell = '',
    q = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (q) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"'
        i++
      } else if (c === '"') q = false
      else cell += c
    } else if (c === '"') q = true
    else if (c === ',') {
      row.push(cell)
      cell = ''
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell)
      rows.push(row)
      row = []
      cell = ''
      i++
    } else cell += c
  }
  return rows
}

t.test('centi-degrees to decimal, exactly', async (t) => {
  for (const [c, s] of [
    [523, '5.23'],
    [800, '8.00'],
    [-1850, '-18.50'],
    [-5, '-0.05'],
    [0, '0.00'],
    [-27315, '-273.15'],
    [7, '0.07'],
  ] as const) {
    t.equal(centiToDecimal(c), s)
  }
})

t.test('formula-looking text cells are neutralised, others left alone', async (t) => {
  t.equal(csvText('=HYPERLINK("http://x")'), `"'=HYPERLINK(""http://x"")"`)
  t.equal(csvText('+1'), "'+1")
  t.equal(csvText('-2+3'), "'-2+3")
  t.equal(csvText('@SUM(A1)'), "'@SUM(A1)")
  t.equal(csvText('\tcmd'), "'\tcmd")
  t.equal(csvText('logger-1'), 'logger-1')
  t.equal(csvText('a,b'), '"a,b"')
  t.equal(csvText('line\nbreak'), '"line\nbreak"')
})

t.test('readings CSV round-trips and marks late readings', async (t) => {
  const input = sampleReportInput()
  const text = readingsCsv('=SHP-1', input.readings)
  t.ok(text.endsWith('\r\n'))
  t.ok(text.startsWith(CSV_NOTES.join('\r\n') + '\r\n'), 'notes on what the columns mean come first')
  const rows = parseCsv(text).filter((r) => !r[0].startsWith('#'))
  t.equal(parseCsv(text).length - rows.length, CSV_NOTES.length, 'each note is one record of one cell')
  t.same(rows[0], [...CSV_HEADER])
  t.equal(rows.length, input.readings.length + 1)
  input.readings.forEach((r, i) => {
    const row = rows[i + 1]
    t.equal(row[0], "'=SHP-1", 'shipment id cell neutralised')
    t.equal(row[1], r.deviceId)
    t.equal(Number(row[2]), r.seq)
    t.equal(Date.parse(row[3]), r.deviceTimeMs)
    t.equal(Number(row[4]), r.deviceTimeMs)
    t.equal(Date.parse(row[5]), r.receivedAt)
    t.equal(Math.round(Number(row[6]) * 100), r.tempCentiC)
    t.equal(row[7], r.flags.join('|'))
    t.equal(row[8], r.late ? 'late' : '')
    t.equal(row[9], typeof r.delayMs === 'number' ? String(r.delayMs) : '', 'delay_ms: empty when unknown')
    t.equal(row[10], '', 'late_after_ms: empty when not given')
  })
  t.ok(
    rows.some((r) => r[8] === 'late'),
    'the sample has a late reading',
  )
  t.ok(
    rows.some((r) => r[7] === 'SENSOR_FAULT'),
    'and a flagged one',
  )
})
