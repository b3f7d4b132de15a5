// @ts-check
/**
 * TeX math in responses: `$…$`, `$$…$$`, `\(…\)` and `\[…\]`, typeset with the bundled KaTeX.
 *
 * Markdown is parsed with math cut out first (a marked extension), so `_` and `*` inside TeX
 * are not emphasis. The math becomes an inert placeholder character pair in the HTML; the
 * HTML is sanitized; only then is each placeholder replaced by KaTeX's output. KaTeX runs
 * with `trust: false`, so `\href`, `\url`, `\htmlClass`, `\htmlStyle`, `\includegraphics`…
 * render as plain error text, never as links, classes, styles or images; sizes and macro
 * expansion are bounded. Its fonts are inlined in the bundle (see js/build.mjs), so typeset
 * math loads nothing.
 *
 * Currency stays text: an opening `$` must be followed by a non-space, a closing `$`
 * preceded by a non-space and not followed by a digit (pandoc's rule), so "$5 and $10" is
 * not math.
 *
 * Example: `renderMath(el)` after `el.innerHTML = sanitize(marked.parse(text))`.
 */
import katex from "katex";
import katexCss from "katex-inline.css";

/** Start and end of a placeholder: private-use characters, stripped from input first. */
const OPEN = "\uE000";
const CLOSE = "\uE001";
const PRIVATE = /[\uE000\uE001]/g;
const MAX_TEX = 4_000;

/** @typedef {{ tex: string, display: boolean }} Formula */

/** @type {Formula[]} the formulas of the markdown being rendered (see `collectMath`) */
let formulas = [];

/**
 * Start collecting the formulas of one markdown text; returns the text with placeholder
 * characters neutralized so a response cannot forge one.
 * @param {string} text
 */
export function beginMath(text) {
  formulas = [];
  return text.replace(PRIVATE, "\uFFFD");
}

/** The formulas collected since `beginMath`, handed over once. */
export function takeMath() {
  const out = formulas;
  formulas = [];
  return out;
}

/** @param {string} tex @param {boolean} display */
function placeholder(tex, display) {
  formulas.push({ tex, display });
  return `${OPEN}${formulas.length - 1}${CLOSE}`;
}

// `$$…$$` and `\[…\]` alone on their lines: a block, so markdown never sees their insides
// (a line starting with `-` or `+` inside display math is not a list).
const BLOCK = /^ {0,3}(?:\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\])[ \t]*(?:\n+|$)/;
const INLINE = [
  { re: /^\$\$(?!\$)([\s\S]+?)\$\$/, display: true },
  { re: /^\\\[([\s\S]+?)\\\]/, display: true },
  { re: /^\\\(([\s\S]+?)\\\)/, display: false },
  // Not after a word character or digit ("US$5"), content never starts or ends with a
  // space, the closer is not followed by a digit: currency is text.
  { re: /^\$(?![\s$])((?:\\[\s\S]|[^\\$\n]|\n(?!\n))+?)(?<![\s\\])\$(?![\d$])/, display: false },
];

/** @type {import("marked").MarkedExtension} */
export const mathExtension = {
  extensions: [
    {
      name: "mathBlock",
      level: "block",
      start(src) {
        const m = /^ {0,3}(?:\$\$|\\\[)/m.exec(src);
        return m ? m.index : undefined;
      },
      tokenizer(src) {
        const m = BLOCK.exec(src);
        if (!m) return undefined;
        return { type: "mathBlock", raw: m[0], text: (m[1] ?? m[2]).trim() };
      },
      renderer(token) {
        return `<p>${placeholder(token.text, true)}</p>\n`;
      },
    },
    {
      name: "mathInline",
      level: "inline",
      start(src) {
        const m = /\$|\\[([]/.exec(src);
        return m ? m.index : undefined;
      },
      tokenizer(src, tokens) {
        // "US$5": a `$` glued to a preceding letter or digit is currency.
        const prev = tokens.length ? tokens[tokens.length - 1].raw.slice(-1) : "";
        for (const { re, display } of INLINE) {
          const m = re.exec(src);
          if (!m) continue;
          if (!display && src[0] === "$" && /[\p{L}\p{N}]/u.test(prev)) return undefined;
          return { type: "mathInline", raw: m[0], text: m[1].trim(), display };
        }
        return undefined;
      },
      renderer(token) {
        return placeholder(token.text, token.display);
      },
    },
  ],
};

/** @type {import("katex").KatexOptions} */
const OPTIONS = {
  throwOnError: false,
  trust: false,
  strict: "ignore",
  maxSize: 20,
  maxExpand: 300,
  output: "htmlAndMathml",
};

/**
 * Replace the placeholders under `root` (already sanitized HTML) with typeset `found`.
 * @param {HTMLElement} root @param {Formula[]} found
 */
export function renderMath(root, found) {
  if (!found.length) return;
  ensureMathStyle();
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  /** @type {Text[]} */
  const hits = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (/** @type {Text} */ (n).data.includes(OPEN)) hits.push(/** @type {Text} */ (n));
  }
  for (const node of hits) {
    const parts = node.data.split(/\uE000(\d+)\uE001/);
    const frag = document.createDocumentFragment();
    parts.forEach((part, i) => {
      if (i % 2 === 0) {
        if (part) frag.append(part);
        return;
      }
      const formula = found[Number(part)];
      if (formula) frag.append(typeset(formula));
    });
    node.replaceWith(frag);
  }
}

/** @param {Formula} formula */
function typeset({ tex, display }) {
  const span = document.createElement("span");
  span.className = display ? "pl-math pl-math-display" : "pl-math";
  if (tex.length > MAX_TEX) {
    span.textContent = display ? `$$${tex}$$` : `$${tex}$`;
    return span;
  }
  try {
    katex.render(tex, span, { ...OPTIONS, displayMode: display });
  } catch {
    // KaTeX's own limits (macro expansion) throw even with throwOnError off: show the TeX.
    span.replaceChildren(display ? `$$${tex}$$` : `$${tex}$`);
  }
  return span;
}

let styleUsers = 0;

/**
 * KaTeX's stylesheet (fonts inlined) in the document, once for every view: it is ~400 KB, so
 * it goes in when the first formula is typeset, not with every widget.
 */
export function ensureMathStyle() {
  if (document.querySelector("style[data-prefnb-katex]")) return;
  const style = document.createElement("style");
  style.dataset.prefnbKatex = "";
  style.textContent = katexCss;
  document.head.append(style);
}

/** Count a view that may typeset math (its `release` removes the stylesheet with the last). */
export function holdMathStyle() {
  styleUsers += 1;
  return () => {
    styleUsers -= 1;
    if (styleUsers <= 0) {
      styleUsers = 0;
      document.querySelector("style[data-prefnb-katex]")?.remove();
    }
  };
}
