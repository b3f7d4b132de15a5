// @ts-check
/**
 * The Labeler controller, one per rendered view: wiring and dispatch. Kernel messages
 * (`onMsg`) and actions from keys and buttons (`run`) come in here and go to the part that
 * owns them:
 *
 *   input.js        keys, clicks and checkboxes → actions (Input)
 *   navigation.js   moving, landing, showing a pair, view toggles (Navigation)
 *   labeling.js     verdicts, undo, edits and notes, Escape, help (Labeling)
 *   window.js       the pairs the browser holds (WindowCache)
 *   cursor.js       where the annotator is, audits, history (Cursor)
 *   stage.js        pre-rendering, shelving and showing pairs (Stage)
 *   writes.js       delivery of labels, undos, edits and notes (Writes)
 *   editors.js      the edit and note editors and their drafts (Editors)
 *   chrome.js       progress, saved mark, status, pair line, help (Chrome)
 *   ticks.js        work deferred until after the next paint (AfterPaint)
 *   interaction.js  the interaction state machine (Interaction)
 *
 * Example: `const app = new LabelerApp(model, el); app.mount(); … app.destroy();`
 */
import { WindowCache } from "./window.js";
import { buildLayout } from "./layout.js";
import { Rate } from "./progress.js";
import { renderMarkdown } from "./markdown.js";
import { AfterPaint, Unless } from "./ticks.js";
import { Stage } from "./stage.js";
import { Cursor } from "./cursor.js";
import { Writes } from "./writes.js";
import { Editors } from "./editors.js";
import { Chrome } from "./chrome.js";
import { Interaction } from "./interaction.js";
import { Navigation } from "./navigation.js";
import { Labeling } from "./labeling.js";
import { Input } from "./input.js";

/** @typedef {import("./protocol.js").KernelMessage} KernelMessage */
/** @typedef {import("./protocol.js").BrowserMessage} BrowserMessage */
/** @typedef {import("./protocol.js").LabelerModel} Model */
/** @typedef {import("./stage.js").Entry} Entry */
/** @typedef {import("./vocab.js").Action} Action */

/**
 * How long a confirmed label's counters may wait for the next keypress's upkeep before they
 * are drawn on their own: under a person's reaction time, over a fast annotator's key gap.
 */
export const CHROME_LATER_MS = 100;

export class LabelerApp {
  /** @param {Model} model @param {HTMLElement} el */
  constructor(model, el) {
    this.model = model;
    this.el = el;
    this.ui = buildLayout();
    this.view = Math.random().toString(36).slice(2) + Date.now().toString(36);
    this.req = 0;
    /** @type {WindowCache<HTMLElement>} */
    this.cache = new WindowCache(model.get("total") || 0);
    this.cursor = new Cursor(this.cache);
    /** @type {Map<number, 1 | -1>} fetches in flight: their direction */
    this.fetches = new Map();
    /** @type {import("./protocol.js").Stats} */
    this.stats = { labeled: 0, imported: 0, total: this.cache.total, counts: {} };
    this.rate = new Rate();
    this.shownAt = performance.now();
    /** @type {import("./vocab.js").Strength | null} */
    this.strength = null;
    this.syncing = false;
    this.destroyed = false;
    this.chrome = new Chrome(this.ui);
    this.state = new Interaction((to) => {
      this.ui.root.dataset.interaction = to;
    });
    this.after = new AfterPaint();
    // A confirmed label's counters wait for the upkeep after the next key (see Unless).
    this.chromeLater = new Unless(() => this.updateChrome(), CHROME_LATER_MS);
    this.stage = new Stage(this.ui, {
      distance: (entry) => this.cursor.distance(entry),
      isLive: (entry) => this.cursor.isLive(entry),
      entries: () => [...this.cache.entries.values(), ...this.cursor.audits.map((a) => a.entry)],
    });
    this.writes = new Writes({
      post: (msg) => this.model.send(msg),
      timeoutMs: () => this.model.get("reply_timeout_ms"),
      onChange: () => this.updateChrome(),
      onStall: () =>
        this.chrome.say("No reply from the kernel yet: this label is not confirmed saved (is the kernel busy or dead?). Sending it again.", true),
      onSendFailed: (msg, reason) => this.sendFailed(msg, reason),
      // After the frame showing the next pair: see Writes.write.
      queueTask: (fn) => this.after.run(fn),
    });
    this.editors = new Editors(this.ui, {
      entryAt: (pos) => this.cache.entries.get(pos) ?? null,
      save: (kind, item, text) => this.labeling.saveText(kind, item, text),
      focusRoot: () => this.ui.root.focus({ preventScroll: true }),
    });
    this.nav = new Navigation(this);
    this.labeling = new Labeling(this);
    this.input = new Input(this);
    this.onMsg = this.onMsg.bind(this);
    this.onGuidelines = this.onGuidelines.bind(this);
  }

  mount() {
    const { root } = this.ui;
    this.el.append(root);
    this.model.on("msg:custom", this.onMsg);
    this.model.on("change:guidelines", this.onGuidelines);
    this.input.bind();
    this.onGuidelines();
    this.send({ type: "hello", view: this.view });
  }

  destroy() {
    // Queued writes go out now: a label must not die with the view.
    this.writes.close();
    this.after.close();
    this.chromeLater.cancel();
    this.destroyed = true;
    this.model.off("msg:custom", this.onMsg);
    this.model.off("change:guidelines", this.onGuidelines);
    this.stage.close();
    this.ui.root.remove();
  }

  // --- kernel ------------------------------------------------------------------------------

