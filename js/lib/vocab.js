// @ts-check
/**
 * The Labeler's vocabularies, once for the front end: verdicts, strengths, their display
 * names, and every action a key or button can run. The Python twin is prefnb/vocab.py;
 * tests/labeler/test_labeler_protocol.py checks that both say the same.
 *
 * Example: `VERDICT_NAMES.both_bad` is `"both bad"`.
 *
 * @typedef {typeof VERDICTS[number]} Verdict
 * @typedef {typeof STRENGTHS[number]} Strength
 * @typedef {typeof CHOICES[number]} Choice a verdict as the annotator sees it (left / right)
 * @typedef {typeof ACTIONS[number]} Action
 */

export const VERDICTS = /** @type {const} */ (["a", "b", "tie", "both_bad", "skip"]);
export const STRENGTHS = /** @type {const} */ (["slight", "clear", "strong"]);

/** @type {Record<Verdict, string>} */
export const VERDICT_NAMES = { a: "A", b: "B", tie: "tie", both_bad: "both bad", skip: "skip" };

/** Verdict buttons and keys name sides, not a/b: the pair's `shown` maps them. */
export const CHOICES = /** @type {const} */ (["left", "right", "tie", "both_bad", "skip"]);

/** Every action of a key or a `data-action` button. */
export const ACTIONS = /** @type {const} */ ([
  ...CHOICES,
  "strength-slight",
  "strength-clear",
  "strength-strong",
  "undo",
  "next",
  "prev",
  "edit",
  "note",
  "goto",
  "jump",
  "help",
  "help-close",
  "close",
  "edit-save",
  "edit-cancel",
  "note-save",
  "note-cancel",
  "retry",
  "toggle-raw",
  "toggle-diff",
  "toggle-sync",
  "toggle-unlabeled",
]);

/** @param {string} name @returns {name is Action} */
export function isAction(name) {
  return /** @type {readonly string[]} */ (ACTIONS).includes(name);
}

/**
 * The side a verdict sits on for a pair shown in `shown` order, or null for tie/both
 * bad/skip.
 * @param {Verdict} verdict @param {"ab" | "ba"} shown
 * @returns {"left" | "right" | null}
 */
export function sideOf(verdict, shown) {
  if (verdict === shown[0]) return "left";
  if (verdict === shown[1]) return "right";
  return null;
}

/**
 * The verdict a choice stands for in a pair shown in `shown` order.
 * @param {Choice} choice @param {"ab" | "ba"} shown
 * @returns {Verdict}
 */
export function verdictOf(choice, shown) {
  if (choice === "left") return /** @type {Verdict} */ (shown[0]);
  if (choice === "right") return /** @type {Verdict} */ (shown[1]);
  return choice;
}

/**
 * The choice (button) that shows `verdict` in a pair shown in `shown` order.
 * @param {Verdict} verdict @param {"ab" | "ba"} shown
 * @returns {Choice}
 */
export function choiceOf(verdict, shown) {
  return sideOf(verdict, shown) ?? /** @type {Choice} */ (verdict);
}
