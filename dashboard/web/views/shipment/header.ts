/** The page head: product, id, route, storage class, status and verdict, and the operator's action buttons. */
import { h, replace } from '../../dom.ts'
import { classLabel, rangeText, statusBadge, verdictBadge } from '../../components.ts'
import type { AppContext } from '../../context.ts'
import type { ShipmentDetail } from '../../types.ts'
import { closeButton } from './close-dialog.ts'
import { loggersButton } from './loggers-dialog.ts'
import { receiveButton } from './receive-dialog.ts'

export interface ShipmentHeader {
  el: HTMLElement
  render(d: ShipmentDetail): void
}

/**
 * `current` gives the latest shipment (null once the page is gone), for a
 * redraw held back by an open dialog; `onChanged` runs after an action is signed.
 */
export function shipmentHeader(
  ctx: AppContext,
  current: () => ShipmentDetail | null,
  onChanged: () => void,
): ShipmentHeader {
  const el = h('div', { class: 'page-head' })

  function render(d: ShipmentDetail): void {
    // A reload (live events) must not pull an open dialog away from under the user's typing.
    if (el.querySelector('dialog[open]')) {
      renderWhenClosed()
      return
    }
    const open = ctx.can.operate && d.status !== 'closed'
    replace(
      el,
      h(
        'div',
        null,
        h('div', { class: 'breadcrumb' }, h('a', { href: '#/fleet' }, '← Fleet')),
        h('h1', { id: 'shipment-title' }, h('span', { class: 'product' }, d.product)),
        h(
          'p',
          { class: 'muted' },
          h('span', { class: 'id' }, d.shipmentId),
          ' · ',
          d.route.from,
          ' → ',
          d.route.to,
          ' · ',
          `${classLabel(d.productClass)} (${rangeText(d.range)})`,
        ),
      ),
      h(
        'div',
        { class: 'downloads' },
        statusBadge(d.status),
        d.compliance ? verdictBadge(d.compliance.verdict) : null,
        open ? loggersButton(d, onChanged) : null,
        open && !d.receipt ? receiveButton(d, onChanged) : null,
        open ? closeButton(d, onChanged) : null,
      ),
    )
  }

  /** Redraws the head once its open dialog closes (a reload happened meanwhile). */
  function renderWhenClosed(): void {
    const dlg = el.querySelector<HTMLElement>('dialog[open]')
    if (dlg && !dlg.dataset.waiting) {
      dlg.dataset.waiting = '1'
      dlg.addEventListener(
        'close',
        () => {
          const d = current()
          if (d) render(d)
        },
        { once: true },
      )
    }
  }

  return { el, render }
}
