/** The reports and evidence card: PDF, CSV, EPCIS and the evidence bundle, as the server lists them. */
import { h, icon, replace } from '../../dom.ts'
import type { ShipmentDetail } from '../../types.ts'

export function renderDownloads(box: HTMLElement, d: ShipmentDetail): void {
  replace(
    box,
    h('h2', null, 'Reports and evidence'),
    h(
      'div',
      { class: 'downloads' },
      ...d.downloads.map((x) =>
        h('a', { class: 'btn', href: x.href, download: '', 'data-download': x.kind }, icon('⤓'), x.label),
      ),
    ),
    h(
      'p',
      { class: 'muted small' },
      'The evidence bundle can be checked offline on the Verify tab or with "coldproof verify".',
    ),
  )
}