  /** @param {BrowserMessage} msg */
  send(msg) {
    this.writes.send(msg);
  }

  /** @param {BrowserMessage} msg @param {string} reason */
  sendFailed(msg, reason) {
    if (this.destroyed) return;
    if ("req" in msg) this.fetchEnded(msg.req);
    const lost = this.writes.failed.size ? ": labels not saved, Retry once it is back" : "";
    this.chrome.say(`Could not reach the kernel (${reason})${lost}.`, true);
    this.updateChrome();
  }

  /** A fetch got its answer or failed: its direction may be asked again. @param {number} req */
  fetchEnded(req) {
    const dir = this.fetches.get(req);
    if (dir === undefined) return;
    this.fetches.delete(req);
    this.cache.pending[dir] = null;
  }

  /** @param {KernelMessage} msg */
  onMsg(msg) {
    if (!msg || typeof msg !== "object" || !("type" in msg)) return;
    if (msg.view !== null && msg.view !== undefined && msg.view !== this.view) return;
    switch (msg.type) {
      case "init":
        this.cache.total = msg.total;
        this.stats = msg.stats;
        this.nav.jumpTo(msg.cursor, false, msg);
        if (msg.notice) this.chrome.say(msg.notice);
        break;
      case "items": {
        this.fetches.delete(msg.req);
        const added = this.cache.apply(msg);
        if (added) this.stage.queue(added);
        if (this.state.base === "loading") this.nav.land(this.cursor.settle());
        this.pump();
        break;
      }
      case "saved":
        this.writes.saved(msg.seq);
        if (this.writes.healthy() && this.chrome.sayingError) this.chrome.say("");
        this.stats = msg.stats;
        // A warning (error line, failed or unconfirmed write) changes now; a plain
        // confirmation can wait for the next key's upkeep.
        if (this.chrome.sayingError || !this.writes.healthy() || this.chrome.warnsSaved) this.updateChrome();
        else this.chromeLater.arm();
        break;
      case "error":
        if (msg.seq !== null) this.writes.refused(msg.seq);
        if (msg.req !== null) this.fetchEnded(msg.req);
        this.chrome.say(msg.message, true);
        this.updateChrome();
        break;
      case "audit": {
        /** @type {Entry} */
        const entry = { item: msg.item, node: null };
        this.cursor.addAudit(entry, msg.after_labels);
        this.stage.queue([entry]);
        break;
      }
      case "jump":
        this.nav.jumpTo(msg.cursor, true);
        break;
    }
  }

  onGuidelines() {
    const text = this.model.get("guidelines") || "";
    const body = /** @type {HTMLElement} */ (this.ui.guidelines.querySelector(".pl-guidelines-body"));
    this.ui.guidelines.hidden = !text;
    renderMarkdown(body, text);
  }

  /** Ask for more pairs where the window is thin. */
  pump() {
    for (const dir of /** @type {const} */ ([1, -1])) {
      const want = this.cache.wants(Math.max(this.cursor.pos, -1), dir);
      if (!want) continue;
      const req = ++this.req;
      this.cache.pending[dir] = want.anchor;
      this.fetches.set(req, dir);
      const { anchor, count } = want;
      this.send({ type: "fetch", view: this.view, req, anchor, direction: dir, count, unlabeled_only: this.cache.unlabeledOnly });
    }
  }

  updateChrome() {
    this.chromeLater.cancel();
    this.chrome.progress(this.stats, this.rate.perMinute());
    this.chrome.saved(this.writes.state(), this.writes.failed.size > 0);
    this.updatePairLine();
    this.chrome.strength(this.strength);
    this.nav.refreshEnd();
  }

  updatePairLine() {
    const entry = this.cursor.current();
    const item = entry && !entry.item.audit ? entry.item : null;
    this.chrome.pairLine(this.cursor.pos, this.cache.total, item, this.model.get("show_judge"));
  }

  /** @param {Action} action */
  run(action) {
    switch (action) {
      case "left":
      case "right":
      case "tie":
      case "both_bad":
      case "skip":
        return this.labeling.verdict(action);
      case "undo":
        return this.labeling.undo();
      case "next":
        return this.nav.move(1);
      case "prev":
        return this.nav.move(-1);
      case "edit":
      case "note":
        return this.labeling.openEditor(action);
      case "help":
        return this.labeling.help(this.state.state !== "help");
      case "help-close":
        return this.labeling.help(false);
      case "close":
        return this.labeling.escape();
      case "edit-save":
      case "note-save":
      case "edit-cancel":
      case "note-cancel": {
        const [kind, what] = /** @type {["edit" | "note", string]} */ (action.split("-"));
        return this.labeling.closeEditor(kind, what === "save");
      }
      case "retry":
        this.writes.retry();
        return this.updateChrome();
      case "jump": {
        const target = this.ui.jumpInput.value.trim();
        if (target) this.send({ type: "goto", view: this.view, req: ++this.req, target });
        return;
      }
      case "goto":
        this.ui.jumpInput.focus();
        return this.ui.jumpInput.select();
      case "toggle-raw":
      case "toggle-diff":
      case "toggle-sync":
      case "toggle-unlabeled": {
        const name = action.slice("toggle-".length);
        return this.nav.setToggle(name, !this.chrome.isOn(name));
      }
      case "strength-slight":
      case "strength-clear":
      case "strength-strong": {
        const s = /** @type {import("./vocab.js").Strength} */ (action.slice("strength-".length));
        this.strength = this.strength === s ? null : s;
        return this.updateChrome();
      }
    }
  }

}
