/**
 * Receiving with an electronic signature (docs/API.md, "Shipments"): the receiver's password
 * is re-checked, a wrong one logs nothing; the signed receipt is a shipment.receive entry,
 * once per open shipment, and shows with the creator and the closer on the detail and the PDF.
 */
import t from 'tap'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs'
import { harness, TestDevice, register, T0, PASSWORDS, type Harness } from './support.ts'
import { createBundleBuilder } from '../evidence/collect.ts'
import { verifyBundle, formatReport } from '../evidence/verify.ts'
import { createIntegrityChecker } from '../server/integrity.ts'

const MIN = 60_000

async function post(h: Harness, url: string, payload: unknown) {
  const res = await h.app.inject({
    method: 'POST',
    url,
    headers: { cookie: await h.cookie('operator') },
    payload: payload as Record<string, unknown>,
  })
  return { status: res.statusCode, body: JSON.parse(res.body || 'null') }
}

async function shipment(h: Harness) {
  const dev = new TestDevice('logger-r', 21)
  await register(h.ledger, dev)
  const c = await post(h, '/api/shipments', {
    shipmentId: 'RCV-1',
    product: 'Vaccine',
    profileId: 'refrigerated-2-8',
    route: { from: 'Basel', to: 'Lyon' },
    devices: ['logger-r'],
    startAt: T0,
  })
  if (c.status !== 201) throw new Error(JSON.stringify(c.body))
  h.clock.now = T0 + 12 * 5 * MIN + 2_000
  for (let i = 0; i <= 12; i++) await h.ledger.appendReading(dev.next(T0 + i * 5 * MIN, 500), T0 + i * 5 * MIN + 2_000)
}

const standardFontDataUrl =
  dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json')) + '/standard_fonts/'
async function pdfText(bytes: Uint8Array): Promise<string> {
  const pdf = await getDocument({ data: bytes, isEvalSupported: false, standardFontDataUrl }).promise
  let text = ''
  for (let p = 1; p <= pdf.numPages; p++)
    text += (await (await pdf.getPage(p)).getTextContent()).items.map((i) => ('str' in i ? i.str : '')).join(' ') + '\n'
  await pdf.destroy()
  return text
}

const sig = (password = PASSWORDS.operator, meaning = 'received at destination') => ({
  password,
  meaning,
  reason: 'pallet intact, seals checked',
})

t.test('a signed receipt is logged once, before the close, and shows with creator and closer', async (t) => {
  const h = await harness(t, (ledger) => ({ bundle: createBundleBuilder(ledger) }))
  await shipment(h)
  const size = h.ledger.size()
  const wrong = await post(h, '/api/shipments/RCV-1/receive', { signature: sig('not-my-password') })
  t.equal(wrong.status, 403)
  t.equal(wrong.body.code, 'ERR_SIGNATURE_PASSWORD')
  t.equal(wrong.body.field, 'body.signature.password')
  t.equal(h.ledger.size(), size, 'a wrong password logs nothing')
  const badMeaning = await post(h, '/api/shipments/RCV-1/receive', {
    signature: sig(undefined, 'closed without receipt'),
  })
  t.equal(badMeaning.body.code, 'ERR_VALIDATION', 'a close meaning is not a receipt meaning')
  const early = await post(h, '/api/shipments/RCV-1/receive', { receivedAt: T0 - 1, signature: sig() })
  t.equal(early.body.code, 'ERR_VALIDATION')
  t.equal(early.body.field, 'body.receivedAt')

  const receivedAt = T0 + 60 * MIN
  const ok = await post(h, '/api/shipments/RCV-1/receive', { receivedAt, signature: sig() })
  t.equal(ok.status, 200, JSON.stringify(ok.body))
  t.equal(ok.body.receivedAt, receivedAt)
  t.same(ok.body.receiveSignature, {
    by: 'olivia',
    meaning: 'received at destination',
    reason: 'pallet intact, seals checked',
    at: h.clock.now,
  })
  t.equal(ok.body.createdBy, 'olivia')
  const entry = (await h.ledger.entriesByType('shipment.receive')).at(-1)!
  t.equal(entry.entry.index, ok.body.receivedEntry)
  t.same(
    entry.entry.body,
    { shipmentId: 'RCV-1', receivedAt, by: 'olivia', signature: ok.body.receiveSignature },
    'the signature is in the ledger, never the password',
  )

  const again = await post(h, '/api/shipments/RCV-1/receive', { signature: sig() })
  t.equal(again.status, 409)
  t.equal(again.body.code, 'ERR_SHIPMENT_RECEIVED')

  const closed = await post(h, '/api/shipments/RCV-1/close', {
    closedAt: T0 + 60 * MIN,
    signature: { password: PASSWORDS.operator, meaning: 'received and reviewed', reason: 'QA review done' },
  })
  t.equal(closed.status, 200, JSON.stringify(closed.body))
  t.equal(closed.body.receiveSignature.meaning, 'received at destination', 'the receipt stays on the closed shipment')
  t.equal(closed.body.closeSignature.meaning, 'received and reviewed')
  const late = await post(h, '/api/shipments/RCV-1/receive', { signature: sig() })
  t.equal(late.body.code, 'ERR_SHIPMENT_CLOSED', 'no receipt after the close')

  const pdf = await h.app.inject({
    method: 'GET',
    url: '/api/shipments/RCV-1/report.pdf',
    headers: { cookie: await h.cookie('regulator') },
  })
  t.equal(pdf.statusCode, 200)
  const text = await pdfText(new Uint8Array(pdf.rawPayload))
  t.match(text, /Created by\s+olivia/, 'the PDF says who created the shipment')
  t.match(text, /Received by\s+olivia/, 'who received it')
  t.match(text, /received at destination/, 'with the receipt meaning')
  t.match(text, /pallet intact, seals checked/, 'and its reason')
  t.match(text, /Closed by\s+olivia/, 'and who closed it')

  const fsck = await createIntegrityChecker(h.ledger, () => h.clock.now).run()
  t.ok(fsck.ok, `the integrity check accepts the receipt: ${JSON.stringify(fsck.failure)}`)

  // The bundle carries the receipt; the offline verifier shows creator, receiver and closer.
  const bundle = await h.app.inject({
    url: '/api/shipments/RCV-1/bundle.json',
    headers: { cookie: await h.cookie('regulator') },
  })
  t.equal(bundle.statusCode, 200)
  t.equal(JSON.parse(bundle.body).shipment.receive.index, ok.body.receivedEntry)
  const report = await verifyBundle(bundle.body, { trustedKey: h.ledger.verifierKey })
  t.equal(report.result, 'VERIFIED', formatReport(report))
  t.same(report.receipt, { receivedAt, signature: ok.body.receiveSignature })
  t.equal(report.createdBy, 'olivia')
  const lines = formatReport(report)
  t.match(lines, /created by olivia/)
  t.match(
    lines,
    /received: received .*, signed by olivia, meaning "received at destination", reason: pallet intact, seals checked/,
  )
  t.match(lines, /closed: signed by olivia, meaning "received and reviewed"/)
  // A receipt moved into another shipment's bundle, or out of order, is refused.
  const moved = JSON.parse(bundle.body)
  moved.shipment.receive = moved.shipment.create
  const r2 = await verifyBundle(JSON.stringify(moved), { trustedKey: h.ledger.verifierKey })
  t.equal(r2.result, 'NOT VERIFIED', 'a create entry given as the receipt does not verify')
})
