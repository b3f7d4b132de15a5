// @ts-check
/**
 * The widget's chrome around the pair: the progress line, the "saved" mark and Retry, the
 * status line, this pair's own line (your label, the imported label, edited, note), which
 * verdict and strength buttons are pressed, and the help overlay's modality.
 *
 * Writes only what changed where it runs on the keypress path (`pairLine`).
 *
 * Example:
 *   const chrome = new Chrome(ui);
 *   chrome.say("Undone.");
 *   chrome.progress(stats, rate.perMinute());
 */
import { progressText } from "./progress.js";
import { VERDICT_NAMES, choiceOf, sideOf } from "./vocab.js";

/** @typedef {import("./protocol.js").Item} Item */
/** @typedef {import("./writes.js").SaveState} SaveState */
/** @typedef {ReturnType<typeof import("./layout.js").buildLayout>} UI */

const SAVED_TEXT = {
  error: "⚠ not saved",
  stalled: "⚠ not confirmed",
  saving: "saving…",
  saved: "✓ saved",
  idle: "",
};

export class Chrome {
  /** @param {UI} ui */
  constructor(ui) {
    this.ui = ui;
  }

  /** @param {import("./protocol.js").Stats} stats @param {number | null} rate */
  progress(stats, rate) {
    // Every write, even of the same text, relayouts the widget's ancestors (the whole
    // notebook in JupyterLab): this runs after every paint and every reply.
    const text = progressText(stats, rate);
    if (this.ui.progress.textContent !== text) this.ui.progress.textContent = text;
  }

  /** @param {SaveState} state @param {boolean} retry whether Retry is offered */
  saved(state, retry) {
    const { saved } = this.ui;
    if (saved.dataset.state !== state) saved.dataset.state = state;
    if (saved.textContent !== SAVED_TEXT[state]) saved.textContent = SAVED_TEXT[state];
    if (this.ui.retry.hidden === retry) this.ui.retry.hidden = !retry;
  }

  /**
   * The mark turns to "saving…" with the key, never showing a stale "✓ saved" meanwhile:
   * two attribute/text writes on one small span.
   */
  saving() {
    const { saved } = this.ui;
    if (saved.dataset.state !== "saving" && saved.dataset.state !== "error") {
      saved.dataset.state = "saving";
      saved.textContent = SAVED_TEXT.saving;
    }
  }

  /** @param {string} text @param {boolean} [error] */
  say(text, error = false) {
    // Called with "" on every verdict, on the keypress path: write only a change.
    if (this.ui.status.textContent !== text) this.ui.status.textContent = text;
    if (this.ui.status.classList.contains("pl-error") !== error) this.ui.status.classList.toggle("pl-error", error);
  }

  /** Whether the saved mark shows a warning now ("not saved", "not confirmed"). */
  get warnsSaved() {
    const state = this.ui.saved.dataset.state;
    return state === "error" || state === "stalled";
  }

  /** Whether the status line shows an error now. */
  get sayingError() {
    return this.ui.status.classList.contains("pl-error");
  }

  /** @param {import("./vocab.js").Strength | null} strength */
  strength(strength) {
    for (const b of this.ui.root.querySelectorAll(".pl-strength .pl-btn")) {
      const on = String(/** @type {HTMLElement} */ (b).dataset.action === `strength-${strength}`);
      if (b.getAttribute("aria-pressed") !== on) b.setAttribute("aria-pressed", on);
    }
  }

  /**
   * Position, this pair's own line and its verdict button pressed: shown in the same frame
   * as the pair, so only what changed is written.
   * @param {number} pos @param {number} total @param {Item | null} item (null: an audit or no pair)
   * @param {"after" | "never" | "before"} [showJudge] when an LLM judge's verdict is shown
   */
  pairLine(pos, total, item, showJudge = "after") {
    const { position, current } = this.ui;
    const where = pos >= 0 && pos < total ? `pair #${pos + 1}` : "";
    if (position.textContent !== where) position.textContent = where;
    const parts = [];
    if (item && item.label) {
      parts.push(`your label: ${sideOf(item.label, item.shown) ?? VERDICT_NAMES[item.label]}${item.strength ? ` (${item.strength})` : ""}`);
    }
    if (item && item.imported && item.imported !== item.label) {
      const was = `imported label: ${sideOf(item.imported, item.shown) ?? VERDICT_NAMES[item.imported]}`;
      parts.push(item.label ? `overrules ${was}` : was);
    }
    if (item && item.edited !== null) parts.push("edited");
    if (item && item.note) parts.push(`note: ${item.note.slice(0, 80)}`);
    // An LLM judge's verdict: only once the person has voted, unless show_judge="before",
    // so it cannot anchor them. Text only: the rationale is untrusted model output.
    const judge = item && item.judge;
    if (item && judge && judge.label && (showJudge === "before" || (showJudge === "after" && item.label))) {
      const side = sideOf(judge.label, item.shown) ?? VERDICT_NAMES[judge.label];
      parts.push(`judge: ${side}${judge.rationale ? ` (${judge.rationale.slice(0, 120)})` : ""}`);
    }
    const line = parts.join(" · ");
    if (current.textContent !== line) current.textContent = line;
    const pressed = item && item.label ? choiceOf(item.label, item.shown) : null;
    const imported = item && item.imported && !item.label ? choiceOf(item.imported, item.shown) : null;
    for (const b of /** @type {HTMLCollectionOf<HTMLElement>} */ (this.ui.verdicts.children)) {
      const on = String(b.dataset.action === pressed);
      if (b.getAttribute("aria-pressed") !== on) b.setAttribute("aria-pressed", on);
      const mark = b.dataset.action === imported;
      if (b.classList.contains("pl-imported") !== mark) b.classList.toggle("pl-imported", mark);
    }
  }

  /**
   * Open or close the help: modal inside the widget, so everything else is inert (no
   * clicks, no Tab stops) while it is open.
   * @param {boolean} open
   */
  help(open) {
    const { help, root } = this.ui;
    help.hidden = !open;
    root.classList.toggle("pl-help-open", open);
    for (const child of root.children) {
      if (child !== help && child instanceof HTMLElement && child.tagName !== "STYLE") child.inert = open;
    }
    if (open) /** @type {HTMLElement} */ (help.querySelector("[data-action=help-close]")).focus({ preventScroll: true });
    else root.focus({ preventScroll: true });
  }

  /**
   * Set a view toggle's checkbox and the root's mode class (raw and diff exclude each other).
   * @param {string} name @param {boolean} on
   */
  toggle(name, on) {
    const box = this.toggleBox(name);
    if (box) box.checked = on;
    if (name === "raw" || name === "diff") {
      this.ui.root.classList.toggle(`pl-mode-${name}`, on);
      const other = name === "raw" ? "diff" : "raw";
      if (on) this.toggle(other, false);
    }
  }

  /** @param {string} name */
  toggleBox(name) {
    return /** @type {HTMLInputElement | null} */ (this.ui.root.querySelector(`[data-toggle="${name}"]`));
  }

  /** @param {string} name */
  isOn(name) {
    return Boolean(this.toggleBox(name)?.checked);
  }
}
