/**
 * The live stream's bounds, over real sockets: streams capped per user and in
 * all (429 ERR_STREAM_LIMIT), a client that never reads is dropped once its
 * unsent data passes the bound (the server's own count of buffered bytes
 * stays bounded while a reading client gets everything), and a shutdown ends
 * every stream with a `bye` event. No timing: every wait is for a condition.
 */
import t from 'tap'
import { request, type IncomingMessage, type ClientRequest } from 'node:http'
import { connect as tcp, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { harness, until } from './support.ts'

interface Stream {
  status: number
  code?: string
  text: () => string
  ended: () => boolean
  close: () => void
}

function open(port: number, cookie: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    let req: ClientRequest
    req = request(
      { host: '127.0.0.1', port, path: '/api/stream', headers: { cookie, accept: 'text/event-stream' } },
      (res: IncomingMessage) => {
        let text = ''
        let ended = false
        res.setEncoding('utf8')
        res.on('data', (c: string) => {
          text += c
        })
        res.on('end', () => {
          ended = true
        })
        res.on('close', () => {
          ended = true
        })
        res.on('error', () => {
          ended = true
        })
        const base = { status: res.statusCode!, text: () => text, ended: () => ended, close: () => req.destroy() }
        if (res.statusCode !== 200) res.on('end', () => resolve({ ...base, code: JSON.parse(text).code }))
        else resolve(base)
      },
    )
    req.on('error', reject)
    req.end()
  })
}

/** A client that sends the request and then never reads a byte. */
function openNonReader(port: number, cookie: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = tcp({ host: '127.0.0.1', port }, () => {
      s.write(
        `GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nCookie: ${cookie}\r\nAccept: text/event-stream\r\n\r\n`,
      )
      s.pause()
      resolve(s)
    })
    s.on('error', reject)
  })
}

t.test('streams are capped per user and in all', async (t) => {
  const h = await harness(t, { stream: { maxPerUser: 2, maxTotal: 3 } })
  await h.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = h.app.server.address() as AddressInfo
  const op = await h.cookie('operator')
  const a = await open(port, op)
  const b = await open(port, op)
  t.teardown(() => {
    a.close()
    b.close()
  })
  t.same([a.status, b.status], [200, 200])
  const c = await open(port, op)
  t.equal(c.status, 429, 'a third stream for one user is refused')
  t.equal(c.code, 'ERR_STREAM_LIMIT')
  const r = await open(port, await h.cookie('regulator'))
  t.teardown(() => r.close())
  t.equal(r.status, 200, 'another user still gets one')
  const d = await open(port, await h.cookie('admin'))
  t.equal(d.status, 429, 'over the total: refused for anyone')
  t.equal(h.app.dashboard.sse.size(), 3)
  a.close()
  await until(() => h.app.dashboard.sse.size() === 2, 60_000)
  const e = await open(port, op)
  t.teardown(() => e.close())
  t.equal(e.status, 200, 'a closed stream frees its place')
  const metrics = (await h.app.inject({ url: '/metrics', headers: { cookie: op } })).body
  t.match(metrics, /coldproof_http_refusals_total\{code="ERR_STREAM_LIMIT"\} 2/)
})

t.test(
  'a client that never reads is dropped; buffered bytes stay bounded; a reading client gets everything',
  async (t) => {
    const maxBufferedBytes = 64 * 1024
    const h = await harness(t, { stream: { maxBufferedBytes } })
    await h.app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = h.app.server.address() as AddressInfo
    const cookie = await h.cookie('operator')
    const reader = await open(port, cookie)
    t.teardown(() => reader.close())
    const stuck = await openNonReader(port, cookie)
    t.teardown(() => stuck.destroy())
    const sse = h.app.dashboard.sse
    await until(() => sse.size() === 2, 60_000)

    const pad = 'x'.repeat(16 * 1024)
    let sent = 0
    let peak = 0
    // Until the non-reader is dropped: the kernel's socket buffers fill first, then the server's.
    // After each event the loop yields (as the server does between commits): the writes flush
    // and the slow-client check runs; then no client may hold more than the bound.
    while (sse.dropped() === 0 && sent < 20_000) {
      sse.broadcast({ event: 'hello', data: { n: sent, pad } })
      sent++
      await new Promise((r) => setImmediate(r))
      await new Promise((r) => setImmediate(r))
      peak = Math.max(peak, sse.bufferedBytes())
    }
    t.equal(sse.dropped(), 1, `the non-reader was dropped after ${sent} events of ${pad.length} B`)
    t.equal(sse.size(), 1, 'the reading client is still connected')
    t.ok(
      peak <= 2 * maxBufferedBytes,
      `peak buffered after each check ${peak} B <= the bound ${maxBufferedBytes} B for each of 2 clients`,
    )
    t.ok(sse.bufferedBytes() <= maxBufferedBytes, 'after the drop: within the bound')
    t.comment(
      `non-reader dropped after ${sent} events (${Math.round((sent * pad.length) / 1024)} KiB sent); server-side peak buffered ${peak} B`,
    )
    await until(() => reader.text().includes(`"n":${sent - 1},`), 60_000)
    t.pass('the reading client received every event')
    const metrics = (await h.app.inject({ url: '/metrics', headers: { cookie } })).body
    t.match(metrics, /coldproof_sse_dropped_total 1/)
  },
)

t.test('closing the server sends bye and ends every stream first', async (t) => {
  const h = await harness(t)
  await h.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = h.app.server.address() as AddressInfo
  const cookie = await h.cookie('operator')
  const s1 = await open(port, cookie)
  const s2 = await open(port, await h.cookie('regulator'))
  const stuck = await openNonReader(port, cookie)
  t.teardown(() => {
    s1.close()
    s2.close()
    stuck.destroy()
  })
  await until(() => h.app.dashboard.sse.size() === 3, 60_000)
  const started = Date.now()
  await h.app.close()
  t.comment(`app.close() with 3 open streams took ${Date.now() - started} ms`)
  await until(() => s1.ended() && s2.ended(), 60_000)
  for (const s of [s1, s2])
    t.match(
      s.text(),
      /event: bye\ndata: \{"reason":"server stopping"\}\n\n$/,
      'the last event says the server is stopping',
    )
  t.equal(h.app.dashboard.sse.size(), 0)
})
