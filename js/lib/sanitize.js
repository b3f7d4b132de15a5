// @ts-check
/**
 * Sanitizing untrusted HTML (model responses rendered from markdown) with DOMPurify.
 *
 * Policy: an allow-list of text-formatting tags only. Nothing that can run script, submit,
 * embed or fetch survives: no script/style/iframe/object/embed/form/input/svg/math/img/
 * video/audio/link/meta/base, no event handlers, no `style`, `id`, `name` or `data-*`
 * attributes (the latter three enable DOM clobbering). Links keep their text but lose
 * `href` (the URL moves to `title`), so nothing in a response can navigate either; images
 * become a text placeholder in the markdown renderer before sanitizing.
 */
import DOMPurify from "dompurify";

const ALLOWED_TAGS = [
  "a", "abbr", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4",
  "h5", "h6", "hr", "i", "kbd", "li", "mark", "ol", "p", "pre", "s", "samp", "small",
  "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u",
  "ul",
];
const ALLOWED_ATTR = ["title", "class", "align", "start", "colspan", "rowspan"];

/** @type {ReturnType<typeof DOMPurify> | null} */
let purifier = null;

function getPurifier() {
  if (purifier) return purifier;
  const p = DOMPurify(window);
  p.addHook("uponSanitizeAttribute", (_node, data) => {
    if (data.attrName === "class") {
      // Only code-fence language tags and our inert image placeholder: a response must not
      // borrow the UI's classes (a fake verdict button, an overlay).
      const kept = data.attrValue
        .split(/\s+/)
        .filter((c) => c === "pl-img" || /^language-[\w+#.-]{1,30}$/.test(c));
      data.attrValue = kept.join(" ");
      data.keepAttr = kept.length > 0;
    }
  });
  p.addHook("afterSanitizeAttributes", (node) => {
    if (node.tagName === "A") {
      node.classList.add("pl-link");
    }
  });
  p.addHook("uponSanitizeAttribute", (node, data) => {
    if (data.attrName === "href" && node.tagName === "A") {
      const url = data.attrValue.trim();
      if (!node.getAttribute("title")) node.setAttribute("title", url.slice(0, 300));
      data.keepAttr = false;
    }
  });
  purifier = p;
  return p;
}

/**
 * Sanitize `html` into inert markup (a string safe for innerHTML).
 * @param {string} html
 * @returns {string}
 */
export function sanitize(html) {
  return getPurifier().sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR: [...ALLOWED_ATTR, "href"],
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
    ALLOW_UNKNOWN_PROTOCOLS: false,
    SAFE_FOR_TEMPLATES: false,
    WHOLE_DOCUMENT: false,
    RETURN_TRUSTED_TYPE: false,
  });
}
