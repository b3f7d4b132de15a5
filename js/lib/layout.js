// @ts-check
/**
 * The widget's chrome: toolbar, guidelines, stage for the pair, verdict bar, editors and
 * the help overlay. Every action has a button; the buttons carry `data-action`.
 */
import { h } from "./pair_view.js";
import { HELP } from "./keys.js";

/**
 * @param {string} action @param {string} label @param {string} [key] @param {string} [cls]
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

/** @param {string} name @param {string} label */
function toggle(name, label) {
  const lab = h("label", "pl-toggle");
  const input = /** @type {HTMLInputElement} */ (h("input"));
  input.type = "checkbox";
  input.dataset.toggle = name;
  lab.append(input, document.createTextNode(label));
  return lab;
}

/** @param {string} kind @param {string} title */
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
  jumpInput.placeholder = "pair_id or #row";
  jumpInput.setAttribute("aria-label", "jump to pair_id or #row");
  const toggles = h("span", "pl-toggles");
  toggles.append(
    toggle("raw", "raw"),
    toggle("diff", "diff"),
    toggle("sync", "sync scroll"),
    toggle("unlabeled", "unlabeled only"),
  );
  const hint = h("span", "pl-focus-hint", "click here or Tab in to use the keys");
  top.append(progress, position, saved, retry, hint, toggles, jumpInput, button("jump", "Go"), button("help", "Help", "?"));

  const guidelines = /** @type {HTMLDetailsElement} */ (h("details", "pl-guidelines"));
  guidelines.append(h("summary", "", "Guidelines"), h("div", "pl-md pl-guidelines-body"));
  guidelines.hidden = true;

  const status = h("div", "pl-status");
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  const current = h("div", "pl-current", "");
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
  const strength = h("div", "pl-strength");
  strength.append(h("span", "pl-muted", "strength:"));
  for (const s of ["slight", "clear", "strong"]) {
    const b = button(`strength-${s}`, s);
    b.setAttribute("aria-pressed", "false");
    strength.append(b);
  }
  const more = h("div", "pl-more");
  more.append(
    button("undo", "Undo", "u"),
    button("prev", "Prev", "k"),
    button("next", "Next", "j"),
    button("edit", "Edit better", "e"),
    button("note", "Note", "n"),
  );
  const controls = h("div", "pl-controls");
  controls.append(verdicts, strength, more);

  const editBox = editor("edit", "Edit the better response (saved as edited_preferred; the original is kept)");
  const noteBox = editor("note", "Note on this pair");

  const help = h("div", "pl-help");
  help.hidden = true;
  help.setAttribute("role", "dialog");
  help.setAttribute("aria-label", "keyboard shortcuts");
  const table = h("table");
  for (const [k, what] of HELP) {
    const tr = h("tr");
    tr.append(h("td", "pl-help-key", k), h("td", "", what));
    table.append(tr);
  }
  help.append(h("h3", "", "Keyboard"), table, button("help-close", "Close", "Esc"));

  root.append(top, guidelines, status, current, controls, stage, editBox, noteBox, help);
  return { root, progress, position, saved, retry, jumpInput, guidelines, status, current, stage, editBox, noteBox, help };
}
