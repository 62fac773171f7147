import t, { type Test } from 'tap'
import { mkdtemp, rm, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNotifier, loadNotifyConfig, type NotifyAlarm } from './notifier.ts'
import { parseNotifyConfig, REDACTED } from './config.ts'
import { verifyWebhook, backoffDelay } from './deliver.ts'
import { startReceiver, startSmtp } from './test/servers.ts'

const SECRET = 'receiver-shared-secret-0123456789'
const MIN = 60_000
const T0 = Date.UTC(2026, 10, 20, 6, 0, 0)

async function tempDir(t: Test) {
  const dir = await mkdtemp(join(tmpdir(), 'coldproof-notify-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

const alarm = (over: Partial<NotifyAlarm> = {}): NotifyAlarm => ({
  alarmId: 'logger-1:excursion_alarm:1',
  shipmentId: 'SHP-7',
  deviceId: 'logger-1',
  kind: 'excursion_alarm',
  severity: 'critical',
  message: 'Excursion beyond 8.00 °C past the alarm delay',
  raisedAt: T0,
  state: 'open',
  ...over,
})

t.test('configuration: errors name the JSON path', async (t) => {
  const ok = {
    channels: { mail: { type: 'smtp', host: 'smtp.example.com', from: 'alarms@example.com' } },
    contacts: [{ name: 'qa', roles: ['qa'], channel: 'mail', to: 'qa@example.com' }],
    rules: [{ id: 'r1', severities: ['critical'], roles: ['qa'] }],
  }
  t.equal(parseNotifyConfig(ok).channels.mail!.type, 'smtp')
  const bad = (mut: (c: any) => void) => {
    const c = structuredClone(ok) as any
    mut(c)
    return c
  }
  t.throws(
    () =>
      parseNotifyConfig(
        bad((c) => {
          c.rules[0].severities = ['critical', 'urgent']
        }),
      ),
    {
      code: 'ERR_NOTIFY_CONFIG',
      path: '$.rules[0].severities[1]',
      message: /expected one of critical, major, minor, got "urgent"/,
    },
  )
  t.throws(
    () =>
      parseNotifyConfig(
        bad((c) => {
          c.contacts[0].channel = 'sms'
        }),
      ),
    { path: '$.contacts[0].channel', message: /no channel "sms"/ },
  )
  t.throws(
    () =>
      parseNotifyConfig(
        bad((c) => {
          c.contacts[0].to = 'not-an-address'
        }),
      ),
    { code: 'ERR_NOTIFY_CONFIG', path: '$.contacts[0].to', message: /\S/ },
  )
  t.throws(
    () =>
      parseNotifyConfig(
        bad((c) => {
          c.rules[0].roles = ['ops']
        }),
      ),
    { path: '$.rules[0].roles[0]', message: /no contact has the role "ops"/ },
  )
  t.throws(
    () =>
      parseNotifyConfig(
        bad((c) => {
          c.rules[0].escalation = { afterMs: 60000, contacts: ['boss'] }
        }),
      ),
    { code: 'ERR_NOTIFY_CONFIG', path: '$.rules[0].escalation.contacts[0]', message: /\S/ },
  )
  t.throws(
    () =>
      parseNotifyConfig(
        bad((c) => {
          c.channels.hook = { type: 'webhook', url: 'ftp://x', secret: SECRET }
        }),
      ),
    { code: 'ERR_NOTIFY_CONFIG', path: '$.channels.hook.url', message: /\S/ },
  )
  t.throws(
    () =>
      parseNotifyConfig(
        bad((c) => {
          c.channels.hook = { type: 'webhook', url: 'http://x', secret: 'short' }
        }),
      ),
    { code: 'ERR_NOTIFY_CONFIG', path: '$.channels.hook.secret', message: /\S/ },
  )
  t.throws(
    () =>
      parseNotifyConfig(
        bad((c) => {
          c.rules[0].colour = 'red'
        }),
      ),
    { path: '$.rules[0].colour', message: /unknown field/ },
  )
  t.throws(
    () =>
      parseNotifyConfig(
        bad((c) => {
          delete c.rules[0].roles
        }),
      ),
    { path: '$.rules[0]', message: /needs "roles" or "contacts"/ },
  )
  const dir = await tempDir(t)
  await writeFile(
    join(dir, 'n.json'),
    JSON.stringify(
      bad((c) => {
        c.queueLimit = 0
      }),
    ),
  )
  await t.rejects(loadNotifyConfig(join(dir, 'n.json')), {
    code: 'ERR_NOTIFY_CONFIG',
    message: /n\.json: \$\.queueLimit: expected an integer from 1/,
  })
  t.same((await loadNotifyConfig(join(dir, 'absent.json'))).rules, [], 'no file: no rules')
  await writeFile(
    join(dir, 'pasted.json'),
    JSON.stringify({ channels: { hook: { type: 'webhook', url: 'https://x.example.com', secret: REDACTED } } }),
  )
  await t.rejects(
    loadNotifyConfig(join(dir, 'pasted.json')),
    { code: 'ERR_NOTIFY_CONFIG', message: /\$\.channels\.hook\.secret: .*give the secret/ },
    'a redacted secret pasted into the file is refused',
  )
  t.equal(backoffDelay({ backoffMs: 1000, maxBackoffMs: 5000 }, 1), 1000)
  t.equal(backoffDelay({ backoffMs: 1000, maxBackoffMs: 5000 }, 3), 4000)
  t.equal(backoffDelay({ backoffMs: 1000, maxBackoffMs: 5000 }, 4), 5000, 'capped')
})

t.test(
  'e-mail over a real SMTP server: recipients by role and by name, subject and body name shipment, alarm, severity, link',
  async (t) => {
    const smtp = await startSmtp(t)
    const dir = await tempDir(t)
    const n = await createNotifier({
      recordsFile: join(dir, 'notifications.jsonl'),
      clock: () => T0 + 5 * MIN,
      lookup: () => undefined,
      config: {
        baseUrl: 'https://coldproof.example.com/',
        channels: {
          mail: {
            type: 'smtp',
            host: '127.0.0.1',
            port: smtp.port,
            from: 'ColdProof <alarms@example.com>',
            maxAttempts: 1,
          },
        },
        contacts: [
          { name: 'qa-1', roles: ['qa'], channel: 'mail', to: 'qa1@example.com' },
          { name: 'qa-2', roles: ['qa', 'ops'], channel: 'mail', to: 'qa2@example.com' },
          { name: 'driver', roles: ['ops'], channel: 'mail', to: 'driver@example.com' },
        ],
        rules: [
          { id: 'crit-qa', severities: ['critical'], roles: ['qa'] },
          // Another rule naming qa-2 again: one mail per contact per alarm.
          { id: 'crit-7', severities: ['critical', 'major'], shipments: ['SHP-7'], contacts: ['qa-2'] },
          { id: 'other-ship', severities: ['critical'], shipments: ['SHP-8'], contacts: ['driver'] },
        ],
      },
    })
    t.teardown(() => n.close())
    n.onAlarm(alarm())
    n.onAlarm(alarm({ alarmId: 'minor-one', severity: 'minor' }))
    n.onAlarm(alarm()) // the same alarm again (e.g. it ended): no second notice
    await n.idle()
    t.same(
      smtp.mails.flatMap((m) => m.to).sort(),
      ['qa1@example.com', 'qa2@example.com'],
      "the qa role, once each; not the other shipment's contact; not the minor alarm",
    )
    const m = smtp.mails[0]!
    t.equal(m.from, 'alarms@example.com')
    t.equal(m.subject, '[ColdProof] CRITICAL alarm on shipment SHP-7: excursion alarm')
    t.match(m.text, 'Shipment:  SHP-7')
    t.match(m.text, 'Alarm:     logger-1:excursion_alarm:1')
    t.match(m.text, 'Severity:  critical')
    t.match(m.text, 'Logger:    logger-1')
    t.match(m.text, 'Excursion beyond 8.00 °C past the alarm delay')
    t.match(m.text, 'https://coldproof.example.com/#/shipment/SHP-7')
    const views = n.notificationsFor('SHP-7', 'logger-1:excursion_alarm:1')
    t.same(views.map((v) => [v.channel, v.to, v.status, v.attempts, v.level]).sort(), [
      ['mail', 'qa1@example.com', 'sent', 1, 0],
      ['mail', 'qa2@example.com', 'sent', 1, 0],
    ])
    await n.close()
    const lines = (await readFile(join(dir, 'notifications.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    t.equal(lines.length, 2, 'each outcome a line on disk')
    t.equal(lines[0].status, 'sent')
  },
)

t.test('e-mail to a dead SMTP port: retried, then recorded as failed', async (t) => {
  const smtp = await startSmtp(t)
  const dir = await tempDir(t)
  const sleeps: number[] = []
  // A port that was free a moment ago: nothing listens (connection refused).
  const { createServer } = await import('node:net')
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const deadPort = (s.address() as { port: number }).port
  await new Promise<void>((r) => s.close(() => r()))
  const n = await createNotifier({
    recordsFile: join(dir, 'n.jsonl'),
    clock: () => T0,
    lookup: () => undefined,
    sleep: async (ms) => {
      sleeps.push(ms)
    },
    config: {
      channels: {
        dead: {
          type: 'smtp',
          host: '127.0.0.1',
          port: deadPort,
          from: 'a@example.com',
          maxAttempts: 3,
          backoffMs: 10,
          maxBackoffMs: 15,
        },
      },
      contacts: [{ name: 'qa', channel: 'dead', to: 'qa@example.com' }],
      rules: [{ id: 'r', severities: ['critical'], contacts: ['qa'] }],
    },
  })
  t.teardown(() => n.close())
  n.onAlarm(alarm())
  await n.idle()
  const [v] = n.notificationsFor('SHP-7', alarm().alarmId)
  t.equal(v!.status, 'failed')
  t.equal(v!.attempts, 3)
  t.match(v!.error, /gave up after 3 attempt\(s\): SMTP: .*ECONNREFUSED/)
  t.same(sleeps, [10, 15], 'exponential backoff, capped')
  t.equal(smtp.mails.length, 0)
})

t.test(
  'webhook to a real HTTP receiver: signature verifies with the shared secret, 500s retried, gives up after the cap',
  async (t) => {
    // Requests 1-2: 500, 3: 200 (first alarm sent on attempt 3); then 500 for ever (second alarm gives up).
    const rx = await startReceiver(t, (n) => (n === 3 ? 200 : 500))
    const dir = await tempDir(t)
    const sleeps: number[] = []
    const now = T0 + 10 * MIN
    const n = await createNotifier({
      recordsFile: join(dir, 'n.jsonl'),
      clock: () => now,
      lookup: () => undefined,
      sleep: async (ms) => {
        sleeps.push(ms)
      },
      config: {
        baseUrl: 'https://cp.example.com',
        channels: {
          hook: {
            type: 'webhook',
            url: rx.url,
            secret: SECRET,
            maxAttempts: 3,
            backoffMs: 100,
            maxBackoffMs: 150,
            timeoutMs: 60_000,
          },
        },
        contacts: [{ name: 'pager', roles: ['ops'], channel: 'hook' }],
        rules: [{ id: 'all', severities: ['critical', 'major', 'minor'], roles: ['ops'] }],
      },
    })
    t.teardown(() => n.close())
    n.onAlarm(alarm())
    await n.idle()
    n.onAlarm(alarm({ alarmId: 'second', severity: 'major' }))
    await n.idle()
    t.equal(rx.hooks.length, 6)
    for (const h of rx.hooks) {
      t.ok(
        verifyWebhook(
          SECRET,
          {
            timestamp: h.headers['x-coldproof-timestamp'] as string,
            signature: h.headers['x-coldproof-signature'] as string,
          },
          h.body,
          now,
        ),
        'signature verifies',
      )
      t.notOk(
        verifyWebhook(
          'another-secret-0123456789abcdef',
          {
            timestamp: h.headers['x-coldproof-timestamp'] as string,
            signature: h.headers['x-coldproof-signature'] as string,
          },
          h.body,
          now,
        ),
        'not with another secret',
      )
      t.notOk(
        verifyWebhook(
          SECRET,
          {
            timestamp: h.headers['x-coldproof-timestamp'] as string,
            signature: h.headers['x-coldproof-signature'] as string,
          },
          h.body.replace('SHP-7', 'SHP-9'),
          now,
        ),
        'not for another body',
      )
      t.notOk(
        verifyWebhook(
          SECRET,
          {
            timestamp: h.headers['x-coldproof-timestamp'] as string,
            signature: h.headers['x-coldproof-signature'] as string,
          },
          h.body,
          now + 10 * MIN,
        ),
        'not replayed 10 min later',
      )
    }
    t.equal(rx.hooks[0]!.headers['x-coldproof-timestamp'], String(now / 1000))
    t.equal(
      rx.hooks[0]!.headers['x-coldproof-delivery'],
      rx.hooks[2]!.headers['x-coldproof-delivery'],
      'one delivery id across retries (receivers deduplicate)',
    )
    const body = JSON.parse(rx.hooks[2]!.body)
    t.match(body, {
      type: 'alarm.raised',
      rule: 'all',
      escalationLevel: 0,
      link: 'https://cp.example.com/#/shipment/SHP-7',
      alarm: { alarmId: alarm().alarmId, shipmentId: 'SHP-7', severity: 'critical', kind: 'excursion_alarm' },
    })
    t.same(sleeps, [100, 150, 100, 150])
    t.match(n.notificationsFor('SHP-7', alarm().alarmId), [
      { channel: 'hook', to: rx.url, status: 'sent', attempts: 3 },
    ])
    t.match(n.notificationsFor('SHP-7', 'second'), [
      {
        channel: 'hook',
        status: 'failed',
        attempts: 3,
        error: 'gave up after 3 attempt(s): HTTP 500 from the receiver',
      },
    ])
  },
)

t.test('webhook: a 4xx is final (no retry)', async (t) => {
  const rx = await startReceiver(t, () => 410)
  const n = await createNotifier({
    recordsFile: null,
    clock: () => T0,
    lookup: () => undefined,
    sleep: async () => {},
    config: {
      channels: { hook: { type: 'webhook', url: rx.url, secret: SECRET } },
      contacts: [{ name: 'p', channel: 'hook' }],
      rules: [{ id: 'r', severities: ['critical'], contacts: ['p'] }],
    },
  })
  t.teardown(() => n.close())
  n.onAlarm(alarm())
  await n.idle()
  t.equal(rx.hooks.length, 1)
  t.match(n.notificationsFor('SHP-7', alarm().alarmId), [
    { status: 'failed', attempts: 1, error: 'HTTP 410 from the receiver' },
  ])
})

t.test(
  'escalation: unacknowledged after the delay goes to the next contact; acknowledged stops it; survives a restart',
  async (t) => {
    const smtp = await startSmtp(t)
    const dir = await tempDir(t)
    const clock = { now: T0 }
    const alarms = new Map<string, NotifyAlarm>([
      [alarm().alarmId, alarm()],
      ['b', alarm({ alarmId: 'b' })],
    ])
    const config = {
      channels: {
        mail: { type: 'smtp', host: '127.0.0.1', port: smtp.port, from: 'alarms@example.com', maxAttempts: 1 },
      },
      contacts: [
        { name: 'qa', roles: ['qa'], channel: 'mail', to: 'qa@example.com' },
        { name: 'lead', channel: 'mail', to: 'lead@example.com' },
        { name: 'director', channel: 'mail', to: 'director@example.com' },
      ],
      rules: [
        {
          id: 'crit',
          severities: ['critical'],
          roles: ['qa'],
          escalation: { afterMs: 15 * MIN, contacts: ['lead', 'director'] },
        },
      ],
    }
    const open = () =>
      createNotifier({
        recordsFile: join(dir, 'n.jsonl'),
        clock: () => clock.now,
        lookup: (_s, a) => alarms.get(a),
        sleep: async () => {},
        config,
      })
    let n = await open()
    n.onAlarm(alarms.get(alarm().alarmId)!)
    n.onAlarm(alarms.get('b')!)
    await n.idle()
    const to = () => smtp.mails.map((m) => `${m.to.join(',')}${/ESCALATION/.test(m.subject) ? '!' : ''}`).sort()
    t.same(to(), ['qa@example.com', 'qa@example.com'])
    clock.now = T0 + 15 * MIN - 1
    n.tick()
    await n.idle()
    t.equal(smtp.mails.length, 2, 'not before the delay')
    // Alarm b is acknowledged in time; the other is not.
    alarms.set('b', { ...alarms.get('b')!, state: 'acknowledged' })
    clock.now = T0 + 15 * MIN
    n.tick()
    n.tick() // twice at the same time: once
    await n.idle()
    t.same(to(), ['lead@example.com!', 'qa@example.com', 'qa@example.com'])
    const esc = smtp.mails.find((m) => m.to[0] === 'lead@example.com')!
    t.equal(esc.subject, '[ESCALATION 1] [ColdProof] CRITICAL alarm on shipment SHP-7: excursion alarm')
    t.match(esc.text, 'still NOT ACKNOWLEDGED after 15 min')
    // A restart: the next level comes from the records, not from memory.
    await n.close()
    n = await open()
    t.teardown(() => n.close())
    clock.now = T0 + 30 * MIN
    n.tick()
    await n.idle()
    t.same(to(), ['director@example.com!', 'lead@example.com!', 'qa@example.com', 'qa@example.com'])
    clock.now = T0 + 120 * MIN
    n.tick()
    await n.idle()
    t.equal(smtp.mails.length, 4, 'the escalation list is exhausted')
    t.same(
      n.notificationsFor('SHP-7', alarm().alarmId).map((v) => [v.to, v.level, v.status]),
      [
        ['qa@example.com', 0, 'sent'],
        ['lead@example.com', 1, 'sent'],
        ['director@example.com', 2, 'sent'],
      ],
    )
  },
)

t.test('secrets: redacted on read, kept when sent back redacted, saved to the file', async (t) => {
  const dir = await tempDir(t)
  const file = join(dir, 'notifications.json')
  const n = await createNotifier({ configFile: file, recordsFile: null, lookup: () => undefined })
  t.teardown(() => n.close())
  t.same(n.config().rules, [])
  const cfg = {
    channels: {
      hook: { type: 'webhook', url: 'https://hooks.example.com/x', secret: SECRET },
      mail: {
        type: 'smtp',
        host: 'smtp.example.com',
        from: 'a@example.com',
        auth: { user: 'u', pass: 'smtp-password' },
      },
    },
    contacts: [{ name: 'p', channel: 'hook' }],
    rules: [{ id: 'r', severities: ['critical'], contacts: ['p'] }],
  }
  const shown = await n.setConfig(cfg)
  t.equal((shown.channels.hook as { secret: string }).secret, REDACTED)
  t.equal((n.config().channels.mail as { auth: { pass: string } }).auth.pass, REDACTED)
  await n.setConfig(n.config())
  const saved = JSON.parse(await readFile(file, 'utf8'))
  t.equal(saved.channels.hook.secret, SECRET, 'the stored secret kept')
  t.equal(saved.channels.mail.auth.pass, 'smtp-password')
  await t.rejects(
    n.setConfig({
      ...cfg,
      channels: { ...cfg.channels, other: { type: 'webhook', url: 'https://x.example.com', secret: REDACTED } },
    }),
    { code: 'ERR_NOTIFY_CONFIG', path: '$.channels.other.secret', message: /\S/ },
  )
})

t.test(
  'escalation of a rule whose contact was told under another rule counts from that notice, also after a restart',
  async (t) => {
    const smtp = await startSmtp(t)
    const dir = await tempDir(t)
    const clock = { now: T0 }
    const config = {
      channels: {
        mail: { type: 'smtp', host: '127.0.0.1', port: smtp.port, from: 'alarms@example.com', maxAttempts: 1 },
      },
      contacts: [
        { name: 'qa', roles: ['qa'], channel: 'mail', to: 'qa@example.com' },
        { name: 'lead', channel: 'mail', to: 'lead@example.com' },
      ],
      rules: [
        { id: 'everything', severities: ['critical', 'major', 'minor'], roles: ['qa'] },
        {
          id: 'critical-escalates',
          severities: ['critical'],
          contacts: ['qa'],
          escalation: { afterMs: 15 * MIN, contacts: ['lead'] },
        },
      ],
    }
    const open = () =>
      createNotifier({
        recordsFile: join(dir, 'n.jsonl'),
        clock: () => clock.now,
        lookup: () => alarm(),
        sleep: async () => {},
        config,
      })
    let n = await open()
    n.onAlarm(alarm())
    await n.idle()
    await n.close()
    n = await open()
    t.teardown(() => n.close())
    n.onAlarm(alarm()) // seen again after the restart: no second notice
    clock.now = T0 + 15 * MIN
    n.tick()
    await n.idle()
    t.same(
      smtp.mails.map((m) => m.to[0]),
      ['qa@example.com', 'lead@example.com'],
    )
    t.same(
      n.notificationsFor('SHP-7', alarm().alarmId).map((v) => [v.to, v.level]),
      [
        ['qa@example.com', 0],
        ['lead@example.com', 1],
      ],
    )
  },
)
