/**
 * Ledger: how big the append-only log is, the latest signed checkpoint
 * (origin, tree size, root hash: what a regulator's evidence is anchored to)
 * and the result of the last full integrity check.
 */
import { h, replace } from '../dom.ts'
import { getLedger } from '../api/ledger.ts'
import { ago, badge, table } from '../components.ts'
import { formatCount, formatDateTime } from '../../common/format.ts'
import type { View } from '../context.ts'
import type { LedgerView } from '../types.ts'

export const ledgerView: View = (root, ctx) => {
  const body = h('div', { id: 'ledger' }, h('p', { class: 'loading' }, 'Loading…'))

  /** "1 entry", "1 234 entries", "no entries" — then "on <date>". */
  const checkedEntries = (n: number) =>
    `${n === 0 ? 'no entries' : n === 1 ? '1 entry' : `${formatCount(n)} entries`} on`

  function render(l: LedgerView): void {
    const stat = (label: string, value: Node | string, cls = '') =>
      h('div', { class: `stat ${cls}` }, h('dt', null, label), h('dd', null, value))
    const integ = l.integrity
    const integrity =
      integ === null
        ? h('p', { class: 'muted' }, 'No integrity check has run yet.')
        : h(
            'div',
            null,
            integ.ok ? badge('ok', '✓', 'Intact') : badge('alarm', '✕', 'Failed'),
            ' ',
            integ.size !== undefined
              ? `Checked ${checkedEntries(integ.size)} ${formatDateTime(integ.checkedAt)} `
              : `Checked ${formatDateTime(integ.checkedAt)} `,
            integ.checkedAt ? h('span', { class: 'muted' }, '(', ago(integ.checkedAt), ')') : null,
            '.',
            integ.size === 0
              ? h(
                  'p',
                  { class: 'small muted' },
                  'The ledger was empty at that check; it is checked again a minute after start and then periodically.',
                )
              : null,
            integ.message ? h('p', { class: 'small' }, integ.message) : null,
          )
    const cp = l.checkpoint
    const checkpoint =
      cp === null
        ? h('p', { class: 'muted' }, 'No checkpoint signed yet.')
        : h(
            'div',
            null,
            h(
              'dl',
              { class: 'facts' },
              h('dt', null, 'Origin'),
              h('dd', { class: 'mono', id: 'cp-origin' }, cp.origin),
              h('dt', null, 'Tree size'),
              h('dd', { id: 'cp-size' }, formatCount(cp.size)),
              h('dt', null, 'Root hash'),
              h('dd', { class: 'mono', id: 'cp-root' }, cp.rootHash),
            ),
            cp.note
              ? h(
                  'details',
                  null,
                  h('summary', null, 'Signed note (C2SP checkpoint)'),
                  h('pre', { class: 'mono note' }, cp.note),
                )
              : null,
          )
    const types = Object.entries(l.entriesByType).sort(([a], [b]) => a.localeCompare(b))
    const quarantine = Object.entries(l.quarantined).sort(([, a], [, b]) => b - a)
    replace(
      body,
      h(
        'dl',
        { class: 'stats' },
        stat('Entries', formatCount(l.size)),
        stat('Checkpoint size', cp ? formatCount(cp.size) : '—'),
        stat('Behind checkpoint', cp && l.size !== null ? formatCount(l.size - cp.size) : '—'),
        stat(
          'Integrity',
          integ === null ? '—' : integ.ok ? '✓ Intact' : '✕ Failed',
          integ === null ? '' : integ.ok ? 'is-ok' : 'is-alarm',
        ),
      ),
      h(
        'div',
        { class: 'grid grid-2' },
        h('section', { class: 'card' }, h('h2', null, 'Latest checkpoint'), checkpoint),
        h('section', { class: 'card' }, h('h2', null, 'Integrity check'), integrity),
      ),
      h(
        'div',
        { class: 'grid grid-2' },
        h(
          'section',
          { class: 'card' },
          h('h2', null, 'Entries by type'),
          table(
            [
              { label: 'Type', cell: ([t]: [string, number]) => h('span', { class: 'mono' }, t) },
              { label: 'Entries', className: 'num', cell: ([, n]: [string, number]) => formatCount(n) },
            ],
            types,
            { empty: 'Empty ledger.' },
          ),
        ),
        h(
          'section',
          { class: 'card' },
          h('h2', null, 'Quarantine'),
          h(
            'p',
            { class: 'muted small' },
            'Rejected messages, kept with their reason for investigation; they never enter the log.',
          ),
          table(
            [
              { label: 'Reason', cell: ([t]: [string, number]) => h('span', { class: 'mono' }, t) },
              { label: 'Count', className: 'num', cell: ([, n]: [string, number]) => formatCount(n) },
            ],
            quarantine,
            { empty: 'Nothing rejected.' },
          ),
        ),
      ),
    )
  }

  async function load(): Promise<void> {
    try {
      render(await getLedger())
    } catch (e) {
      replace(body, h('div', { class: 'notice notice-alarm' }, `Could not load the ledger: ${(e as Error).message}`))
    }
  }
  replace(
    root,
    h(
      'div',
      { class: 'page-head' },
      h(
        'div',
        null,
        h('h1', null, 'Ledger'),
        h('p', { class: 'muted' }, 'One append-only, hash-linked log (RFC 6962 Merkle tree) with signed checkpoints.'),
      ),
    ),
    body,
  )
  let pending: ReturnType<typeof setTimeout> | null = null
  const unsub = ctx.stream.subscribe((e) => {
    if (e.type === 'checkpoint' && !pending)
      pending = setTimeout(() => {
        pending = null
        void load()
      }, 300)
  })
  // The log grows with every reading; a calm refresh keeps the size current without an event per entry.
  const timer = setInterval(() => void load(), 15_000)
  void load()
  return () => {
    unsub()
    clearInterval(timer)
    if (pending) clearTimeout(pending)
  }
}
