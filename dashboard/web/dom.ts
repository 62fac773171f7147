/**
 * The only way the UI builds DOM. Text goes in through textContent and
 * attributes through setAttribute, never through innerHTML, so a string from a
 * device or a user (a product name, a comment, a device id) can never become
 * markup: there is nothing to escape and nothing to forget to escape.
 * Text and attribute values also show control and bidirectional formatting
 * characters as "[U+202E]" (dashboard/common/unsafe-text.ts): a right-to-left
 * override in a product name would otherwise reverse what follows it on
 * screen. Line breaks and tabs stay (the signed note is shown in a <pre>).
 */
import { showUnsafe } from '../common/unsafe-text.ts'

const visible = (s: string) => showUnsafe(s, { keepLines: true })

export type Child = Node | string | number | null | undefined | false
export type Attrs = Record<string, string | number | boolean | null | undefined>

/**
 * Creates an element. `attrs` keys are attribute names (class, href, data-*,
 * aria-*); `true` sets an empty attribute, false/null/undefined skips it.
 * Children that are strings or numbers become text nodes.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === false || v === null || v === undefined) continue
      // Event handlers and styles never come in as attributes (CSP forbids inline code and styles).
      if (/^on/i.test(k) || k === 'style')
        throw new TypeError(`attribute "${k}" is not allowed; use addEventListener or a CSS class`)
      el.setAttribute(k, v === true ? '' : visible(String(v)))
    }
  }
  append(el, ...children)
  return el
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue
    parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(visible(String(c))) : c)
  }
}

/** Replaces all children of `el`. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren()
  append(el, ...children)
}

export function $(selector: string, root: ParentNode = document): HTMLElement {
  const el = root.querySelector<HTMLElement>(selector)
  if (!el) throw new Error(`element ${selector} not found`)
  return el
}

/** An SVG-free icon: a span with an aria-hidden glyph, so status never relies on colour alone. */
export function icon(glyph: string, cls = 'icon'): HTMLSpanElement {
  return h('span', { class: cls, 'aria-hidden': 'true' }, glyph)
}
