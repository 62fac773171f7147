/**
 * The library internals ColdProof reaches into, checked against the installed
 * versions so that an upgrade that moves them fails here, by name, instead of
 * silently switching a guard off:
 * - aedes `Aedes#clients` (broker-context.ts: disconnecting a revoked device; socket-intake.ts: socket caps);
 * - aedes `Client#_parser` (socket-intake.ts: refusing an oversized packet from its fixed header);
 * - aedes-persistence's outgoing-queue methods (offline-queue.ts: the capped offline queue; outgoing-index.ts
 *   replaces all of them, and copies packets with the library's exported `Packet`);
 * - mqtt.js `MqttClient#_sendPacket` carrying every PUBACK (ledger/ingest/deferred-puback.ts).
 * package.json pins these libraries to exact versions for the same reason.
 */
import t, { type Test as TapTest } from 'tap'
import net from 'node:net'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Aedes, type Client } from 'aedes'
import memoryPersistence from 'aedes-persistence'
import mqtt from 'mqtt'

const require = createRequire(import.meta.url)
const pkg = require('../../package.json') as { dependencies: Record<string, string> }
// Read from node_modules directly: aedes's "exports" does not expose its package.json.
const installed = (name: string) =>
  (
    JSON.parse(
      readFileSync(fileURLToPath(new URL(`../../node_modules/${name}/package.json`, import.meta.url)), 'utf8'),
    ) as { version: string }
  ).version

/** A plain aedes (no ColdProof options) on a free loopback port, closed with the test. */
async function bareAedes(t: TapTest): Promise<{ aedes: Aedes; port: number }> {
  const aedes = await Aedes.createBroker()
  const server = net.createServer((s) => aedes.handle(s))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(async () => {
    await new Promise<void>((r) => aedes.close(() => r()))
    await new Promise<void>((r) => server.close(() => r()))
  })
  return { aedes, port: (server.address() as net.AddressInfo).port }
}

t.test('the libraries whose internals are used are pinned to the installed versions', async (t) => {
  for (const name of ['aedes', 'aedes-persistence', 'mqtt']) {
    t.equal(
      pkg.dependencies[name],
      installed(name),
      `${name}: package.json pins exactly the installed ${installed(name)}`,
    )
  }
})

t.test("aedes: clients by id and each client's packet parser", async (t) => {
  const { aedes, port } = await bareAedes(t)
  const connected = once(aedes, 'client') as Promise<[Client]>
  const client = mqtt.connect({ host: '127.0.0.1', port, clientId: 'internals-1', reconnectPeriod: 0 })
  t.teardown(() => {
    client.end(true)
  })
  const [c] = await connected

  const clients = (aedes as unknown as { clients?: Record<string, Client> }).clients
  t.type(clients, 'object', 'Aedes#clients is an object')
  t.equal(clients?.['internals-1'], c, 'Aedes#clients maps a client id to its Client')

  type Parser = { parse?: unknown; prependListener?: unknown }
  const parser = (c as unknown as { _parser?: Parser })._parser
  t.type(parser?.parse, 'function', 'Client#_parser.parse is a function')
  t.type(parser?.prependListener, 'function', 'Client#_parser is an event emitter (prependListener)')
})

t.test('aedes-persistence: outgoing-index.ts replaces every outgoing-queue method, with its Packet', async (t) => {
  const p = (memoryPersistence as unknown as () => object)()
  const names = new Set<string>()
  for (let o = p; o && o !== Object.prototype; o = Object.getPrototypeOf(o))
    for (const n of Object.getOwnPropertyNames(o)) if (n.startsWith('outgoing')) names.add(n)
  t.same(
    [...names].sort(),
    ['outgoingClearMessageId', 'outgoingEnqueue', 'outgoingEnqueueCombi', 'outgoingStream', 'outgoingUpdate'],
    'the outgoing-queue methods are these five (a new one would bypass the index)',
  )
  t.type((memoryPersistence as unknown as { Packet?: unknown }).Packet, 'function', 'Packet is exported')
})

t.test('aedes-persistence: the outgoing queue methods the offline cap wraps', async (t) => {
  const p = (memoryPersistence as unknown as () => Record<string, (...a: unknown[]) => unknown>)()
  for (const m of [
    'outgoingEnqueue',
    'outgoingEnqueueCombi',
    'outgoingClearMessageId',
    'outgoingUpdate',
    'outgoingStream',
  ]) {
    t.type(p[m], 'function', `${m} is a method`)
  }
  const packet = {
    cmd: 'publish',
    topic: 't',
    payload: Buffer.from('x'),
    qos: 1,
    retain: false,
    dup: false,
    brokerId: 'b',
    brokerCounter: 1,
    messageId: 7,
  }
  const enq = p.outgoingEnqueue({ clientId: 'c1' }, packet)
  t.ok(enq instanceof Promise, 'outgoingEnqueue returns a promise')
  await enq
  await p.outgoingEnqueueCombi([{ clientId: 'c1' }], { ...packet, brokerCounter: 2 })
  const stream = p.outgoingStream({ id: 'c1' }) as AsyncIterable<{ brokerCounter: number }>
  const queued: number[] = []
  for await (const q of stream) queued.push(q.brokerCounter)
  t.same(queued, [1, 2], 'outgoingStream yields what was enqueued, in order')
  const upd = p.outgoingUpdate({ id: 'c1' }, { ...packet, brokerCounter: 1 })
  t.ok(upd instanceof Promise, 'outgoingUpdate returns a promise')
  await upd
  const clr = p.outgoingClearMessageId({ id: 'c1' }, { ...packet, brokerCounter: 1 })
  t.ok(clr instanceof Promise, 'outgoingClearMessageId returns a promise')
  await clr
})

t.test('mqtt.js: every PUBACK goes through MqttClient#_sendPacket', async (t) => {
  const { port } = await bareAedes(t)
  const sub = mqtt.connect({ host: '127.0.0.1', port, clientId: 'internals-sub', reconnectPeriod: 0 })
  t.teardown(() => {
    sub.end(true)
  })
  await new Promise((r) => sub.once('connect', r))
  const c = sub as unknown as {
    _sendPacket?: (packet: { cmd: string; messageId?: number }, ...rest: unknown[]) => void
  }
  t.type(c._sendPacket, 'function', 'MqttClient#_sendPacket is a method')
  const original = c._sendPacket!.bind(sub)
  const sent: { cmd: string; messageId?: number }[] = []
  c._sendPacket = (packet, ...rest) => {
    sent.push(packet)
    return original(packet, ...rest)
  }
  await sub.subscribeAsync('internals/t', { qos: 1 })

  const pub = mqtt.connect({ host: '127.0.0.1', port, clientId: 'internals-pub', reconnectPeriod: 0 })
  t.teardown(() => {
    pub.end(true)
  })
  await new Promise((r) => pub.once('connect', r))
  const got = new Promise<{ messageId?: number }>((r) => sub.once('message', (_topic, _payload, packet) => r(packet)))
  await pub.publishAsync('internals/t', 'x', { qos: 1 })
  const packet = await got
  // The PUBACK is sent after the message handler returns; wait for it by condition.
  for (let i = 0; i < 600 && !sent.some((p) => p.cmd === 'puback'); i++) await new Promise((r) => setTimeout(r, 100))
  const puback = sent.find((p) => p.cmd === 'puback')
  t.ok(puback, 'the PUBACK of a QoS 1 message passed through _sendPacket')
  t.equal(puback?.messageId, packet.messageId, "with the message's id")
})
