import t from 'tap'
import { request, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { harness, TestDevice, register, until, T0 } from './support.ts'

const MIN = 60_000

interface SseEvent {
  event: string
  data: any
}

/** A small SSE reader over a real socket: collects named events and counts comment lines. */
function connect(
  port: number,
  path: string,
  cookie: string,
): Promise<{ res: IncomingMessage; events: SseEvent[]; comments: () => number; raw: () => string; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { cookie, accept: 'text/event-stream' } }, (res) => {
      const events: SseEvent[] = []
      let buf = ''
      let all = ''
      let comments = 0
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        buf += chunk
        all += chunk
        let i
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i)
          buf = buf.slice(i + 2)
          if (block.startsWith(':')) {
            comments++
            continue
          }
          const ev = /^event: (.+)$/m.exec(block)?.[1]
          const data = /^data: (.+)$/m.exec(block)?.[1]
          if (ev && data) events.push({ event: ev, data: JSON.parse(data) })
        }
      })
      resolve({ res, events, comments: () => comments, raw: () => all, close: () => req.destroy() })
    })
    req.on('error', reject)
    req.end()
  })
}

t.test('the live stream pushes readings, alarms, acks and shipment changes after each commit', async (t) => {
  const h = await harness(t, { heartbeatMs: 50 })
  await h.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = h.app.server.address() as AddressInfo
  const cookie = await h.cookie('operator')

  const anon = await new Promise<number>((resolve) =>
    request({ host: '127.0.0.1', port, path: '/api/stream' }, (r) => {
      resolve(r.statusCode!)
      r.resume()
    }).end(),
  )
  t.equal(anon, 401, 'no stream without a session')

  const s = await connect(port, '/api/stream', cookie)
  t.teardown(s.close)
  t.equal(s.res.statusCode, 200)
  t.match(s.res.headers['content-type'], /^text\/event-stream/)
  t.match(
    String(s.res.headers['content-security-policy']),
    /script-src 'self'/,
    'security headers kept on the hijacked response',
  )
  await until(() => s.events.length >= 1)
  t.equal(s.events[0].event, 'hello')

  const dev = new TestDevice('logger-s', 5)
  await register(h.ledger, dev)
  await until(() => s.events.some((e) => e.event === 'device'))
  t.equal(s.events.find((e) => e.event === 'device')!.data.deviceId, 'logger-s')

  const created = await h.app.inject({
    method: 'POST',
    url: '/api/shipments',
    headers: { cookie },
    payload: {
      shipmentId: 'LIVE-1',
      product: '<b>Vaccine</b>',
      profileId: 'refrigerated-2-8',
      route: { from: 'A', to: 'B' },
      devices: ['logger-s'],
      startAt: T0,
    },
  })
  t.equal(created.statusCode, 201)
  await until(() => s.events.some((e) => e.event === 'shipment' && e.data.shipmentId === 'LIVE-1'))

  for (let i = 0; i < 6; i++) {
    h.clock.now = T0 + i * 5 * MIN + 1000
    await h.ledger.appendReading(dev.next(T0 + i * 5 * MIN, i >= 1 ? 1100 : 500), h.clock.now)
  }
  await until(() => s.events.filter((e) => e.event === 'reading').length === 6)
  const r = s.events.filter((e) => e.event === 'reading')
  t.same(
    r.map((e) => e.data.seq),
    [1, 2, 3, 4, 5, 6],
    'every reading, in order',
  )
  t.same(r[0].data.shipmentIds, ['LIVE-1'])
  t.equal(r[1].data.tempCentiC, 1100)
  t.equal(r[1].data.late, false)
  await until(() => s.events.some((e) => e.event === 'alarm' && e.data.kind === 'excursion_alarm'))
  const alarm = s.events.find((e) => e.event === 'alarm' && e.data.kind === 'excursion_alarm')!.data
  t.equal(alarm.shipmentId, 'LIVE-1')
  t.equal(alarm.state, 'open')
  const lastShipment = s.events.filter((e) => e.event === 'shipment').at(-1)!.data
  t.equal(lastShipment.status, 'alarm')
  t.equal(lastShipment.currentTempCentiC, 1100)

  // A reading from the device's buffer, received long after its device time, arrives marked late.
  h.clock.now = T0 + 60 * MIN
  await h.ledger.appendReading(dev.next(T0 + 6 * 5 * MIN, 1000), h.clock.now)
  await until(() => s.events.filter((e) => e.event === 'reading').length === 7)
  t.equal(s.events.filter((e) => e.event === 'reading').at(-1)!.data.late, true)

  const ack = await h.app.inject({
    method: 'POST',
    url: `/api/shipments/LIVE-1/alarms/${encodeURIComponent(alarm.alarmId)}/ack`,
    headers: { cookie },
    payload: { reason: 'checked', comment: '<i>ok</i>' },
  })
  t.equal(ack.statusCode, 200)
  await until(() => s.events.some((e) => e.event === 'ack'))
  const ackEv = s.events.find((e) => e.event === 'ack')!.data
  t.equal(ackEv.alarmId, alarm.alarmId)
  t.equal(ackEv.ack.comment, '<i>ok</i>')
  t.notMatch(s.raw(), /<b>|<i>/, 'markup from users travels escaped in the stream')

  await h.ledger.checkpoint()
  await until(() => s.events.some((e) => e.event === 'checkpoint'))
  const cp = s.events.find((e) => e.event === 'checkpoint')!.data
  t.equal(cp.size, h.ledger.latestCheckpoint()!.size, 'a new signed checkpoint is announced')
  t.match(cp.note, cp.rootHash)

  await until(() => s.comments() >= 1)
  t.pass('heartbeat comments arrive')

  t.equal(h.app.dashboard.sse.size(), 1)
  s.close()
  await until(() => h.app.dashboard.sse.size() === 0)
  t.pass('the server drops a client that disconnects')
})

t.test('?shipmentId= filters reading events', async (t) => {
  const h = await harness(t)
  await h.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = h.app.server.address() as AddressInfo
  const cookie = await h.cookie('regulator')
  const a = new TestDevice('logger-a', 1)
  const b = new TestDevice('logger-b', 2)
  await register(h.ledger, a)
  await register(h.ledger, b)
  const op = await h.cookie('operator')
  for (const [id, dev] of [
    ['SA', 'logger-a'],
    ['SB', 'logger-b'],
  ]) {
    await h.app.inject({
      method: 'POST',
      url: '/api/shipments',
      headers: { cookie: op },
      payload: {
        shipmentId: id,
        product: 'P',
        profileId: 'refrigerated-2-8',
        route: { from: 'A', to: 'B' },
        devices: [dev],
        startAt: T0,
      },
    })
  }
  const s = await connect(port, '/api/stream?shipmentId=SB', cookie)
  t.teardown(s.close)
  await until(() => s.events.length >= 1)
  h.clock.now = T0 + 1000
  await h.ledger.appendReading(a.next(T0, 500), h.clock.now)
  await h.ledger.appendReading(b.next(T0, 510), h.clock.now)
  await until(() => s.events.some((e) => e.event === 'reading'))
  const readings = s.events.filter((e) => e.event === 'reading')
  t.same(
    readings.map((e) => e.data.deviceId),
    ['logger-b'],
  )
  const bad = await h.app.inject({ url: '/api/stream?shipmentId=%3Cx%3E', headers: { cookie } })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().field, 'querystring.shipmentId')
})
