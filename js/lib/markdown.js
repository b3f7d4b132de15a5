// @ts-check
/**
 * Markdown → sanitized, highlighted DOM. Runs ahead of the keypress (see window.js), so
 * its cost is paid while the annotator reads, not between the key and the next paint.
 */
import { Marked } from "marked";
import { sanitize } from "./sanitize.js";
import { highlightCode } from "./highlight.js";
import { beginMath, mathExtension, renderMath, takeMath } from "./math.js";

/** @param {string} s */
export function escapeHtml(s) {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const marked = new Marked({
  gfm: true,
  breaks: false,
  async: false,
  renderer: {
    // Images never load: a remote image is a network request (tracking pixel), a data: one
    // can still be hostile SVG. Show the alt text and the URL as a tooltip instead.
    image({ href, text }) {
      return `<span class="pl-img" title="${escapeHtml(String(href || "").slice(0, 300))}">[image: ${escapeHtml(text || "")}]</span>`;
    },
  },
});
marked.use(mathExtension);

const MAX_MARKDOWN = 200_000;

/**
 * Render untrusted markdown into `target` (replacing its children).
 * @param {HTMLElement} target
 * @param {string} text
 */
export function renderMarkdown(target, text) {
  let html;
  if (text.length > MAX_MARKDOWN) {
    html = `<pre>${escapeHtml(text)}</pre>`;
  } else {
    try {
      html = /** @type {string} */ (marked.parse(beginMath(text)));
    } catch {
      html = `<pre>${escapeHtml(text)}</pre>`;
    }
  }
  // Math is typeset into the sanitized DOM: KaTeX's markup (inline styles, MathML) is ours
  // and would not pass the sanitizer, while the response's own markup never reaches KaTeX.
  const formulas = takeMath();
  target.innerHTML = sanitize(html);
  for (const code of target.querySelectorAll("pre > code")) highlightCode(/** @type {HTMLElement} */ (code));
  renderMath(target, formulas);
}
