/**
 * Verify: the offline evidence-bundle verifier, in the browser. The bundle
 * file the user drops or picks is read locally and checked here by the same
 * code as `coldproof verify` (dashboard/evidence/verify.ts); nothing is
 * uploaded. The trusted ledger key is prefilled from this server's /api/ledger
 * ("pinned from this server") or pasted by the user (e.g. from the ledger's
 * published key); the page says which, since a key from the bundle alone
 * proves nothing.
 */
import { h, icon, replace } from '../dom.ts'
import { request } from '../api/request.ts'
import { badge } from '../components.ts'
import type { View } from '../context.ts'
import {
  DEFAULT_MAX_BUNDLE_BYTES,
  findingWhere,
  headline,
  profileLine,
  closeSignatureLine,
  receiptLine,
  refuseSize,
  verifyBundle,
  type CheckResult,
  type EngineName,
  type Headline,
  type VerifyReport,
} from '../../evidence/verify.ts'

interface LedgerJson {
  latestCheckpoint?: { verifierKey?: string } | null
}

function checkItem(c: CheckResult): HTMLLIElement {
  const li = h(
    'li',
    {
      class: c.ok ? 'verify-check is-ok' : 'verify-check is-failed',
      'data-check-id': c.id,
      'data-ok': c.ok ? 'true' : 'false',
    },
    c.ok ? badge('ok', '✓', 'ok') : badge('alarm', '✕', 'failed'),
    ' ',
    h('strong', null, c.title),
    c.summary ? h('span', { class: 'muted' }, ` — ${c.summary}`) : null,
  )
  if (!c.ok && c.failures.length) {
    li.append(
      h(
        'ul',
        { class: 'verify-failures' },
        ...c.failures.slice(0, 20).map((f) => {
          const where = findingWhere(f)
          return h(
            'li',
            { 'data-code': f.code },
            h('span', { class: 'mono' }, f.code),
            where ? ` [${where}]` : '',
            `: ${f.message}`,
          )
        }),
      ),
    )
    if (c.failureCount > 20) li.append(h('p', { class: 'muted small' }, `… and ${c.failureCount - 20} more.`))
  }
  for (const n of c.notes) li.append(h('p', { class: 'muted small' }, `Note: ${n}`))
  return li
}

const TONE: Record<Headline['tone'], { cls: string; glyph: string }> = {
  pass: { cls: 'notice notice-ok', glyph: '✓ ' },
  warn: { cls: 'notice notice-warn', glyph: '▲ ' },
  fail: { cls: 'notice notice-alarm', glyph: '✕ ' },
  unverified: { cls: 'notice notice-alarm notice-unverified', glyph: '⊘ ' },
}

/**
 * The result banner says in one sentence whether the evidence is authentic
 * and what it is evidence of; its colour follows that sentence (a verified
 * FAIL is red, never a green "VERIFIED" beside a red verdict).
 */
