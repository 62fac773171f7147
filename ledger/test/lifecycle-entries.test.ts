/**
 * The shipment.devices and shipment.receive entries on a real LevelDB: the codec's field checks,
 * the ledger's refusals, the shipment index per logger window (an added logger from its `at`,
 * a removed one up to its `at` and nothing logged after), restart, and the window rule itself.
 */
import t from 'tap'
import { openLedger, profileHashOf, type Ledger } from '../store/ledger.ts'
import { encodeEntry, EntryError, GENESIS_PREV } from '../tlog/entry-codec.ts'
import type { Entry } from '../tlog/entry-types.ts'
import { changeProblem, initialWindows, applyChange, inLoggerWindow } from '../tlog/logger-windows.ts'
import { toBase64 } from '../protocol/index.ts'
import { nextReading, simDevice, tempDir, T0, type SimDevice } from './support.ts'
import { checkLedger, memoryLedgerReader } from '../store/fsck.ts'
import { registerBody, testDevice, testLedger } from '../tlog/test/entries.ts'

const MIN = 60_000
const PROFILE = { name: '2-8C' }

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof p === 'function' ? p() : p)
    return 'resolved'
  } catch (e) {
    return (e as { code?: string }).code
  }
}

t.test('codec: the new entries are checked field by field', async (t) => {
  const entry = (type: Entry['type'], body: unknown): Entry =>
    ({ v: 1, index: 5, type, time: T0, prev: GENESIS_PREV, body }) as Entry
  const code = (type: Entry['type'], body: unknown) => {
    try {
      encodeEntry(entry(type, body))
      return 'ok'
    } catch (e) {
      return e instanceof EntryError ? `${e.code} ${e.field}` : String(e)
    }
  }
  const dev = { shipmentId: 'S1', add: ['a-1'], remove: [], at: T0, by: 'olivia' }
  t.equal(code('shipment.devices', dev), 'ok')
  t.equal(code('shipment.devices', { ...dev, add: [] }), 'ERR_ENTRY_BAD_FIELD $.body.add', 'nothing to change')
  t.equal(
    code('shipment.devices', { ...dev, remove: ['a-1'] }),
    'ERR_ENTRY_BAD_FIELD $.body.add',
    'one logger added and removed at once',
  )
  t.equal(
    code('shipment.devices', { ...dev, anchors: [{ deviceId: 'b-1', seq: 0, hash: GENESIS_PREV }] }),
    'ERR_ENTRY_BAD_FIELD $.body.anchors[0].deviceId',
    'anchors follow [...add, ...remove]',
  )
  t.equal(code('shipment.devices', { ...dev, extra: 1 }), 'ERR_ENTRY_UNKNOWN_FIELD $.body.extra')
  const sig = { by: 'olivia', meaning: 'received at destination', reason: 'ok', at: T0 }
  const rcv = { shipmentId: 'S1', receivedAt: T0, by: 'olivia', signature: sig }
  t.equal(code('shipment.receive', rcv), 'ok')
  t.equal(
    code('shipment.receive', { ...rcv, signature: { ...sig, by: 'mallory' } }),
    'ERR_ENTRY_BAD_FIELD $.body.signature.by',
    'signed by the receiver',
  )
  t.equal(
    code('shipment.receive', { ...rcv, signature: { ...sig, meaning: 'received and reviewed' } }),
    'ERR_ENTRY_BAD_FIELD $.body.signature.meaning',
    'a receipt meaning',
  )
  t.equal(code('shipment.receive', { ...rcv, signature: undefined }), 'ERR_ENTRY_MISSING_FIELD $.body.signature')
})

