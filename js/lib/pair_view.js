// @ts-check
/**
 * Builds the DOM of one pair (prompt conversation + two responses) ahead of time. Markdown,
 * sanitizing and highlighting happen here, off the keypress path; the word diff is built
 * lazily the first time a pair is shown in diff mode.
 */
import { renderMarkdown } from "./markdown.js";
import { renderDiff } from "./diff.js";

/** @typedef {import("./protocol.js").Item} Item */

/**
 * @param {string} tag @param {string} [cls] @param {string} [text]
 * @returns {HTMLElement}
 */
export function h(tag, cls, text) {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  if (text !== undefined) el.textContent = text;
  return el;
}

/** @param {string} text */
export function lengths(text) {
  const words = text.trim() ? text.trim().split(/\s+/).length : 0;
  return `${text.length.toLocaleString()} chars · ${words.toLocaleString()} words`;
}

/**
 * @param {"left" | "right"} side @param {string} text @param {string} letter
 * @param {(() => void)[]} steps receives the markdown rendering, to run later
 */
function pane(side, text, letter, steps) {
  const sec = h("section", `pl-pane pl-${side}`);
  sec.setAttribute("aria-label", `${side} response`);
  const head = h("header", "pl-pane-head");
  head.append(
    h("span", "pl-pane-title", side === "left" ? "Left (1 / ←)" : "Right (2 / →)"),
    h("span", "pl-len", lengths(text)),
  );
  const body = h("div", "pl-body");
  body.tabIndex = -1;
  const md = h("div", "pl-md");
  steps.push(() => renderMarkdown(md, text));
  const raw = h("pre", "pl-raw", text);
  const diff = h("pre", "pl-diffview");
  body.append(md, raw, diff);
  sec.append(head, body);
  sec.dataset.letter = letter;
  return sec;
}

const VERDICT_TEXT = { tie: "tie", both_bad: "both bad", skip: "skip" };

/**
 * Adjudication: each annotator's verdict (named by the side it is on now), strength, note.
 * @param {Item} item
 */
function votesView(item) {
  const box = h("div", "pl-votes");
  box.append(h("span", "pl-votes-title", "Annotators disagree:"));
  for (const v of item.votes ?? []) {
    const side = v.label === item.shown[0] ? "left" : v.label === item.shown[1] ? "right" : null;
    const what = side ?? VERDICT_TEXT[/** @type {"tie" | "both_bad" | "skip"} */ (v.label)] ?? v.label;
    const vote = h("span", "pl-vote");
    vote.dataset.annotator = v.annotator;
    vote.append(h("b", "", v.annotator), ` ${what}${v.strength ? ` (${v.strength})` : ""}`);
    if (v.note) vote.append(h("span", "pl-vote-note", ` “${v.note}”`));
    box.append(vote);
  }
  return box;
}

/**
 * Build the node of `item` with its markdown still to render: the returned steps (one per
 * turn or response) render it, so pre-rendering can yield to input between them.
 * @param {Item} item
 * @returns {{ node: HTMLElement, steps: (() => void)[] }}
 */
export function pairSkeleton(item) {
  /** @type {(() => void)[]} */
  const steps = [];
  const root = h("div", "pl-pair");
  root.dataset.pos = String(item.pos);
  root.dataset.pairId = item.pair_id;
  if (item.error) root.append(h("div", "pl-row-error", item.error));
  if (item.votes?.length) root.append(votesView(item));
  const prompt = h("div", "pl-prompt");
  for (const turn of item.prompt) {
    const md = h("div", "pl-md");
    steps.push(() => renderMarkdown(md, turn.content));
    if (turn.role === "system") {
      const det = /** @type {HTMLDetailsElement} */ (h("details", "pl-turn pl-role-system"));
      const sum = h("summary", "pl-role", `system prompt · ${lengths(turn.content)}`);
      det.append(sum, md);
      prompt.append(det);
    } else {
      const div = h("div", `pl-turn pl-role-${turn.role === "user" ? "user" : "other"}`);
      div.append(h("div", "pl-role", turn.role), md);
      prompt.append(div);
    }
  }
  const panes = h("div", "pl-panes");
  panes.append(
    pane("left", item.left, item.shown[0], steps),
    pane("right", item.right, item.shown[1], steps),
  );
  root.append(prompt, panes);
  return { node: root, steps };
}

/**
 * Render `item` into a detached node, all at once.
 * @param {Item} item
 * @returns {HTMLElement}
 */
export function renderPair(item) {
  const { node, steps } = pairSkeleton(item);
  for (const step of steps) step();
  return node;
}

/**
 * Fill the diff views of a rendered pair once.
 * @param {HTMLElement} node @param {Item} item
 */
export function ensureDiff(node, item) {
  if (node.dataset.diffed) return;
  const views = node.querySelectorAll(".pl-diffview");
  renderDiff(/** @type {HTMLElement} */ (views[0]), /** @type {HTMLElement} */ (views[1]), item.left, item.right);
  node.dataset.diffed = "1";
}
