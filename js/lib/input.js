// @ts-check
/**
 * Keyboard and pointer input of the Labeler: keys become actions (keys.js), buttons carry
 * `data-action`, checkboxes `data-toggle`; focus goes back to the widget so keys keep
 * working. Every action goes to `app.run`.
 *
 * Example: `const input = new Input(app); input.bind();`
 */
import { actionFor, isTyping } from "./keys.js";
import { isAction } from "./vocab.js";

export class Input {
  /** @param {import("./app.js").LabelerApp} app */
  constructor(app) {
    this.app = app;
    this.syncBusy = false;
    this.onKey = this.onKey.bind(this);
    this.onEditorKey = this.onEditorKey.bind(this);
    this.onClick = this.onClick.bind(this);
    this.onChange = this.onChange.bind(this);
    this.onScroll = this.onScroll.bind(this);
  }

  /** Listen on the widget's root (removed with it) and on the editors. */
  bind() {
    const { root, editBox, noteBox } = this.app.ui;
    root.addEventListener("keydown", this.onKey);
    root.addEventListener("click", this.onClick);
    root.addEventListener("change", this.onChange);
    root.addEventListener("scroll", this.onScroll, true);
    editBox.addEventListener("keydown", this.onEditorKey);
    noteBox.addEventListener("keydown", this.onEditorKey);
  }

  /** @param {KeyboardEvent} event */
  onKey(event) {
    // Keys pressed in the widget are the widget's: the notebook must not see them either.
    event.stopPropagation();
    if (event.target === this.app.ui.jumpInput && event.key === "Enter") {
      event.preventDefault();
      this.app.run("jump");
      return;
    }
    if (isTyping(event.target)) return;
    const action = actionFor(event);
    if (!action) return;
    event.preventDefault();
    if (this.app.state.state === "help" && action !== "help" && action !== "close") return;
    this.app.run(action);
  }

  /** @param {KeyboardEvent} event */
  onEditorKey(event) {
    const kind = this.app.editors.kindOf(event.currentTarget);
    if (!kind) return;
    if (event.key === "Escape") {
      event.preventDefault();
      this.app.labeling.closeEditor(kind, false);
    } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      this.app.labeling.closeEditor(kind, true);
    }
  }

  /** @param {MouseEvent} event */
  onClick(event) {
    const target = /** @type {HTMLElement} */ (event.target);
    const btn = target.closest("[data-action]");
    if (btn instanceof HTMLElement && this.app.ui.root.contains(btn)) {
      const action = btn.dataset.action ?? "";
      if (isAction(action)) this.app.run(action);
      if (!isTyping(document.activeElement) && action !== "help") this.app.ui.root.focus({ preventScroll: true });
      return;
    }
    if (!isTyping(target) && !target.closest("summary, label, .pl-body")) this.app.ui.root.focus({ preventScroll: true });
  }

  /** @param {Event} event */
  onChange(event) {
    const input = /** @type {HTMLInputElement} */ (event.target);
    const name = input.dataset.toggle;
    if (!name) return;
    this.app.nav.setToggle(name, input.checked);
    this.app.ui.root.focus({ preventScroll: true });
  }

  /** @param {Event} event */
  onScroll(event) {
    if (!this.app.syncing || this.syncBusy) return;
    const body = event.target;
    if (!(body instanceof HTMLElement) || !body.classList.contains("pl-body")) return;
    this.syncBusy = true; // the scrolls this causes come back here
    this.app.stage.syncScroll(body);
    requestAnimationFrame(() => {
      this.syncBusy = false;
    });
  }
}
