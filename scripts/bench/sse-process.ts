/**
 * A live-stream watcher of the benchmark, in its own process like a browser:
 * follows GET /api/stream with an operator's cookie and stamps the arrival
 * (wall ms) of every `reading` event. IPC: {cmd: 'collect'} replies with the
 * stamps so far and clears them; {cmd: 'close'} exits.
 */
import { request } from 'node:http'
import { wallMs } from './figures.ts'

const [base, cookie] = process.argv.slice(2)
let stamps: [string, number, number][] = []
let ended = false

const req = request(new URL('/api/stream', base), { headers: { cookie, accept: 'text/event-stream' } }, (res) => {
  if (res.statusCode !== 200) {
    process.send!({ ok: false, error: `stream answered ${res.statusCode}` })
    process.exit(1)
  }
  res.setEncoding('utf8')
  let buf = ''
  res.on('data', (chunk: string) => {
    const t = wallMs()
    buf += chunk
    let i
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i)
      buf = buf.slice(i + 2)
      if (!block.startsWith('event: reading\n')) continue
      const data = JSON.parse(block.slice(block.indexOf('data: ') + 6)) as { deviceId: string; seq: number }
      stamps.push([data.deviceId, data.seq, t])
    }
  })
  // The server ends the stream of a client it judges too slow: say so instead of waiting for readings.
  res.on('end', () => {
    ended = true
  })
  res.on('close', () => {
    ended = true
  })
  process.send!({ ok: true, started: true })
})
req.on('error', (e) => {
  process.send!({ ok: false, error: e.message })
  process.exit(1)
})
req.end()

process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'collect') {
    process.send!({ ok: true, stamps, ended })
    stamps = []
  }
  if (m.cmd === 'close') {
    req.destroy()
    process.exit(0)
  }
})
