import t from 'tap'
import fc from 'fast-check'
import { MinHeap } from './heap.ts'

t.test('pops in time order, ties in insertion order', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), (times) => {
      const h = new MinHeap<number>()
      times.forEach((at, i) => h.push(at, i))
      const out: Array<[number, number]> = []
      for (let x = h.pop(); x; x = h.pop()) out.push([x.at, x.item])
      const want = times.map((at, i) => [at, i] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1])
      return JSON.stringify(out) === JSON.stringify(want) && h.size === 0
    }),
  )
  t.pass('property holds')
})
