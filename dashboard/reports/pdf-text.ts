/**
 * Text in the PDF report as it was written, or visibly marked where it cannot
 * be. The report embeds Liberation Sans (SIL Open Font License), a TrueType
 * font with Latin, Greek and Cyrillic, from the pdfjs-dist package when it is
 * installed: route names such as "Łódź" or "Plzeň" then print as written.
 * Without it the report falls back to the standard Helvetica, whose
 * WinAnsi encoding covers Western European text only.
 *
 * Every string drawn goes through `safe`: control and bidi characters become
 * "[U+0000]" (a NUL would otherwise end the text run early, a CR/LF start a
 * new line), and each character the font has no glyph for becomes its code
 * point too, "[U+30A4]", so nothing is silently garbled; the report then says
 * so in a footnote.
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { existsSync } from 'node:fs'
import { showUnsafe } from '../common/unsafe-text.ts'

/** The code points WinAnsiEncoding (PDF 32000 Annex D) gives the standard fonts beyond Latin-1. */
const WIN_ANSI_EXTRA = new Set([
  0x20ac, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x017d, 0x2018,
  0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x017e, 0x0178,
])

function liberationSans(): { regular: string; bold: string } | null {
  try {
    const dir = join(dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json')), 'standard_fonts')
    const regular = join(dir, 'LiberationSans-Regular.ttf'),
      bold = join(dir, 'LiberationSans-Bold.ttf')
    return existsSync(regular) && existsSync(bold) ? { regular, bold } : null
  } catch {
    return null
  }
}

export interface ReportFonts {
  regular: string
  bold: string
  /** True when a Unicode TrueType font is embedded, false on the Helvetica fallback. */
  embedded: boolean
  /** `s` made safe to draw with these fonts. */
  safe(s: string): string
  /** Whether `safe` had to mark a character the font cannot show. */
  readonly replaced: boolean
}

/** Registers the report's fonts on `doc` (`standard: true` forces the Helvetica fallback). */
export function reportFonts(doc: PDFKit.PDFDocument, { standard = false } = {}): ReportFonts {
  const lib = standard ? null : liberationSans()
  let covers: (cp: number) => boolean
  if (lib) {
    doc.registerFont('report-regular', lib.regular)
    doc.registerFont('report-bold', lib.bold)
    doc.font('report-regular')
    // pdfkit keeps the fontkit font of an embedded TrueType font as `.font`.
    const ttf = (doc as unknown as { _font: { font: { hasGlyphForCodePoint(cp: number): boolean } } })._font.font
    covers = (cp) => ttf.hasGlyphForCodePoint(cp)
  } else {
    covers = (cp) => (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff) || WIN_ANSI_EXTRA.has(cp)
  }
  let replaced = false
  return {
    regular: lib ? 'report-regular' : 'Helvetica',
    bold: lib ? 'report-bold' : 'Helvetica-Bold',
    embedded: lib !== null,
    get replaced() {
      return replaced
    },
    safe(s) {
      let out = ''
      for (const ch of showUnsafe(s)) {
        const cp = ch.codePointAt(0)!
        if (covers(cp)) out += ch
        else {
          out += `[U+${cp.toString(16).toUpperCase().padStart(4, '0')}]`
          replaced = true
        }
      }
      if (out !== s) replaced = true
      return out
    },
  }
}
