/**
 * New TCP/TLS sockets: the caps on idle sockets (no complete CONNECT yet), the
 * byte counters of closed sockets, and the packet-size limit on each client's parser.
 */
import type net from 'node:net'
import type { Client } from 'aedes'
import type { BrokerContext } from './broker-context.ts'
import { refused } from './broker-context.ts'

export interface SocketIntake {
  onSocket(socket: net.Socket): void
  /** A CONNECT arrived: the socket no longer counts as idle. */
  notIdle(socket: net.Socket | undefined): void
  /** Open sockets, for byte counts and for close(). */
  readonly sockets: ReadonlySet<net.Socket>
  readonly idleCount: number
}

export function createSocketIntake(ctx: BrokerContext): SocketIntake {
  const { maxIdleSockets, maxIdleSocketsPerAddress, maxPacketBytes } = ctx.s
  const sockets = new Set<net.Socket>()
  // Idle sockets (no complete CONNECT yet), oldest first (Map keeps insertion order), and their
  // count per address. A CONNECT takes a socket out: logins in progress are bounded by the login guard.
  const idle = new Map<net.Socket, string>()
  const idleByAddress = new Map<string, number>()

  function notIdle(socket: net.Socket | undefined): void {
    const addr = socket && idle.get(socket)
    if (addr === undefined) return
    idle.delete(socket!)
    const n = (idleByAddress.get(addr) ?? 1) - 1
    if (n > 0) idleByAddress.set(addr, n)
    else idleByAddress.delete(addr)
  }

  function onSocket(socket: net.Socket): void {
    const aedes = ctx.aedes()
    if (!aedes || aedes.closed) return void socket.destroy()
    const addr = socket.remoteAddress ?? 'unknown'
    // Idle sockets cost memory and slots: one address may hold only a few, and above the
    // total the oldest one goes, so a new device always gets in.
    if ((idleByAddress.get(addr) ?? 0) >= maxIdleSocketsPerAddress) {
      refused(
        ctx,
        'idle_socket_cap',
        undefined,
        `${addr} already holds ${maxIdleSocketsPerAddress} sockets that have sent no CONNECT`,
        { remote: addr },
      )
      return void socket.destroy()
    }
    if (idle.size >= maxIdleSockets) {
      const [oldest, oldAddr] = idle.entries().next().value!
      notIdle(oldest) // no longer counted, whatever it does next
      refused(
        ctx,
        'idle_socket_evicted',
        undefined,
        `${maxIdleSockets} sockets had sent no CONNECT: closed the oldest, from ${oldAddr}`,
        { remote: oldAddr },
      )
      oldest.destroy()
    }
    idle.set(socket, addr)
    idleByAddress.set(addr, (idleByAddress.get(addr) ?? 0) + 1)
    socket.setNoDelay(true) // readings are small and latency matters more than packet count
    sockets.add(socket)
    socket.once('close', () => {
      notIdle(socket)
      sockets.delete(socket)
      ctx.counters.closedBytesIn += socket.bytesRead
      ctx.counters.closedBytesOut += socket.bytesWritten
    })
    const client = aedes.handle(socket)
    guardPacketSize(ctx, client, socket, maxPacketBytes)
  }

  return {
    onSocket,
    notIdle,
    sockets,
    get idleCount() {
      return idle.size
    },
  }
}

// aedes 1.x hands mqtt-packet's parser no size limit, so a client could make
// it buffer up to 256 MiB. The parser knows a packet's length from its fixed
// header ([MQTT-2.2.3]); refuse there, before the body is buffered.
function guardPacketSize(ctx: BrokerContext, client: Client, socket: net.Socket, maxPacketBytes: number): void {
  type Parser = {
    parse(b: Buffer): number
    packet?: { length: number }
    prependListener(e: 'packet', f: (p: { length: number }) => void): void
  }
  const parser = (client as unknown as { _parser?: Parser })._parser
  if (!parser || typeof parser.parse !== 'function') return // the payload check in authorizePublish still applies
  const parse = parser.parse.bind(parser)
  // A packet that arrived whole within one socket read is complete before
  // parse() returns: note it here so it is refused all the same.
  let whole = -1
  parser.prependListener('packet', (p) => {
    if (p.length > maxPacketBytes) whole = Math.max(whole, p.length)
  })
  parser.parse = (buf: Buffer) => {
    if (socket.destroyed) return 0
    const left = parse(buf)
    const announced = Math.max(whole, parser.packet?.length ?? -1)
    if (announced > maxPacketBytes) {
      refused(ctx, 'packet_too_large', client, `packet header announces ${announced} bytes, limit ${maxPacketBytes}`)
      socket.destroy()
      return 0
    }
    return left
  }
}
