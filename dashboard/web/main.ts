/**
 * The single-page app: finds out who is signed in, opens the live stream,
 * and routes #/fleet, #/shipment/<id>, #/new-shipment[/<template id>], #/alarms, #/devices, #/ledger, #/verify,
 * #/users (admins) and #/tokens to their views. Each view cleans up (stream subscriptions, timers, charts)
 * when the route changes.
 */
import { $, replace, h } from './dom.ts'
import { listAlarms } from './api/alarms.ts'
import { logout, me as fetchMe } from './api/session.ts'
import { startAgoTicker } from './components.ts'
import { abilitiesFor, type AppContext, type View } from './context.ts'
import { openStream, type StreamState } from './stream.ts'
import { fleetView } from './views/fleet.ts'
import { shipmentView } from './views/shipment/index.ts'
import { alarmsView } from './views/alarms.ts'
import { devicesView } from './views/devices.ts'
import { ledgerView } from './views/ledger.ts'
import { verifyView } from './views/verify.ts'
import { usersView } from './views/users.ts'
import { tokensView } from './views/tokens.ts'
import { newShipmentView } from './views/new-shipment.ts'

const ROUTES: Record<string, { view: View; tab: string; title: string }> = {
  fleet: { view: fleetView, tab: 'fleet', title: 'Fleet' },
  shipment: { view: shipmentView, tab: 'fleet', title: 'Shipment' },
  'new-shipment': { view: newShipmentView, tab: 'fleet', title: 'New shipment' },
  alarms: { view: alarmsView, tab: 'alarms', title: 'Alarms' },
  devices: { view: devicesView, tab: 'devices', title: 'Devices' },
  ledger: { view: ledgerView, tab: 'ledger', title: 'Ledger' },
  verify: { view: verifyView, tab: 'verify', title: 'Verify' },
  users: { view: usersView, tab: 'users', title: 'Users' },
  tokens: { view: tokensView, tab: 'tokens', title: 'API tokens' },
}

const STATE_TEXT: Record<StreamState, string> = {
  connecting: 'Connecting…',
  open: 'Live',
  error: 'Reconnecting…',
  stopped: 'Server stopping…',
}

async function start(): Promise<void> {
  const user = await fetchMe()
  $('#user-name').textContent = user.username
  $('#user-role').textContent = user.role
  document.body.dataset.role = user.role
  // The server refuses /api/users to other roles anyway; the tab is only hidden.
  $('#tab-users').hidden = user.role !== 'admin'

  const live = $('#live')
  let streamState: StreamState = 'connecting'
  /** Percent of the stored readings folded while the server catches up after a start (null once live). */
  let catchingUp: number | null = null
  const showState = () => {
    const behind = catchingUp !== null && streamState === 'open'
    live.dataset.state = behind ? 'catching-up' : streamState
    $('#live-text').textContent = behind ? `Catching up… ${catchingUp} %` : STATE_TEXT[streamState]
    live.title = behind
      ? 'The server is still reading the ledger after a start: summaries and alarms are incomplete until it is done'
      : 'Live stream'
  }
  const stream = openStream((s) => {
    streamState = s
    showState()
  })
  // After a start on a large ledger the server folds the stored readings in the background (/health says so).
  const watchCatchUp = async () => {
    let state: { state: string; readingsFolded: number; readingsTotal: number } | undefined
    try {
      state = ((await (await fetch('/health', { credentials: 'same-origin' })).json()) as { live?: typeof state }).live
    } catch {
      /* retried below */
    }
    if (state?.state === 'catching_up') {
      catchingUp = state.readingsTotal > 0 ? Math.floor((100 * state.readingsFolded) / state.readingsTotal) : 0
      showState()
      setTimeout(() => {
        void watchCatchUp()
      }, 2000)
      return
    }
    if (catchingUp !== null) {
      catchingUp = null
      showState()
      stream.refresh()
    }
  }
  void watchCatchUp()

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
      } catch {
        /* the count is a convenience; the Alarms tab shows errors */
      }
    }, 250)
  }
  stream.subscribe((e) => {
    if (e.type === 'alarm' || e.type === 'ack') refreshAlarmCount()
  })
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
      replace(
        view,
        h(
          'div',
          { class: 'notice notice-warn' },
          'This page does not exist. ',
          h('a', { href: '#/fleet' }, 'Go to the fleet.'),
        ),
      )
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
    try {
      await logout()
    } finally {
      location.assign('/login.html')
    }
  })
}

start().catch((e: unknown) => {
  // A 401 has already sent the browser to the login page; anything else is shown.
  replace($('#view'), h('div', { class: 'notice notice-alarm' }, `ColdProof could not start: ${(e as Error).message}`))
})
