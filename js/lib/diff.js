// @ts-check
/**
 * Word-level diff of the two responses (jsdiff), rendered as text nodes only: the diff view
 * never interprets markup, so it needs no sanitizing.
 */
import { diffWordsWithSpace } from "diff";

const MAX_DIFF_CHARS = 60_000;

/**
 * Fill `left` and `right` with the word diff of `a` → `b`: words only in `a` are marked
 * removed on the left, words only in `b` added on the right.
 * @param {HTMLElement} left
 * @param {HTMLElement} right
 * @param {string} a
 * @param {string} b
 */
export function renderDiff(left, right, a, b) {
  left.replaceChildren();
  right.replaceChildren();
  if (a.length + b.length > MAX_DIFF_CHARS) {
    left.textContent = a;
    right.textContent = b;
    const note = "(too long to diff)";
    left.prepend(mark("pl-diff-note", note + "\n"));
    right.prepend(mark("pl-diff-note", note + "\n"));
    return;
  }
  for (const part of diffWordsWithSpace(a, b)) {
    if (part.added) right.append(mark("pl-ins", part.value));
    else if (part.removed) left.append(mark("pl-del", part.value));
    else {
      left.append(document.createTextNode(part.value));
      right.append(document.createTextNode(part.value));
    }
  }
}

/** @param {string} cls @param {string} text */
function mark(cls, text) {
  const el = document.createElement(cls === "pl-ins" ? "ins" : cls === "pl-del" ? "del" : "span");
  el.className = cls;
  el.textContent = text;
  return el;
}
