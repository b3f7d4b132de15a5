// @ts-check
/**
 * Syntax highlighting with highlight.js core and the languages model answers use most.
 * Only fences that name a known language are highlighted (auto-detection is too slow to do
 * for every pair); highlight.js escapes the text it wraps in spans.
 */
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import go from "highlight.js/lib/languages/go";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";

const LANGS = { bash, c, cpp, go, java, javascript, json, python, rust, sql, typescript, xml, yaml };
for (const [name, lang] of Object.entries(LANGS)) hljs.registerLanguage(name, lang);
hljs.configure({ ignoreUnescapedHTML: true });

const MAX_CODE = 50_000;

/**
 * The token kinds labeler.css colours (`.hljs-<kind>`; a test keeps the two in step). Spans
 * of hljs's other scopes (params, punctuation, attr, operator …) are unwrapped: each would
 * cost a layout object and paint for no colour, and code is most of a code-heavy pair's
 * elements (60 of 420 spans in bench/labeler.py's pairs are `hljs-params`).
 */
export const STYLED_TOKENS = new Set([
  "keyword", "built_in", "string", "comment", "number", "literal", "title", "function",
]);

/** Whether a highlight span gets a colour from labeler.css. @param {Element} span */
function styled(span) {
  for (const cls of span.classList) if (cls.startsWith("hljs-") && STYLED_TOKENS.has(cls.slice(5))) return true;
  return false;
}

/**
 * Highlight one `<code>` element in place if its `language-x` class names a known language.
 * @param {HTMLElement} code
 */
export function highlightCode(code) {
  const cls = [...code.classList].find((c) => c.startsWith("language-"));
  const lang = cls ? cls.slice("language-".length).toLowerCase() : "";
  const text = code.textContent || "";
  if (!lang || !hljs.getLanguage(lang) || text.length > MAX_CODE) return;
  code.innerHTML = hljs.highlight(text, { language: lang, ignoreIllegals: true }).value;
  for (const span of code.querySelectorAll("span")) if (!styled(span)) span.replaceWith(...span.childNodes);
  code.normalize();
  code.classList.add("hljs");
}
