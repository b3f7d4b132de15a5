// @ts-check
/**
 * Keyboard map of the Labeler. Plain keys only act when focus is inside the widget and not
 * in a text box; the widget root carries `data-lm-suppress-shortcuts` so JupyterLab's
 * command keymap (which listens in the capture phase) leaves these keys alone.
 *
 * @typedef {"left" | "right" | "tie" | "both_bad" | "skip" | "undo" | "next" | "prev" | "edit"
 *   | "note" | "help" | "close"} Action
 */

/** @type {Record<string, Action>} */
const KEYMAP = {
  "1": "left",
  ArrowLeft: "left",
  "2": "right",
  ArrowRight: "right",
  t: "tie",
  b: "both_bad",
  s: "skip",
  " ": "skip",
  u: "undo",
  Backspace: "undo",
  j: "next",
  k: "prev",
  e: "edit",
  n: "note",
  "?": "help",
  Escape: "close",
};

/** The help overlay's rows: keys and what they do. */
export const HELP = [
  ["1 / ←", "left is better"],
  ["2 / →", "right is better"],
  ["t", "tie"],
  ["b", "both bad"],
  ["s / space", "skip"],
  ["u / Backspace", "undo the last label"],
  ["j / k", "next / previous pair"],
  ["e", "edit the better response"],
  ["n", "note on this pair"],
  ["Ctrl+Enter / Esc", "save / cancel an edit or note"],
  ["?", "this help"],
];

/**
 * The action for a keydown, or null when the widget should not handle it.
 * @param {KeyboardEvent} event
 * @returns {Action | null}
 */
export function actionFor(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  if (isTyping(event.target)) return null;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  return KEYMAP[key === "?" ? "?" : key] ?? (event.key === "?" ? "help" : null);
}

/**
 * True when the event target is a place where keys are text.
 * @param {EventTarget | null} target
 */
export function isTyping(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    const type = /** @type {HTMLInputElement} */ (target).type;
    return !["button", "checkbox", "radio", "submit", "reset"].includes(type);
  }
  return false;
}
