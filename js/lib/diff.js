// @ts-check
/**
 * Diff of the two responses (jsdiff), rendered as text nodes only: the diff view never
 * interprets markup, so it needs no sanitizing.
 *
 * A word diff reads well when the two answers share most of their text. When they share
 * little, it is a wall of strike-through, so the view falls back to a line diff and says so.
 *
 * Example: `renderDiff(leftPre, rightPre, "the cat sat", "the dog sat")` marks "cat" removed
 * on the left and "dog" added on the right.
 */
import { diffLines, diffWordsWithSpace } from "diff";

const MAX_DIFF_CHARS = 60_000;
/** Below this share of text in common (of the longer response), a line diff is shown. */
export const MIN_SHARED = 0.4;

/**
 * @typedef {{ value: string, added?: boolean, removed?: boolean }} Part
 * @typedef {{ mode: "words" | "lines" | "none", parts: Part[], shared: number }} DiffPlan
 */

/**
 * Decide how to diff `a` → `b`: by words, by lines (little in common), or not at all (too
 * long). `shared` is the share of the longer text that the word diff found unchanged,
 * ignoring whitespace.
 * @param {string} a @param {string} b
 * @returns {DiffPlan}
 */
export function planDiff(a, b) {
  if (a.length + b.length > MAX_DIFF_CHARS) return { mode: "none", parts: [], shared: 0 };
  const words = diffWordsWithSpace(a, b);
  let same = 0;
  for (const part of words) if (!part.added && !part.removed) same += part.value.replace(/\s+/g, "").length;
  const longer = Math.max(a.replace(/\s+/g, "").length, b.replace(/\s+/g, "").length);
  const shared = longer ? same / longer : 1;
  if (shared >= MIN_SHARED) return { mode: "words", parts: words, shared };
  return { mode: "lines", parts: diffLines(a, b), shared };
}

/**
 * Fill `left` and `right` with the diff of `a` → `b`: text only in `a` is marked removed on
 * the left, text only in `b` added on the right.
 * @param {HTMLElement} left
 * @param {HTMLElement} right
 * @param {string} a
 * @param {string} b
 */
export function renderDiff(left, right, a, b) {
  left.replaceChildren();
  right.replaceChildren();
  const plan = planDiff(a, b);
  if (plan.mode === "none") {
    left.textContent = a;
    right.textContent = b;
    const note = "too long to diff";
    left.prepend(mark("pl-diff-note", note));
    right.prepend(mark("pl-diff-note", note));
    return;
  }
  if (plan.mode === "lines") {
    const note = `little in common (${Math.round(plan.shared * 100)}% of the words): line diff`;
    left.append(mark("pl-diff-note", note));
    right.append(mark("pl-diff-note", note));
  }
  for (const part of plan.parts) {
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
