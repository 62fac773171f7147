/**
 * The single-page app: finds out who is signed in, opens the live stream,
 * and routes #/fleet, #/shipment/<id>, #/alarms, #/devices, #/ledger, #/verify
 * to their views. Each view cleans up (stream subscriptions, timers, charts)
 * when the route changes.
 */
import { $, replace, h } from './dom.ts'
import { listAlarms, logout, me as fetchMe } from './api.ts'
import { startAgoTicker } from './components.ts'
import { abilitiesFor, type AppContext, type View } from './context.ts'
import { openStream, type StreamState } from './stream.ts'
import { fleetView } from './views/fleet.ts'
import { shipmentView } from './views/shipment.ts'
import { alarmsView } from './views/alarms.ts'
import { devicesView } from './views/devices.ts'
import { ledgerView } from './views/ledger.ts'
import { verifyView } from './views/verify.ts'

const ROUTES: Record<string, { view: View; tab: string; title: string }> = {
  fleet: { view: fleetView, tab: 'fleet', title: 'Fleet' },
  shipment: { view: shipmentView, tab: 'fleet', title: 'Shipment' },
  alarms: { view: alarmsView, tab: 'alarms', title: 'Alarms' },
  devices: { view: devicesView, tab: 'devices', title: 'Devices' },
  ledger: { view: ledgerView, tab: 'ledger', title: 'Ledger' },
  verify: { view: verifyView, tab: 'verify', title: 'Verify' },
}

const STATE_TEXT: Record<StreamState, string> = { connecting: 'Connecting…', open: 'Live', error: 'Reconnecting…', stopped: 'Server stopping…' }

async function start(): Promise<void> {
  const user = await fetchMe()
  $('#user-name').textContent = user.username
  $('#user-role').textContent = user.role
  document.body.dataset.role = user.role

  const live = $('#live')
  const stream = openStream((s) => {
    live.dataset.state = s
    $('#live-text').textContent = STATE_TEXT[s]
  })

  const alarmCount = $('#alarm-count')
  let countTimer: ReturnType<typeof setTimeout> | null = null
  const refreshAlarmCount = () => {
    if (countTimer) return
    countTimer = setTimeout(async () => {
      countTimer = null
      try {
        const open = (await listAlarms('open')).length
        alarmCount.textContent = String(open)
        alarmCount.hidden = open === 0
        alarmCount.title = `${open} open alarms`
      } catch { /* the count is a convenience; the Alarms tab shows errors */ }
    }, 250)
  }
  stream.subscribe((e) => { if (e.type === 'alarm' || e.type === 'ack') refreshAlarmCount() })
  stream.onReconnect(refreshAlarmCount)
  refreshAlarmCount()

  const ctx: AppContext = { me: user, can: abilitiesFor(user.role), stream, refreshAlarmCount }
  const view = $('#view')
  let cleanup: (() => void) | void

  const route = () => {
    const parts = location.hash.replace(/^#\/?/, '').split('/')
    const name = parts[0] || 'fleet'
    const r = ROUTES[name]
    if (typeof cleanup === 'function') cleanup()
    cleanup = undefined
    if (!r) {
      replace(view, h('div', { class: 'notice notice-warn' }, 'This page does not exist. ', h('a', { href: '#/fleet' }, 'Go to the fleet.')))
      return
    }
    for (const a of document.querySelectorAll<HTMLAnchorElement>('.tabs a[data-tab]')) {
      if (a.dataset.tab === r.tab) a.setAttribute('aria-current', 'page')
      else a.removeAttribute('aria-current')
    }
    document.title = `${r.title} · ColdProof`
    cleanup = r.view(view, ctx, parts.slice(1))
    window.scrollTo(0, 0)
  }
  window.addEventListener('hashchange', route)
  route()
  startAgoTicker()

  $('#logout').addEventListener('click', async () => {
    stream.close()
    try { await logout() } finally { location.assign('/login.html') }
  })
}

start().catch((e: unknown) => {
  // A 401 has already sent the browser to the login page; anything else is shown.
  replace($('#view'), h('div', { class: 'notice notice-alarm' }, `ColdProof could not start: ${(e as Error).message}`))
})
