import t from 'tap'
import { ReplayCache } from './replay-cache.ts'

t.test('remembers a key until it expires, then forgets it', async (t) => {
  const c = new ReplayCache(3)
  t.equal(c.add('a', 100, 0), 'added')
  t.equal(c.add('a', 100, 50), 'replayed')
  t.equal(c.add('a', 100, 100), 'replayed', 'still live at its expiry')
  t.equal(c.add('a', 300, 101), 'added', 'expired: the time check refuses such tokens anyway')
})

t.test('bounded: full only while every entry is live', async (t) => {
  const c = new ReplayCache(2)
  t.equal(c.add('a', 100, 0), 'added')
  t.equal(c.add('b', 200, 0), 'added')
  t.equal(c.add('c', 300, 50), 'full')
  t.equal(c.size, 2)
  t.equal(c.add('c', 300, 150), 'added', 'a expired and was pruned')
  t.equal(c.size, 2)
})