t.test('the window rule', async (t) => {
  let w = initialWindows({ devices: ['a'], startAt: 100 })
  t.same(changeProblem(w, { add: [], remove: [], at: 100 }, 100)?.field, 'add')
  t.same(changeProblem(w, { add: ['b'], remove: [], at: 99 }, 100)?.field, 'at', 'not before the start')
  t.same(changeProblem(w, { add: ['a'], remove: [], at: 100 }, 100)?.field, 'add[0]', 'already assigned')
  t.same(changeProblem(w, { add: [], remove: ['a'], at: 100 }, 100)?.field, 'remove', 'the last logger stays')
  t.equal(changeProblem(w, { add: ['b'], remove: ['a'], at: 150 }, 100), null, 'a swap is fine')
  w = applyChange(w, { index: 7, body: { shipmentId: 'S', add: ['b'], remove: ['a'], at: 150, by: 'x' } })
  t.same(
    w.map((x) => [x.deviceId, x.from, x.until, x.addIndex, x.removeIndex]),
    [
      ['a', 100, 150, null, 7],
      ['b', 150, null, 7, null],
    ],
  )
  t.match(changeProblem(w, { add: ['a'], remove: [], at: 200 }, 100)?.message, /not assigned again/)
  t.same(changeProblem(w, { add: ['c'], remove: ['b'], at: 120 }, 100)?.field, 'at', 'not removed before its own start')
  t.ok(inLoggerWindow(w, 'a', 150, null))
  t.notOk(inLoggerWindow(w, 'a', 151, null))
  t.notOk(inLoggerWindow(w, 'b', 149, null))
  t.ok(inLoggerWindow(w, 'b', 149_999, null))
  t.notOk(inLoggerWindow(w, 'b', 300, 200), 'the close ends every window')
})

t.test(
  'ledger: assign from a past time, remove, receive; the index follows each window, also after a restart',
  async (t) => {
    const { dir, remove } = await tempDir()
    let ledger: Ledger = await openLedger({ dir, checkpointIntervalMs: 0 })
    t.teardown(async () => {
      await ledger.close().catch(() => {})
      await remove()
    })
    const a = simDevice('lc-a', 1),
      b = simDevice('lc-b', 2),
      c = simDevice('lc-c', 3)
    for (const d of [a, b, c]) await ledger.registerDevice({ deviceId: d.id, publicKey: d.publicKey, by: 'qa' })
    const append = (d: SimDevice, t0: number) =>
      ledger.appendReading({ payload: toBase64(nextReading(d, 500, t0)), deviceId: d.id, seq: d.seq }, t0)
    await ledger.createShipment({
      shipmentId: 'LC-1',
      product: 'x',
      route: { from: 'A', to: 'B' },
      devices: ['lc-a'],
      profile: PROFILE,
      startAt: T0,
      by: 'qa',
    })
    for (let i = 0; i < 6; i++) {
      await append(a, T0 + i * 5 * MIN)
      await append(b, T0 + i * 5 * MIN)
    }
    const seqsOf = async (id: string) =>
      (await ledger.readingsByShipment('LC-1')).filter((e) => e.entry.body.deviceId === id).map((e) => e.entry.body.seq)

    t.equal(
      await codeOf(ledger.changeShipmentDevices({ shipmentId: 'LC-1', add: ['lc-x'], remove: [], at: T0, by: 'qa' })),
      'ERR_LEDGER_DEVICE_UNKNOWN',
    )
    t.equal(
      await codeOf(ledger.changeShipmentDevices({ shipmentId: 'LC-1', add: ['lc-a'], remove: [], at: T0, by: 'qa' })),
      'ERR_LEDGER_BAD_INPUT',
      'already assigned',
    )
    t.equal(
      await codeOf(ledger.changeShipmentDevices({ shipmentId: 'LC-9', add: ['lc-b'], remove: [], at: T0, by: 'qa' })),
      'ERR_LEDGER_SHIPMENT_UNKNOWN',
    )

    // B joins from 10 min: its readings stored already at 10, 15, 20, 25 min join the index.
    const added = await ledger.changeShipmentDevices({
      shipmentId: 'LC-1',
      add: ['lc-b'],
      remove: [],
      at: T0 + 10 * MIN,
      by: 'qa',
    })
    t.same(
      added.entry.body.anchors,
      [{ deviceId: 'lc-b', seq: 6, hash: ledger.device('lc-b')!.contiguousHash }],
      'the ledger writes the chain head',
    )
    t.same(await seqsOf('lc-b'), [3, 4, 5, 6])
    t.same(ledger.shipment('LC-1')!.devices, ['lc-a', 'lc-b'])
    // A leaves at 15 min: its readings after 15 min leave the index, and later ones never join.
    await ledger.changeShipmentDevices({
      shipmentId: 'LC-1',
      add: ['lc-c'],
      remove: ['lc-a'],
      at: T0 + 15 * MIN,
      by: 'qa',
    })
    t.same(await seqsOf('lc-a'), [1, 2, 3, 4])
    await append(a, T0 + 16 * MIN)
    await append(b, T0 + 30 * MIN)
    t.same(await seqsOf('lc-a'), [1, 2, 3, 4], "a removed logger's new readings are not the shipment's")
    t.same(await seqsOf('lc-b'), [3, 4, 5, 6, 7])
    t.equal(
      await codeOf(
        ledger.changeShipmentDevices({ shipmentId: 'LC-1', add: ['lc-a'], remove: [], at: T0 + 20 * MIN, by: 'qa' }),
      ),
      'ERR_LEDGER_BAD_INPUT',
      'not re-assigned',
    )

    const sig = { by: 'qa', meaning: 'received at destination' as const, reason: 'fine', at: T0 + 31 * MIN }
    await ledger.receiveShipment({ shipmentId: 'LC-1', receivedAt: T0 + 30 * MIN, by: 'qa', signature: sig })
    t.equal(
      await codeOf(ledger.receiveShipment({ shipmentId: 'LC-1', receivedAt: T0 + 30 * MIN, by: 'qa', signature: sig })),
      'ERR_LEDGER_SHIPMENT_RECEIVED',
      'once',
    )
    t.same(ledger.shipment('LC-1')!.receiveSignature, sig)

    await ledger.close()
    ledger = await openLedger({ dir, checkpointIntervalMs: 0 })
    t.same(await seqsOf('lc-a'), [1, 2, 3, 4], 'after a restart too')
    t.same(
      ledger.shipment('LC-1')!.loggers!.map((w) => [w.deviceId, w.from - T0, w.until === null ? null : w.until - T0]),
      [
        ['lc-a', 0, 15 * MIN],
        ['lc-b', 10 * MIN, null],
        ['lc-c', 15 * MIN, null],
      ],
    )
    await ledger.closeShipment({
      shipmentId: 'LC-1',
      closedAt: T0 + 30 * MIN,
      by: 'qa',
      endsEarly: { reason: 'lc-c never reported' },
    })
    t.same(
      (await ledger.entriesByType('shipment.close')).at(-1)!.entry.body.anchors!.map((x) => x.deviceId),
      ['lc-b', 'lc-c'],
      'the close anchors the loggers assigned at the close',
    )
    t.equal(
      await codeOf(
        ledger.changeShipmentDevices({ shipmentId: 'LC-1', add: [], remove: ['lc-b'], at: T0 + 30 * MIN, by: 'qa' }),
      ),
      'ERR_LEDGER_SHIPMENT_CLOSED',
    )
    t.equal(
      await codeOf(ledger.receiveShipment({ shipmentId: 'LC-1', receivedAt: T0 + 30 * MIN, by: 'qa', signature: sig })),
      'ERR_LEDGER_SHIPMENT_CLOSED',
    )
  },
)

