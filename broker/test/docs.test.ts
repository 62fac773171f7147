/**
 * docs/OPERATIONS.md says what is true: its refusal table lists every reason
 * of broker/refusals.ts with the answer the broker gives, and nothing else.
 * (The Mosquitto ACL block is run by mosquitto.test.ts.)
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { CONNACK_CODE, REFUSAL_REASONS } from '../refusals.ts'

const doc = readFileSync(new URL('../../docs/OPERATIONS.md', import.meta.url), 'utf8')
const section = doc.slice(doc.indexOf('## Refusal reasons'), doc.indexOf('## Metrics'))
const rows = new Map([...section.matchAll(/^\| `([a-z_]+)` \| [^|]+ \| ([^|]+) \|$/gm)].map((m) => [m[1], m[2].trim()]))

t.test('every refusal reason is documented with its answer', async (t) => {
  t.same([...rows.keys()].sort(), Object.keys(REFUSAL_REASONS).sort(), 'same set of reasons')
  for (const [reason, answer] of rows) {
    const code = CONNACK_CODE[reason as keyof typeof CONNACK_CODE]
    const expected =
      code !== undefined ? `CONNACK ${code}` : reason === 'subscribe_denied' ? 'SUBACK 0x80' : 'disconnect'
    t.equal(answer, expected, reason)
    t.match(
      REFUSAL_REASONS[reason as keyof typeof REFUSAL_REASONS],
      expected === 'SUBACK 0x80'
        ? /SUBACK 0x80/
        : expected === 'disconnect'
          ? /disconnect/
          : new RegExp(`CONNACK ${code}`),
      `${reason}: the catalogue agrees`,
    )
  }
})
