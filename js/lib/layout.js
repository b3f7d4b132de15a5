// @ts-check
/**
 * The widget's chrome: toolbar, guidelines, stage for the pair, verdict bar, editors and
 * the help overlay. Every action has a button; the buttons carry `data-action`.
 */
import { h } from "./pair_view.js";
import { BINDINGS } from "./keys.js";
import { STRENGTHS } from "./vocab.js";

/** @typedef {import("./vocab.js").Action} Action */

/**
 * @param {Action} action @param {string} label @param {string} [key] @param {string} [cls]
 */
function button(action, label, key, cls) {
  const b = /** @type {HTMLButtonElement} */ (h("button", `pl-btn ${cls || ""}`.trim()));
  b.type = "button";
  b.dataset.action = action;
  b.append(document.createTextNode(label));
  if (key) b.append(h("kbd", "pl-kbd", key));
  b.title = key ? `${label} (${key})` : label;
  return b;
}

/** @param {string} name @param {string} label @param {string} key */
function toggle(name, label, key) {
  const lab = h("label", "pl-toggle");
  lab.title = `${label} (${key})`;
  const input = /** @type {HTMLInputElement} */ (h("input"));
  input.type = "checkbox";
  input.dataset.toggle = name;
  lab.append(input, document.createTextNode(label), h("kbd", "pl-kbd", key));
  return lab;
}

/** The help overlay: every key, from the key table, over a backdrop that covers the widget. */
function helpOverlay() {
  const backdrop = h("div", "pl-help-backdrop");
  backdrop.hidden = true;
  const help = h("div", "pl-help");
  help.setAttribute("role", "dialog");
  help.setAttribute("aria-modal", "true");
  help.setAttribute("aria-label", "keyboard shortcuts");
  const head = h("div", "pl-help-head");
  head.append(h("h3", "", "Keyboard"), button("help-close", "Close", "Esc"));
  const groups = h("div", "pl-help-groups");
  for (const group of BINDINGS) {
    const sec = h("section", "pl-help-group");
    const table = h("table");
    for (const row of group.rows) {
      const tr = h("tr");
      tr.append(h("td", "pl-help-key", row.shown), h("td", "", row.what));
      table.append(tr);
    }
    sec.append(h("h4", "", group.title), table);
    groups.append(sec);
  }
  help.append(head, groups);
  backdrop.append(help);
  return backdrop;
}

/** @param {"edit" | "note"} kind @param {string} title */
function editor(kind, title) {
  const box = h("div", `pl-editor pl-editor-${kind}`);
  box.hidden = true;
  const ta = /** @type {HTMLTextAreaElement} */ (h("textarea", "pl-textarea"));
  ta.dataset.editor = kind;
  ta.setAttribute("aria-label", title);
  const bar = h("div", "pl-editor-bar");
  bar.append(
    h("span", "pl-editor-title", title),
    button(`${kind}-save`, "Save", "Ctrl+Enter", "pl-primary"),
    button(`${kind}-cancel`, "Cancel", "Esc"),
  );
  box.append(bar, ta);
  return box;
}

export function buildLayout() {
  const root = h("div", "prefnb-labeler");
  root.tabIndex = 0;
  // Lumino (JupyterLab) skips its keymap for events inside this attribute's element.
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  root.setAttribute("role", "application");
  root.setAttribute("aria-label", "Preference labeler: 1 left, 2 right, ? for help");

  const top = h("div", "pl-top");
  const progress = h("span", "pl-progress", "…");
  const position = h("span", "pl-position", "");
  const saved = h("span", "pl-saved", "");
  saved.dataset.state = "idle";
  saved.setAttribute("aria-live", "polite");
  const retry = button("retry", "Retry saving");
  retry.hidden = true;
  const jumpInput = /** @type {HTMLInputElement} */ (h("input", "pl-jump"));
  jumpInput.placeholder = "pair_id or #row (g)";
  jumpInput.setAttribute("aria-label", "jump to pair_id or #row");
  const toggles = h("span", "pl-toggles");
  toggles.append(
    toggle("raw", "raw", "r"),
    toggle("diff", "diff", "d"),
    toggle("sync", "sync scroll", "l"),
    toggle("unlabeled", "unlabeled only", "f"),
  );
  const hint = h("span", "pl-focus-hint", "click here or Tab in to use the keys");
  top.append(progress, position, saved, retry, hint, toggles, jumpInput, button("jump", "Go"), button("help", "Help", "?"));

  const guidelines = /** @type {HTMLDetailsElement} */ (h("details", "pl-guidelines"));
  guidelines.append(h("summary", "", "Guidelines"), h("div", "pl-md pl-guidelines-body"));
  guidelines.hidden = true;

  // This pair's own label line and the status sit in the controls' row, beside the buttons:
  // rows of their own, reserved so nothing jumps when a message appears, were a blank band
  // under the toolbar most of the time.
  const lines = h("div", "pl-lines");
  const current = h("span", "pl-current", "");
  const status = h("span", "pl-status");
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  lines.append(current, status);
  const stage = h("div", "pl-stage");
  stage.append(h("div", "pl-placeholder pl-loading", "Loading…"));

  const verdicts = h("div", "pl-verdicts");
  verdicts.append(
    button("left", "← Left better", "1", "pl-primary"),
    button("tie", "Tie", "t"),
    button("both_bad", "Both bad", "b"),
    button("skip", "Skip", "s"),
    button("right", "Right better →", "2", "pl-primary"),
  );
  for (const b of verdicts.children) b.setAttribute("aria-pressed", "false");
  const strength = h("div", "pl-strength");
  strength.append(h("span", "pl-muted", "strength:"));
  STRENGTHS.forEach((s, i) => {
    const b = button(/** @type {Action} */ (`strength-${s}`), s, String(i + 3));
    b.setAttribute("aria-pressed", "false");
    strength.append(b);
  });
  const more = h("div", "pl-more");
  more.append(
    button("undo", "Undo", "u"),
    button("prev", "Prev", "k"),
    button("next", "Next", "j"),
    button("edit", "Edit better", "e"),
    button("note", "Note", "n"),
  );
  const controls = h("div", "pl-controls");
  controls.append(verdicts, strength, more, lines);

  const editBox = editor("edit", "Edit the better response (saved as edited_preferred; the original is kept)");
  const noteBox = editor("note", "Note on this pair");

  const help = helpOverlay();

  root.append(top, guidelines, controls, stage, editBox, noteBox, help);
  return {
    root, progress, position, saved, retry, jumpInput, guidelines, status, current, stage,
    verdicts, editBox, noteBox, help,
  };
}
