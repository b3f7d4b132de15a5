// @ts-check
/**
 * Keyboard map of the Labeler: one table gives every key, the action it runs and its line
 * in the help overlay. Plain keys only act when focus is inside the widget and not in a
 * text box; the widget root carries `data-lm-suppress-shortcuts` so JupyterLab's command
 * keymap (which listens in the capture phase) leaves these keys alone.
 *
 * Example: `actionFor(new KeyboardEvent("keydown", { key: "1" }))` is `"left"`.
 */
import { STRENGTHS } from "./vocab.js";

/** @typedef {import("./vocab.js").Action} Action */
/**
 * @typedef {{ keys: string[], shown: string, action: Action | null, what: string }} Binding
 * `action: null` rows are shown in the help but handled elsewhere (the editors' own keys).
 */

/** @type {{ title: string, rows: Binding[] }[]} */
export const BINDINGS = [
  {
    title: "Verdict (then the next pair)",
    rows: [
      { keys: ["1", "ArrowLeft"], shown: "1 / ←", action: "left", what: "left is better" },
      { keys: ["2", "ArrowRight"], shown: "2 / →", action: "right", what: "right is better" },
      { keys: ["t"], shown: "t", action: "tie", what: "tie" },
      { keys: ["b"], shown: "b", action: "both_bad", what: "both bad" },
      { keys: ["s", " "], shown: "s / space", action: "skip", what: "skip" },
    ],
  },
  {
    title: "Strength (before the verdict; press again to clear)",
    rows: STRENGTHS.map((s, i) => ({
      keys: [String(i + 3)],
      shown: String(i + 3),
      action: /** @type {Action} */ (`strength-${s}`),
      what: s,
    })),
  },
  {
    title: "Move and fix",
    rows: [
      { keys: ["j"], shown: "j", action: "next", what: "next pair" },
      { keys: ["k"], shown: "k", action: "prev", what: "previous pair" },
      { keys: ["u", "Backspace"], shown: "u / Backspace", action: "undo", what: "undo the last label" },
      { keys: ["e"], shown: "e", action: "edit", what: "edit the better response" },
      { keys: ["n"], shown: "n", action: "note", what: "note on this pair" },
      { keys: [], shown: "Ctrl+Enter / Esc", action: null, what: "save / cancel an edit or note" },
      { keys: ["g"], shown: "g", action: "goto", what: "go to a pair_id or #row (type, then Enter)" },
    ],
  },
  {
    title: "View",
    rows: [
      { keys: ["r"], shown: "r", action: "toggle-raw", what: "raw text on / off" },
      { keys: ["d"], shown: "d", action: "toggle-diff", what: "diff of the two responses on / off" },
      { keys: ["l"], shown: "l", action: "toggle-sync", what: "sync scrolling of the two sides" },
      { keys: ["f"], shown: "f", action: "toggle-unlabeled", what: "unlabeled pairs only (imported labels count as labeled)" },
      { keys: ["?"], shown: "?", action: "help", what: "this help" },
      { keys: ["Escape"], shown: "Esc", action: "close", what: "close this help, an editor" },
    ],
  },
];

/** @type {Map<string, Action>} */
const KEYMAP = new Map();
for (const group of BINDINGS) {
  for (const row of group.rows) for (const key of row.keys) if (row.action) KEYMAP.set(key, row.action);
}

/**
 * The action for a keydown, or null when the widget should not handle it.
 * @param {KeyboardEvent} event
 * @returns {Action | null}
 */
export function actionFor(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  if (isTyping(event.target)) return null;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  return KEYMAP.get(key) ?? null;
}

/**
 * True when the event target is a place where keys are text.
 * @param {EventTarget | null} target
 */
export function isTyping(target) {
  if (typeof HTMLElement === "undefined" || !(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    const type = /** @type {HTMLInputElement} */ (target).type;
    return !["button", "checkbox", "radio", "submit", "reset"].includes(type);
  }
  return false;
}
