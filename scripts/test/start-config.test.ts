/**
 * `coldproof start`'s settings (scripts/start-config/): --help lists every
 * one, flag > env > config file > default, each bad value names the setting
 * and its source, docs/OPERATIONS.md's table is the schema's, and a real start
 * configured by a file serves the dashboard over HTTPS and the broker over mqtts.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { connect as tlsConnect } from 'node:tls'
import { join } from 'node:path'
import { SETTINGS, resolveStartConfig, settingsTable, ConfigError, flagName } from '../start-config/index.ts'
import { bin, root } from './start-child.ts'
import { NO_OPENSSL, openssl, selfSigned } from '../../broker/test/self-signed.ts'

const noEnv = {}
const resolveWith = (flags: Record<string, unknown>, env: Record<string, string> = noEnv, cwd = '/tmp') =>
  resolveStartConfig({ flags, fromCli: (k) => k in flags, env, cwd })

function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = '',
    err = ''
  child.stdout!.on('data', (d) => {
    out += d
  })
  child.stderr!.on('data', (d) => {
    err += d
  })
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err })))
}

t.test('--help lists every setting with its environment variable', async (t) => {
  const { out, code } = await run(['start', '--help'])
  t.equal(code, 0)
  const flat = out.replace(/\s+/g, ' ')
  for (const s of SETTINGS) {
    t.ok(out.includes(s.flag), `--help shows ${s.flag}`)
    if ('env' in s && s.env) t.ok(flat.includes(`env ${s.env}`), `--help names ${s.env}`)
  }
})

t.test('docs/OPERATIONS.md carries the settings table generated from the schema', async (t) => {
  const doc = readFileSync(join(root, 'docs', 'OPERATIONS.md'), 'utf8')
  const m = /<!-- settings-table:begin[^>]*-->\n([\s\S]*?)\n<!-- settings-table:end -->/.exec(doc)
  t.ok(m, 'the table has its markers')
  t.equal(
    m?.[1],
    settingsTable(),
    'the table matches scripts/start-config/settings.ts (regenerate: node --import tsx scripts/gen-settings-table.ts)',
  )
})

t.test('precedence: flag > env > config file > default', async (t) => {
  const dir = t.testdir()
  const file = join(dir, 'coldproof.json')
  writeFileSync(file, JSON.stringify({ port: 9001, mqttPort: 9002, host: '0.0.0.0', tiles: 'tiles', trustProxy: true }))
  const { config, sources } = resolveWith(
    { config: file, port: '9101' },
    { COLDPROOF_PORT: '9201', COLDPROOF_MQTT_PORT: '9202', COLDPROOF_HOST: '' },
  )
  t.equal(config.port, 9101, 'the flag wins over env and file')
  t.equal(sources.port, 'flag --port')
  t.equal(config.mqttPort, 9202, 'env wins over the file')
  t.equal(sources.mqttPort, 'env COLDPROOF_MQTT_PORT')
  t.equal(config.host, '0.0.0.0', 'an empty env variable is unset: the file applies')
  t.equal(config.tiles, join(dir, 'tiles'), "a relative path in the file resolves against the file's directory")
  t.equal(config.trustProxy, true)
  t.equal(config.audience, 'coldproof', 'the default last')
  t.equal(sources.audience, 'default')
  t.equal(config.data, '/tmp/.data', 'the default data directory resolves against the working directory')
  const viaEnv = resolveWith(
    {},
    {
      COLDPROOF_CONFIG: file,
      COLDPROOF_DEMO: '0',
      COLDPROOF_WITNESSES: 'https://w1.example/ w1+abc,https://w2.example/ w2+def',
    },
  )
  t.equal(viaEnv.config.port, 9001, 'COLDPROOF_CONFIG names the file')
  t.equal(viaEnv.config.demo, false)
  t.same(
    viaEnv.config.witness,
    ['https://w1.example/ w1+abc', 'https://w2.example/ w2+def'],
    'a repeatable setting is comma-separated in the env',
  )
  t.equal(
    resolveWith({ demo: false }, { COLDPROOF_DEMO: '1' }).config.demo,
    false,
    '--no-demo wins over COLDPROOF_DEMO=1',
  )
})

t.test('each bad value names the setting and where it came from', async (t) => {
  const dir = t.testdir({
    'bad.json': '{ "port": 80, ',
    'list.json': '[1]',
    'typo.json': '{ "metricToken": "x" }',
    'tok.json': '{ "metricsToken": "short" }',
  })
  const noCert = join(dir, 'none.pem')
  const cases: [Record<string, unknown>, Record<string, string>, string, RegExp][] = [
    [
      { port: 'eighty' },
      {},
      'ERR_CONFIG_INVALID',
      /^--port \(from flag --port\): must be a port number 0\.\.65535, got "eighty"$/,
    ],
    [
      {},
      { COLDPROOF_MQTT_PORT: '70000' },
      'ERR_CONFIG_INVALID',
      /^--mqtt-port \(from env COLDPROOF_MQTT_PORT\): must be a port number/,
    ],
    [
      {},
      { COLDPROOF_METRICS_TOKEN: 'short' },
      'ERR_CONFIG_INVALID',
      /^--metrics-token \(from env COLDPROOF_METRICS_TOKEN\): must be at least 16 characters \(got 5\)/,
    ],
    [
      { config: join(dir, 'tok.json') },
      {},
      'ERR_CONFIG_INVALID',
      /^--metrics-token \(from config file .*tok\.json \("metricsToken"\)\): must be at least 16 characters/,
    ],
    [
      {},
      { COLDPROOF_TRUST_PROXY: 'maybe' },
      'ERR_CONFIG_INVALID',
      /^--trust-proxy \(from env COLDPROOF_TRUST_PROXY\): must be true or false/,
    ],
    [
      { broker: 'http://x' },
      {},
      'ERR_CONFIG_INVALID',
      /^--broker \(from flag --broker\): must use mqtt:, mqtts:, ws: or wss:, got "http:"/,
    ],
    [
      { publicOrigin: 'https://x.example/app' },
      {},
      'ERR_CONFIG_INVALID',
      /^--public-origin \(from flag --public-origin\): expected an origin/,
    ],
    [{ accel: '-1' }, {}, 'ERR_CONFIG_INVALID', /^--accel \(from flag --accel\): must be a positive number/],
    [
      { partitions: '3' },
      {},
      'ERR_CONFIG_INVALID',
      /^--partitions \(from flag --partitions\): must be 1, 2, 4, 8 or 16, got "3"/,
    ],
    [{ replicas: '9' }, {}, 'ERR_CONFIG_INVALID', /^--replicas \(from flag --replicas\): must be 1\.\.5/],
    [
      { witness: ['no-url'] },
      {},
      'ERR_CONFIG_INVALID',
      /^--witness \(from flag --witness\): a witness is "<http\(s\) url> <witness verifier key>"/,
    ],
    [
      { tlsCert: noCert },
      {},
      'ERR_CONFIG_INVALID',
      /^--tls-cert \(from flag --tls-cert\): cannot read .*none\.pem: ENOENT/,
    ],
    [
      { tlsKey: join(dir, 'bad.json') },
      {},
      'ERR_CONFIG_INVALID',
      /^--tls-key \(from flag --tls-key\): .*bad\.json holds no PEM private key/,
    ],
    [
      { brokerPassword: 'x' },
      {},
      'ERR_CONFIG_INVALID',
      /^--broker-password \(from flag --broker-password\): applies to an external broker only/,
    ],
    [
      { config: join(dir, 'missing.json') },
      {},
      'ERR_CONFIG_FILE',
      /^--config \(from flag --config\): cannot read .*missing\.json: ENOENT$/,
    ],
    [
      { config: join(dir, 'bad.json') },
      {},
      'ERR_CONFIG_FILE',
      /^--config \(from flag --config\): .*bad\.json is not JSON/,
    ],
    [
      {},
      { COLDPROOF_CONFIG: join(dir, 'list.json') },
      'ERR_CONFIG_FILE',
      /^--config \(from env COLDPROOF_CONFIG\): .*list\.json must hold a JSON object/,
    ],
    [
      { config: join(dir, 'typo.json') },
      {},
      'ERR_CONFIG_FILE',
      /unknown setting "metricToken"; known settings: port, /,
    ],
  ]
  for (const [flags, env, code, msg] of cases) {
    try {
      resolveWith(flags, env, dir)
      t.fail(`accepted ${JSON.stringify({ flags, env })}`)
    } catch (e) {
      t.ok(e instanceof ConfigError, 'a ConfigError')
      t.equal((e as ConfigError).code, code)
      t.match((e as Error).message, msg)
    }
  }
  if (openssl) {
    const a = selfSigned(dir, 'a'),
      b = selfSigned(dir, 'b')
    t.throws(() => resolveWith({ tlsCert: a.cert }), {
      code: 'ERR_CONFIG_INVALID',
      message: /^--tls-cert \(from flag --tls-cert\): needs --tls-key as well$/,
    })
    t.throws(() => resolveWith({ tlsCert: a.cert, tlsKey: b.key }), {
      code: 'ERR_CONFIG_INVALID',
      message: /^--tls-key \(from flag --tls-key\): does not go with the certificate/,
    })
    t.throws(() => resolveWith({ broker: 'mqtts://b.example:8883', mqttTlsCert: a.cert, mqttTlsKey: a.key }), {
      message: /^--mqtt-tls-cert .*applies to the embedded broker only/,
    })
  }
  // The CLI prints it as one line and exits 2.
  const r = await run(['start', '--port', 'eighty'])
  t.equal(r.code, 2)
  t.equal(
    r.err,
    'coldproof start: ERR_CONFIG_INVALID: --port (from flag --port): must be a port number 0..65535, got "eighty"\n',
  )
  t.ok(SETTINGS.every((s) => flagName(s).startsWith('--')))
})

t.test(
  'a start configured by a file: dashboard over HTTPS, broker over mqtts, metrics token',
  { skip: openssl ? false : NO_OPENSSL },
  async (t) => {
    const dir = t.testdir()
    const web = selfSigned(dir, 'web'),
      mq = selfSigned(dir, 'mqtt')
    const token = 'metrics-token-0123456789'
    const file = join(dir, 'coldproof.json')
    writeFileSync(
      file,
      JSON.stringify({
        port: 0,
        mqttPort: 0,
        data: 'data',
        demo: false,
        tlsCert: 'web.crt',
        tlsKey: 'web.key',
        mqttTlsCert: 'mqtt.crt',
        mqttTlsKey: 'mqtt.key',
        metricsToken: token,
        trustProxy: true,
      }),
    )
    const child = spawn(process.execPath, [bin, 'start', '--config', file], {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: '', COLDPROOF_DEMO: '', COLDPROOF_PORT: '', COLDPROOF_MQTT_PORT: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    t.teardown(() => {
      child.kill('SIGKILL')
    })
    let out = ''
    child.stdout!.on('data', (d) => {
      out += d
    })
    child.stderr!.on('data', (d) => {
      out += d
    })
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    await Promise.race([
      new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (/Press Ctrl-C to stop/.test(out)) {
            clearInterval(poll)
            resolve()
          }
        }, 50)
      }),
      exited.then((c) => {
        throw new Error(`start exited with ${c}:\n${out}`)
      }),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`no start within 120 s:\n${out}`)), 120_000).unref(),
      ),
    ])
    const url = /dashboard\s+(https:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1]
    const mqttUrl = /MQTT\s+(mqtts:\/\/127\.0\.0\.1:(\d+))/.exec(out)
    t.ok(url, 'the dashboard URL is https')
    t.ok(mqttUrl, 'the broker URL is mqtts')
    t.match(
      out,
      new RegExp(`data +${join(dir, 'data').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
      'the data directory from the file, relative to it',
    )
    const get = (path: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(`${url}${path}`, { ca: readFileSync(web.cert), headers }, (res) => {
          let body = ''
          res.on('data', (d) => {
            body += d
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        })
        req.on('error', reject)
        req.end()
      })
    t.equal((await get('/health')).status, 200, '/health over HTTPS, trusting the test certificate')
    t.equal((await get('/metrics')).status, 401, '/metrics refuses without the token')
    const metrics = await get('/metrics', { authorization: `Bearer ${token}` })
    t.equal(metrics.status, 200, '/metrics answers the metrics token from the file')
    const authorized = await new Promise<boolean>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: Number(mqttUrl![2]), ca: readFileSync(mq.cert) }, () => {
        resolve(s.authorized)
        s.end()
      })
      s.on('error', reject)
    })
    t.ok(authorized, 'the broker presents the mqtt certificate from the file')
    child.kill('SIGINT')
    t.equal(await exited, 0, 'stops cleanly on SIGINT')
  },
)