t.test('fsck replays the assignment rule: a log that re-assigns a removed logger does not verify', async (t) => {
  const build = (readd: boolean) => {
    const l = testLedger()
    l.append('device.register', registerBody(testDevice('fa-1', 1)))
    l.append('device.register', registerBody(testDevice('fb-1', 2)))
    l.append('shipment.create', {
      shipmentId: 'F1',
      product: 'x',
      route: { from: 'A', to: 'B' },
      devices: ['fa-1'],
      profile: PROFILE,
      profileHash: profileHashOf(PROFILE),
      startAt: T0,
      by: 'qa',
    })
    l.append('shipment.devices', { shipmentId: 'F1', add: ['fb-1'], remove: ['fa-1'], at: T0 + MIN, by: 'qa' })
    if (readd) l.append('shipment.devices', { shipmentId: 'F1', add: ['fa-1'], remove: [], at: T0 + 2 * MIN, by: 'qa' })
    const note = l.checkpoint()
    return checkLedger(memoryLedgerReader(l.entries, note), { ledgerPublicKey: l.verifierKey })
  }
  const good = await build(false)
  t.ok(good.ok, JSON.stringify(good.failure))
  const bad = await build(true)
  t.same(
    { code: bad.failure?.code, index: bad.failure?.index },
    { code: 'ERR_FSCK_SHIPMENT', index: 4 },
    String(bad.failure?.message),
  )
  t.match(bad.failure?.message, /not assigned again/)
})
