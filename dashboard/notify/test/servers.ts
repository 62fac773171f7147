/**
 * Real receivers for the notification tests: an SMTP server (smtp-server) and
 * an HTTP webhook receiver (node:http), both on 127.0.0.1 port 0, stopped in
 * teardown. They record what arrived; the receiver answers as each test says.
 */
import type { Test } from 'tap'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'

export interface ReceivedMail {
  from: string
  to: string[]
  subject: string
  text: string
}

/** Decodes what nodemailer may use for a plain-text body (quoted-printable or base64). */
function bodyOf(raw: string): { headers: string; text: string } {
  const split = raw.indexOf('\r\n\r\n')
  const headers = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ')
  let text = raw.slice(split + 4)
  const enc = /^content-transfer-encoding:\s*(\S+)/im.exec(headers)?.[1]?.toLowerCase()
  if (enc === 'quoted-printable') {
    text = Buffer.from(
      text.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    ).toString('utf8')
  } else if (enc === 'base64') text = Buffer.from(text, 'base64').toString('utf8')
  return { headers, text: text.replace(/\r\n/g, '\n') }
}

export async function startSmtp(t: Test): Promise<{ port: number; mails: ReceivedMail[] }> {
  const mails: ReceivedMail[] = []
  const server = new SMTPServer({
    authOptional: true,
    // Plain SMTP on loopback: no certificate to make, and nodemailer does not try STARTTLS.
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, cb) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        const { headers, text } = bodyOf(Buffer.concat(chunks).toString('utf8'))
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          subject: /^subject:\s*(.*)$/im.exec(headers)?.[1] ?? '',
          text,
        })
        cb()
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { port: (server.server.address() as AddressInfo).port, mails }
}

export interface Hook {
  headers: IncomingMessage['headers']
  body: string
}

/**
 * A webhook receiver. `answer(n, hook)` gives the status for the n-th request (1-based),
 * or 'hang' to never answer (the socket is destroyed in teardown).
 */
export async function startReceiver(
  t: Test,
  answer: (n: number, hook: Hook) => number | 'hang',
): Promise<{ url: string; hooks: Hook[]; hanging: () => number }> {
  const hooks: Hook[] = []
  const hung = new Set<ServerResponse>()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const hook = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }
      hooks.push(hook)
      const a = answer(hooks.length, hook)
      if (a === 'hang') {
        hung.add(res)
        res.on('close', () => hung.delete(res))
        return
      }
      res.writeHead(a, { 'content-type': 'text/plain' }).end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, hooks, hanging: () => hung.size }
}