function reportView(r: VerifyReport, fileName: string): HTMLElement {
  const hl = headline(r)
  const tone = TONE[hl.tone]
  const head = h(
    'div',
    { class: tone.cls, id: 'verify-result', 'data-result': r.result, 'data-tone': hl.tone, role: 'status' },
    icon(tone.glyph),
    h('strong', { id: 'verify-headline' }, hl.title),
    r.shipmentId ? ` — shipment ${r.shipmentId}` : '',
    h('p', { class: 'small', id: 'verify-detail' }, hl.detail),
  )
  return h(
    'section',
    { class: 'card' },
    head,
    r.provisional
      ? h(
          'p',
          { class: 'notice notice-warn', id: 'verify-provisional' },
          'provisional: shipment still open — the end of its evidence is not anchored until it is closed; verify the bundle downloaded after closing.',
        )
      : null,
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, 'File'),
      h('dd', null, fileName),
      h('dt', null, 'Bundle SHA-256'),
      h('dd', { class: 'mono', id: 'verify-sha256' }, r.bundleSha256 ?? '—'),
      h('dt', null, r.verified ? 'Verdict (recomputed)' : 'Claimed verdict (unproven)'),
      h('dd', { id: 'verify-claimed' }, r.claimed?.verdict ?? '—'),
      r.createdBy ? h('dt', null, r.verified ? 'Created by' : 'Created by (unproven)') : null,
      r.createdBy ? h('dd', { id: 'verify-created-by' }, r.createdBy) : null,
      ...(r.loggers ?? []).flatMap((l) => [
        h('dt', null, `Logger ${l.deviceId}`),
        h(
          'dd',
          { 'data-logger-window': l.deviceId },
          `counts from ${new Date(l.from).toISOString()}${l.until === null ? '' : ` up to ${new Date(l.until).toISOString()} (removed)`}`,
        ),
      ]),
      r.receipt ? h('dt', null, r.verified ? 'Received' : 'Received (unproven)') : null,
      r.receipt ? h('dd', { id: 'verify-receipt' }, receiptLine(r.receipt)) : null,
      r.closeSignature ? h('dt', null, r.verified ? 'Closed' : 'Closed (unproven)') : null,
      r.closeSignature ? h('dd', { id: 'verify-close-signature' }, closeSignatureLine(r.closeSignature)) : null,
      // A partitioned bundle (docs/BUNDLE.md, version 3): the pinned key is the root log's; each partition's checkpoint.
      r.partitions ? h('dt', null, 'Partition logs') : null,
      r.partitions
        ? h(
            'dd',
            { class: 'mono', id: 'verify-partitions' },
            r.partitions.map((p) => `p${p.partition}: ${p.origin ?? '?'} size ${p.size ?? '?'}`).join('; '),
          )
        : null,
      h('dt', null, 'Ledger key'),
      h(
        'dd',
        { class: 'mono' },
        r.ledgerKey.pinned ? `${r.ledgerKey.verifierKey} (${r.ledgerKey.source})` : 'NOT PINNED',
      ),
      h('dt', null, 'Signature engine'),
      h('dd', null, r.engine.used, r.engine.note ? h('span', { class: 'muted small' }, ` (${r.engine.note})`) : null),
    ),
    r.profile ? profileView(r) : null,
    h('ul', { class: 'verify-checks', id: 'verify-checks' }, ...r.checks.map(checkItem)),
  )
}

/** Where the rules come from (built-in by the shipped hash, or whose custom profile) and the rules themselves. */
function profileView(r: VerifyReport): HTMLElement {
  const p = r.profile!
  return h(
    'div',
    { class: 'verify-profile', id: 'verify-profile', 'data-origin': p.origin },
    h('p', null, h('strong', null, 'Rule profile: '), h('span', { id: 'verify-profile-line' }, profileLine(p))),
    p.rules.length
      ? h(
          'p',
          { class: 'muted small' },
          r.verified ? 'Rules that decided the verdict:' : 'Rules in the bundle (unproven):',
        )
      : null,
    p.rules.length ? h('ul', { class: 'small', id: 'verify-rules' }, ...p.rules.map((x) => h('li', null, x))) : null,
  )
}

