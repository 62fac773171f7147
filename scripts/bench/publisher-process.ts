/**
 * A publisher process of the benchmark (forked by publishers.ts): it plays
 * some devices, each on its own MQTT connection logged in with its signed
 * token, so that the publishers' CPU is not billed to the pipeline under test.
 * Commands arrive over IPC; every reply carries `ok` or the error.
 *
 *   connect {url, devices}   log every device in (batches of 100 at a time)
 *   sign {n}                 pre-sign each device's next n readings (not timed), one a
 *                            minute of device time from 30 days ago
 *   burst                    publish all signed readings at once, round robin over devices
 *   paced {perSecond}        publish them at a fixed total rate, round robin
 *   disconnect               disconnect every device (the process stays for the next stage)
 *   exit                     exit
 *
 * burst and paced reply with the publish time of every reading (wall ms,
 * comparable across processes) once every PUBACK arrived.
 */
import mqtt from 'mqtt'
import { deviceTopic, GENESIS_PREV_HASH } from '../../ledger/protocol/index.ts'
import { deviceAuthToken } from '../../device-sim/index.ts'
import { benchKey, signReadings, type BenchKey, type ChainCursor, type SignedReading } from './signed-chain.ts'
import { wallMs } from './figures.ts'

interface Dev {
  deviceId: string
  key: BenchKey
  client: mqtt.MqttClient
  topic: string
  cursor: ChainCursor
  ready: SignedReading[]
}

const devs: Dev[] = []
let url = ''
const t0 = Date.now() - 30 * 86_400_000

async function connect(list: { deviceId: string; seed: string }[]): Promise<void> {
  for (let i = 0; i < list.length; i += 100) {
    await Promise.all(
      list.slice(i, i + 100).map(async ({ deviceId, seed }) => {
        const key = benchKey(Buffer.from(seed, 'hex'))
        const client = await mqtt.connectAsync(url, {
          clientId: deviceId,
          username: deviceId,
          password: deviceAuthToken(deviceId, key.seed, 'coldproof'),
          reconnectPeriod: 0,
          protocolVersion: 4,
          // A saturated 2-core machine can stall the broker's timers for a minute: a
          // long keepalive keeps the bench from measuring spurious keepalive kicks.
          keepalive: 300,
        })
        devs.push({
          deviceId,
          key,
          client,
          topic: deviceTopic(deviceId, 'readings'),
          cursor: { seq: 0, prev: GENESIS_PREV_HASH },
          ready: [],
        })
      }),
    )
  }
}

/** Round robin over devices: each device's readings stay in seq order, devices interleave. */
function schedule(): { d: Dev; r: SignedReading }[] {
  const out: { d: Dev; r: SignedReading }[] = []
  const longest = Math.max(0, ...devs.map((d) => d.ready.length))
  for (let k = 0; k < longest; k++) for (const d of devs) if (k < d.ready.length) out.push({ d, r: d.ready[k] })
  for (const d of devs) d.ready = []
  return out
}

async function publishAll(perSecond: number | null): Promise<[string, number, number][]> {
  const plan = schedule()
  const stamps: [string, number, number][] = []
  let acked = 0
  let fail: Error | undefined
  const pending = new Map<Dev, number>()
  const watched: { d: Dev; onClose: () => void }[] = []
  const finished = new Promise<void>((resolve, reject) => {
    // mqtt.js keeps an unacknowledged QoS 1 publish for a reconnect that, with
    // reconnectPeriod 0, never comes: a lost connection must fail the command
    // instead of leaving it waiting for PUBACKs for ever.
    for (const d of new Set(plan.map((p) => p.d))) {
      const onClose = () => {
        const n = pending.get(d) ?? 0
        if (n > 0) reject(new Error(`device ${d.deviceId}'s connection closed with ${n} PUBACK(s) outstanding`))
      }
      d.client.on('close', onClose)
      watched.push({ d, onClose })
      if (!d.client.connected) return reject(new Error(`device ${d.deviceId} is not connected`))
    }
    const send = ({ d, r }: { d: Dev; r: SignedReading }) => {
      stamps.push([d.deviceId, r.seq, wallMs()])
      pending.set(d, (pending.get(d) ?? 0) + 1)
      d.client.publish(d.topic, Buffer.from(r.payload), { qos: 1 }, (e) => {
        pending.set(d, (pending.get(d) ?? 1) - 1)
        if (e) fail ??= e
        if (++acked === plan.length) fail ? reject(fail) : resolve()
      })
    }
    if (plan.length === 0) return resolve()
    if (perSecond === null) {
      for (const p of plan) send(p)
      return
    }
    const start = performance.now()
    let sent = 0
    const tick = () => {
      const due = Math.min(plan.length, Math.floor(((performance.now() - start) * perSecond) / 1000) + 1)
      while (sent < due) send(plan[sent++])
      if (sent < plan.length) setTimeout(tick, 2)
    }
    tick()
  })
  try {
    await finished
  } finally {
    for (const { d, onClose } of watched) d.client.off('close', onClose)
  }
  return stamps
}

process.on('message', (m: { cmd: string; [k: string]: unknown }) => {
  // The id ties the reply to its command: a late reply to a command the bench gave up on is not taken for the next one.
  const reply = (body: Record<string, unknown>) => process.send!({ ...body, id: m.id, rss: process.memoryUsage().rss })
  const run = async (): Promise<Record<string, unknown>> => {
    switch (m.cmd) {
      case 'connect':
        url = m.url as string
        await connect(m.devices as { deviceId: string; seed: string }[])
        return { ok: true, connected: devs.length }
      case 'sign':
        for (const d of devs) d.ready.push(...signReadings(d.deviceId, d.key, m.n as number, t0, d.cursor))
        return { ok: true }
      case 'burst':
        return { ok: true, stamps: await publishAll(null) }
      case 'paced':
        return { ok: true, stamps: await publishAll(m.perSecond as number) }
      // A connection the broker already closed may never report its end: bounded, then dropped.
      case 'disconnect':
        await Promise.all(
          devs
            .splice(0)
            .map((d) => Promise.race([d.client.endAsync(true), new Promise((res) => setTimeout(res, 10_000).unref())])),
        )
        return { ok: true }
      case 'exit':
        return process.exit(0)
      default:
        throw new Error(`unknown command ${m.cmd}`)
    }
  }
  run().then(reply, (e: Error) => reply({ ok: false, error: e.message }))
})
process.send!({ ok: true, started: true, rss: process.memoryUsage().rss })
