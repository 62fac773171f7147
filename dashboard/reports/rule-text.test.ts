import t from 'tap'
import { describeRule } from './rule-text.ts'

t.test('a rule id reads as its side and limit, looked up in the profile', async (t) => {
  const profile = {
    zones: [
      { id: 'above-8', side: 'above', limitCentiC: 800 },
      { id: 'warm', side: 'above', limitCentiC: 1250 },
    ],
    hardLimits: [{ id: 'frozen', side: 'below', limitCentiC: -50 }],
  }
  t.equal(describeRule(profile, 'above-8'), 'above 8.00 °C')
  t.equal(describeRule(profile, 'warm'), 'above 12.50 °C', 'from the zone, not from the id text')
  t.equal(describeRule(profile, 'frozen'), 'below -0.50 °C')
  t.equal(describeRule(profile, 'above-9'), null, 'unknown id')
  t.equal(describeRule(profile, ''), null)
  t.equal(describeRule(null, 'above-8'), null)
  t.equal(describeRule({ zones: [{ id: 'x', side: 'sideways', limitCentiC: 1 }] }, 'x'), null)
})
