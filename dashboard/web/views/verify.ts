/**
 * Verify: the offline evidence-bundle verifier runs here, in the browser, on a
 * bundle file the user picks. The verifier itself (dashboard's pure bundle
 * verifier) is built by the verification issue and mounts into #verify-root;
 * until it exists this page says so plainly and verifies nothing.
 */
import { h, replace } from '../dom.ts'
import type { View } from '../context.ts'

export const verifyView: View = (root) => {
  replace(root,
    h('div', { class: 'page-head' }, h('div', null,
      h('h1', null, 'Verify an evidence bundle'),
      h('p', { class: 'muted' }, 'Check a shipment\'s evidence offline, in this browser, without trusting this server.'))),
    h('div', { id: 'verify-root', class: 'placeholder' },
      h('p', null, h('strong', null, 'The in-browser verifier is not installed yet.')),
      h('p', null, 'It will check every reading\'s signature, each device\'s chain, the inclusion proofs against the signed checkpoint, and recompute the verdict from the rule profile.'),
      h('p', { class: 'muted small' }, 'Nothing is verified on this page until then. Download a shipment\'s evidence bundle from its page to keep it for later.')),
  )
}
