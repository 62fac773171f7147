/**
 * Test support: a NATS cluster of Debian's nats-server child processes on free
 * loopback ports. Each node runs JetStream (own store dir under the test's
 * temp dir) and an MQTT listener, with routes to every other node; the nodes
 * include one authorization file (`auth.conf`) that the test writes. Nodes can
 * be killed (SIGKILL) and restarted on the same ports and store. Every node is
 * stopped in teardown.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { jetstreamManager } from '@nats-io/jetstream'
import { findBinary, freePort } from './mosquitto-process.ts'

export const NATS_SERVER = findBinary('nats-server', [
  '/usr/sbin/nats-server',
  '/usr/local/bin/nats-server',
  '/usr/bin/nats-server',
])

export interface NatsNode {
  readonly name: string
  readonly natsUrl: string
  readonly mqttUrl: string
  readonly running: boolean
  /** SIGKILL: no goodbye to the routes, no flush of the store. */
  kill(): Promise<void>
  /** Starts the node again on its ports and store; resolves once it listens. */
  restart(): Promise<void>
}

export interface NatsCluster {
  readonly nodes: NatsNode[]
  readonly natsUrls: string[]
  readonly mqttUrls: string[]
  readonly dir: string
  /** Rewrites auth.conf and has every running node reload it (SIGHUP). */
  reloadAuth(authConf: string): void
  /** Waits until the cluster's JetStream answers (a meta leader is elected), through `user`. */
  waitForJetStream(user: { user: string; pass: string }, ceilingMs?: number): Promise<void>
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

/**
 * Starts `size` nodes (default 3) with `authConf` (the body of an
 * `authorization { ... }` block, see broker/nats-auth.ts) and waits until
 * every node listens for NATS and MQTT clients.
 */
export async function startNatsCluster(
  t: { teardown(fn: () => unknown): void },
  dir: string,
  authConf: string,
  size = 3,
): Promise<NatsCluster> {
  if (!NATS_SERVER) throw new Error('nats-server not found')
  const bin = NATS_SERVER
  const ports = await Promise.all(
    Array.from({ length: size }, async () => ({
      nats: await freePort(),
      mqtt: await freePort(),
      route: await freePort(),
    })),
  )
  writeFileSync(path.join(dir, 'auth.conf'), authConf, { mode: 0o600 })
  const procs: (ChildProcess | undefined)[] = []
  const logs: string[] = []

  const nodes: NatsNode[] = ports.map((p, i) => {
    const name = `n${i + 1}`
    const store = path.join(dir, name)
    mkdirSync(store, { recursive: true })
    const conf = path.join(dir, `${name}.conf`)
    writeFileSync(
      conf,
      [
        `server_name: ${name}`,
        `listen: "127.0.0.1:${p.nats}"`,
        `jetstream { store_dir: ${JSON.stringify(store)} }`,
        // MQTT's own streams (sessions, retained messages) replicated like ours.
        `mqtt { listen: "127.0.0.1:${p.mqtt}", stream_replicas: ${Math.min(3, size)} }`,
        ...(size > 1
          ? [
              `cluster { name: coldproof, listen: "127.0.0.1:${p.route}", routes: [${ports
                .filter((_, j) => j !== i)
                .map((q) => JSON.stringify(`nats-route://127.0.0.1:${q.route}`))
                .join(', ')}] }`,
            ]
          : []),
        'authorization { include "auth.conf" }',
        '',
      ].join('\n'),
    )
    let exited: Promise<void> = Promise.resolve()
    let exitWhy: string | undefined
    const launch = async () => {
      // Each node logs to <dir>/<name>.log (kept for a failing test's diagnosis until the temp dir goes).
      const proc = spawn(bin, ['-c', conf, '-l', path.join(dir, `${name}.log`)], {
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      procs[i] = proc
      exitWhy = undefined
      let stderr = ''
      proc.stderr!.on('data', (d) => {
        stderr = (stderr + d).slice(-4000)
      })
      exited = new Promise<void>((r) =>
        proc.once('exit', (code, sig) => {
          exitWhy = `code ${code} signal ${sig}: ${stderr.trim()}`
          logs[i] = stderr
          procs[i] = undefined
          r()
        }),
      )
      for (const port of [p.nats, p.mqtt]) {
        while (!(await listening(port))) {
          if (exitWhy !== undefined) throw new Error(`nats-server ${name} exited before listening: ${exitWhy}`)
          await pause(50)
        }
      }
    }
    return {
      name,
      natsUrl: `nats://127.0.0.1:${p.nats}`,
      mqttUrl: `mqtt://127.0.0.1:${p.mqtt}`,
      get running() {
        return procs[i] !== undefined
      },
      async kill() {
        procs[i]?.kill('SIGKILL')
        await exited
      },
      restart: launch,
      launch,
    } as NatsNode & { launch(): Promise<void> }
  })
  t.teardown(async () => {
    await Promise.all(
      procs.map(async (proc) => {
        if (!proc) return
        const gone = new Promise((r) => proc.once('exit', r))
        proc.kill('SIGTERM')
        await gone
      }),
    )
  })
  await Promise.all(nodes.map((n) => (n as unknown as { launch(): Promise<void> }).launch()))
  const natsUrls = nodes.map((n) => n.natsUrl)

  return {
    nodes,
    natsUrls,
    mqttUrls: nodes.map((n) => n.mqttUrl),
    dir,
    reloadAuth(conf) {
      writeFileSync(path.join(dir, 'auth.conf'), conf, { mode: 0o600 })
      for (const proc of procs) proc?.kill('SIGHUP')
    },
    async waitForJetStream(user, ceilingMs = 60_000) {
      const until = Date.now() + ceilingMs
      let nc: NatsConnection | undefined
      let last: unknown
      try {
        nc = await connect({ servers: natsUrls, user: user.user, pass: user.pass, maxReconnectAttempts: -1 })
        for (;;) {
          try {
            await (await jetstreamManager(nc, { timeout: 5000 })).getAccountInfo()
            return
          } catch (e) {
            last = e
          }
          if (Date.now() > until)
            throw new Error(
              `JetStream of the NATS cluster did not answer within ${ceilingMs} ms: ${(last as Error)?.message}`,
            )
          await pause(200)
        }
      } finally {
        await nc?.close()
      }
    },
  }
}
