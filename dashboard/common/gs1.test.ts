import t from 'tap'
import { gs1CheckDigit, checkSscc, normalizeGtin, checkLot, checkExpiry, checkGs1 } from './gs1.ts'

// Published, valid identifiers (the check digit is part of the published number).
const PUBLISHED = [
  {
    kind: 'sscc',
    value: '106141411928374657',
    source: 'Infor WMS docs, "Sample Check Digit Computations" (SSCC 10614141192837465, check digit 7)',
  },
  {
    kind: 'gtin',
    value: '09506000134352',
    source: 'GS1 Digital Link standard 1.1, example GTIN https://id.gs1.org/01/09506000134352',
  },
  { kind: 'gtin', value: '4006381333931', source: 'Wikipedia "International Article Number", EAN-13 example' },
  {
    kind: 'gtin',
    value: '036000241457',
    source: 'Wikipedia "Universal Product Code", check digit calculation example',
  },
  { kind: 'gtin', value: '96385074', source: 'Wikipedia "EAN-8" example' },
] as const

t.test('published identifiers validate', async (t) => {
  for (const p of PUBLISHED) {
    if (p.kind === 'sscc') t.equal(checkSscc(p.value), p.value, p.source)
    else t.equal(normalizeGtin(p.value), p.value.padStart(14, '0'), p.source)
    t.equal(gs1CheckDigit(p.value.slice(0, -1)), Number(p.value.at(-1)), `check digit of ${p.value}`)
  }
})

t.test('every wrong check digit is refused with the expected one', async (t) => {
  for (const p of PUBLISHED) {
    const good = Number(p.value.at(-1))
    for (let d = 0; d <= 9; d++) {
      if (d === good) continue
      const bad = p.value.slice(0, -1) + d
      const check = p.kind === 'sscc' ? checkSscc : normalizeGtin
      t.throws(() => check(bad), {
        name: 'Gs1Error',
        code: 'ERR_GS1_CHECK_DIGIT',
        expected: good,
        field: p.kind,
        value: bad,
      })
    }
  }
})

t.test('a swap of two adjacent different digits is detected', async (t) => {
  const v = '106141411928374657'
  // swap positions 9 and 10 ('1','9'): weights 3 and 1 differ, so the sum changes.
  const swapped = v.slice(0, 8) + v[9] + v[8] + v.slice(10)
  t.not(swapped, v)
  t.throws(() => checkSscc(swapped), { code: 'ERR_GS1_CHECK_DIGIT' })
})

t.test('formats', async (t) => {
  for (const bad of ['', '12345', '1061414119283746577', '10614141192837465a', 123, null, ' 106141411928374657']) {
    t.throws(() => checkSscc(bad), { code: 'ERR_GS1_FORMAT', field: 'sscc' }, `sscc ${JSON.stringify(bad)}`)
  }
  for (const bad of ['1234567', '12345678901', '123456789012345', 'abcdefgh']) {
    t.throws(() => normalizeGtin(bad), { code: 'ERR_GS1_FORMAT', field: 'gtin' }, `gtin ${bad}`)
  }
  t.equal(checkLot('L2407-A/1'), 'L2407-A/1')
  for (const bad of ['', 'x'.repeat(21), 'lot#1', 'lot 1', 'lötte'])
    t.throws(() => checkLot(bad), { code: 'ERR_GS1_FORMAT', field: 'lot' })
  t.equal(checkExpiry('2028-02-29'), '2028-02-29')
  for (const bad of ['2027-02-29', '2027-13-01', '27-01-01', '2027-1-1', 20270101])
    t.throws(() => checkExpiry(bad), { code: 'ERR_GS1_FORMAT', field: 'expiry' })
  t.same(checkGs1({ sscc: '106141411928374657', gtin: '96385074', lot: 'A1', expiry: '2030-01-31' }), {
    sscc: '106141411928374657',
    gtin: '00000096385074',
    lot: 'A1',
    expiry: '2030-01-31',
  })
})
