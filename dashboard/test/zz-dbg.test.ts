import t from 'tap'
import { harness, TestDevice, register, T0 } from '/work/main/dashboard/test/support.ts'
t.test('x', async (t) => {
  const h = await harness(t, { logger: { level: 'error' } })
  const a = new TestDevice('logger-a', 11)
  await register(h.ledger, a)
  const cookie = await h.cookie('operator')
  const res = await h.app.inject({ method: 'POST', url: '/api/shipments', headers: { cookie },
    payload: { shipmentId: 'SHP-R', product: '=HYPERLINK("x")', profileId: 'refrigerated-2-8', route: { from: 'Basel', to: 'Lyon' }, devices: ['logger-a'], startAt: T0, gs1: { sscc: '106141411928374657', gtin: '09506000134352', lot: 'L1', expiry: '2027-01-31' } } })
  console.log(res.body)
})
