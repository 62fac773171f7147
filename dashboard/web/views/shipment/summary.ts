/**
 * The compliance card: verdict, MKT, time in / above / below range, the rule
 * profile and its origin, GS1 ids, the sign-offs, the reasons and per-logger figures.
 */
import { h, replace } from '../../dom.ts'
import { badge, verdictBadge } from '../../components.ts'
import { formatDateTime, formatDuration, formatTemp, shortHash } from '../../../common/format.ts'
import { profileOrigin } from '../../../compliance/index.ts'
import type { ComplianceSummary, ShipmentDetail } from '../../types.ts'
import { smallTable } from './small-table.ts'

export function renderSummary(box: HTMLElement, d: ShipmentDetail): void {
  const c = d.compliance
  const facts: [string, Node | string][] = []
  const fact = (k: string, v: Node | string) => facts.push([k, v])
  if (c) {
    fact('Verdict', verdictBadge(c.verdict))
    fact('MKT', c.mktC === null ? '—' : formatTemp(c.mktC, 2))
    fact('In range', formatDuration(c.timeInRangeMs))
    fact('Above range', formatDuration(c.timeAboveMs))
    fact('Below range', formatDuration(c.timeBelowMs))
    if (c.readingCount !== null && c.readingCount !== undefined) fact('Readings', String(c.readingCount))
  }
  fact('Rule profile', d.profile.name ?? '—')
  if (d.profile.labelStatement) fact('Label', d.profile.labelStatement)
  if (d.profileHash && d.profile.raw)
    fact('Profile origin', originBadge(d.profile.raw as { id?: unknown; version?: unknown }, d.profileHash))
  if (d.profileHash)
    fact('Profile hash', h('span', { class: 'mono', title: d.profileHash }, shortHash(d.profileHash, 12, 6)))
  if (d.profile.maxGapMs) fact('Max gap', formatDuration(d.profile.maxGapMs))
  if (d.gs1) {
    fact('SSCC', h('span', { class: 'mono' }, d.gs1.sscc))
    fact('GTIN / lot', h('span', { class: 'mono' }, `${d.gs1.gtin} / ${d.gs1.lot}`))
    fact('Expiry', d.gs1.expiry)
  }
  fact('Started', formatDateTime(d.startAt))
  if (d.closedAt) fact('Closed', formatDateTime(d.closedAt))
  // Who created, received and closed it, with their signatures (EU GMP Annex 11 §14, 21 CFR 11.50).
  if (d.createdBy) fact('Created by', `${d.createdBy}${d.createdAt ? `, ${formatDateTime(d.createdAt)}` : ''}`)
  if (d.receipt)
    fact(
      'Received by',
      `${d.receipt.by}, "${d.receipt.meaning}", ${d.receipt.reason}; received ${formatDateTime(d.receipt.receivedAt)}, signed ${formatDateTime(d.receipt.at)}`,
    )
  else if (d.status !== 'closed') fact('Received by', h('span', { class: 'muted' }, 'not received yet'))
  if (d.closeSignature)
    fact(
      'Closed by',
      `${d.closeSignature.by}, "${d.closeSignature.meaning}", ${d.closeSignature.reason}; signed ${formatDateTime(d.closeSignature.at)}`,
    )
  replace(
    box,
    h('h2', null, 'Compliance'),
    h('dl', { class: 'facts' }, ...facts.flatMap(([k, v]) => [h('dt', null, k), h('dd', { 'data-fact': k }, v)])),
    ...reasonLists(c),
    c?.loggers.length ? loggerTable(c.loggers) : null,
  )
}

/** Built-in (by the hash ColdProof ships), custom, or a look-alike of a built-in logged before ids were reserved. */
function originBadge(profile: { id?: unknown; version?: unknown }, hash: string): HTMLSpanElement {
  const o = profileOrigin(profile, hash)
  if (o.kind === 'builtin') return badge('ok', '✓', `built-in ${o.id} v${o.version}, hash matches`)
  if (o.kind === 'custom') return badge('info', '✎', `CUSTOM profile ${o.id} v${o.version}`)
  return badge('alarm', '✕', `NOT the built-in ${o.id}: another hash`)
}

/** The reasons that decided the verdict first, apart from those only noted (a QA reader asks "why this verdict?"). */
function reasonLists(c: ComplianceSummary | null): (HTMLElement | null)[] {
  if (!c || c.reasons.length === 0) return []
  const deciding = c.reasons.slice(0, c.deciding)
  const noted = c.reasons.slice(c.deciding)
  return [
    deciding.length
      ? h('p', { class: 'small', 'data-reasons': 'deciding' }, h('strong', null, 'Decided by: '), deciding.join('; '))
      : null,
    noted.length
      ? h(
          'details',
          { class: 'small', 'data-reasons': 'noted', ...(deciding.length ? {} : { open: '' }) },
          h('summary', null, deciding.length ? `Also noted (${noted.length})` : `Noted (${noted.length})`),
          h('ul', null, ...noted.map((r) => h('li', null, r))),
        )
      : null,
  ]
}

/** Min, max and mean per logger over its judged time. */
function loggerTable(loggers: ComplianceSummary['loggers']): HTMLElement {
  return smallTable(
    { class: 'table-wrap' },
    'small logger-figures',
    ['Logger', 'Min', 'Max', 'Mean', 'Readings'],
    loggers.map((l) =>
      h(
        'tr',
        null,
        h('td', { class: 'id' }, l.deviceId),
        h('td', null, formatTemp(l.minC, 2)),
        h('td', null, formatTemp(l.maxC, 2)),
        h('td', null, formatTemp(l.meanC, 2)),
        h('td', null, String(l.readings)),
      ),
    ),
  )
}