export const verifyView: View = (root) => {
  let keySource = 'pasted'
  const keyInput = h('input', {
    id: 'verify-key',
    type: 'text',
    class: 'mono',
    spellcheck: 'false',
    autocomplete: 'off',
    placeholder: "name+keyid+base64 (the ledger's published verifier key)",
  })
  const keyNote = h('p', { class: 'muted small', id: 'verify-key-source' }, "Loading this server's ledger key…")
  // Optional: witnesses whose cosignature the checkpoint must carry (docs/BUNDLE.md, "Witness cosignatures").
  const witnessInput = h('textarea', {
    id: 'verify-witnesses',
    class: 'mono',
    rows: '2',
    spellcheck: 'false',
    autocomplete: 'off',
    placeholder: 'witness verifier keys, one per line (optional)',
  })
  const engine = h(
    'select',
    { id: 'verify-engine' },
    h('option', { value: 'webcrypto' }, 'WebCrypto Ed25519 (this browser)'),
    h('option', { value: 'noble' }, '@noble/ed25519 (pure JavaScript)'),
  )
  const file = h('input', { id: 'verify-file', type: 'file', accept: '.json,application/json' })
  const drop = h(
    'div',
    { class: 'card', id: 'verify-drop', tabindex: '0' },
    h('p', null, h('strong', null, 'Drop an evidence bundle here'), ' or choose the file:'),
    file,
    h('p', { class: 'muted small' }, 'The file is read and checked in this browser. Nothing is uploaded.'),
  )
  const out = h('div', { id: 'verify-out', 'aria-live': 'polite' })
  let alive = true

  keyInput.addEventListener('input', () => {
    keySource = 'pasted'
    keyNote.textContent = keyInput.value.trim()
      ? 'Key pasted by you.'
      : 'No key: the result will be NOT VERIFIED (a key inside the bundle proves nothing).'
  })

  async function check(f: File): Promise<void> {
    replace(out, h('p', { class: 'loading', id: 'verify-progress' }, `Verifying ${f.name}…`))
    const progress = out.querySelector('#verify-progress')!
    try {
      // Refused before the file is read into memory (docs/BUNDLE.md, "Hostile input").
      const big = refuseSize(f.size, DEFAULT_MAX_BUNDLE_BYTES)
      if (big) {
        replace(
          out,
          h(
            'div',
            { class: 'notice notice-alarm', id: 'verify-result', 'data-result': 'REFUSED' },
            h('strong', null, 'Not checked: '),
            `${big.code}: ${big.message}`,
          ),
        )
        return
      }
      const bytes = new Uint8Array(await f.arrayBuffer())
      const key = keyInput.value.trim()
      const r = await verifyBundle(bytes, {
        trustedKey: key || undefined,
        trustedKeySource: keySource === 'server' ? 'pinned from this server' : 'pasted',
        witnesses: witnessInput.value
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean),
        engine: engine.value as EngineName,
        onProgress: (p) => {
          progress.textContent = `Verifying ${f.name}: ${p.phase} ${p.done}/${p.total}…`
        },
      })
      if (alive) replace(out, reportView(r, f.name))
    } catch (e) {
      if (alive)
        replace(
          out,
          h(
            'div',
            { class: 'notice notice-alarm', id: 'verify-result', 'data-result': 'ERROR' },
            `The verifier stopped: ${(e as Error).message}`,
          ),
        )
    }
  }

  file.addEventListener('change', () => {
    if (file.files?.[0]) void check(file.files[0])
  })
  drop.addEventListener('dragover', (ev) => {
    ev.preventDefault()
  })
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault()
    const f = ev.dataTransfer?.files?.[0]
    if (f) void check(f)
  })

  replace(
    root,
    h(
      'div',
      { class: 'page-head' },
      h(
        'div',
        null,
        h('h1', null, 'Verify an evidence bundle'),
        h(
          'p',
          { class: 'muted' },
          "Check a shipment's evidence offline, in this browser, without trusting this server: every reading signature, each device chain, the inclusion proofs against the signed checkpoint, the rule profile hash, and the verdict recomputed from the readings.",
        ),
      ),
    ),
    h(
      'section',
      { class: 'card' },
      h(
        'div',
        { class: 'form-grid' },
        h('div', { class: 'form-row' }, h('label', { for: keyInput.id }, 'Trusted ledger key'), keyInput, keyNote),
        h('div', { class: 'form-row' }, h('label', { for: witnessInput.id }, 'Required witnesses'), witnessInput),
        h('div', { class: 'form-row' }, h('label', { for: engine.id }, 'Signature engine'), engine),
      ),
    ),
    drop,
    out,
  )

  request<LedgerJson>('GET', '/api/ledger')
    .then((l) => {
      const k = l.latestCheckpoint?.verifierKey
      if (!alive || keyInput.value.trim()) return
      if (k) {
        keyInput.value = k
        keySource = 'server'
        keyNote.textContent =
          'Pinned from this server. To trust nothing of this server, paste the ledger key you obtained separately.'
      } else {
        keyNote.textContent = 'This server has no signed checkpoint yet; paste the ledger key.'
      }
    })
    .catch(() => {
      keyNote.textContent = "Could not read this server's ledger key; paste it."
    })

  return () => {
    alive = false
  }
}
