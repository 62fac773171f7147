/** A plain small table (header row, one row per item) for the figures the shipment page lists beside its main tables. */
import { h, type Attrs } from '../../dom.ts'

export function smallTable(
  wrap: Attrs,
  tableClass: string,
  headers: string[],
  rows: HTMLTableRowElement[],
): HTMLElement {
  return h(
    'div',
    wrap,
    h(
      'table',
      { class: tableClass },
      h('thead', null, h('tr', null, ...headers.map((x) => h('th', null, x)))),
      h('tbody', null, ...rows),
    ),
  )
}
