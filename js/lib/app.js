// @ts-check
/**
 * The Labeler controller, one per rendered view: wiring and dispatch. Kernel messages and
 * DOM events come in here and go to the part that owns them:
 *
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
import { actionFor, isTyping } from "./keys.js";
import { Rate } from "./progress.js";
import { renderMarkdown } from "./markdown.js";
import { AfterPaint } from "./ticks.js";
import { Stage } from "./stage.js";
import { Cursor } from "./cursor.js";
import { Writes } from "./writes.js";
import { Editors } from "./editors.js";
import { Chrome } from "./chrome.js";
import { Interaction } from "./interaction.js";
import { isAction, verdictOf } from "./vocab.js";

/** @typedef {import("./protocol.js").Item} Item */
/** @typedef {import("./protocol.js").KernelMessage} KernelMessage */
/** @typedef {import("./protocol.js").BrowserMessage} BrowserMessage */
/** @typedef {import("./protocol.js").LabelerModel} Model */
/** @typedef {import("./stage.js").Entry} Entry */
/** @typedef {import("./cursor.js").Landing} Landing */
/** @typedef {import("./vocab.js").Action} Action */

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
    this.stage = new Stage(this.ui, {
      cursor: () => this.cursor.pos,
      isLive: (entry) => this.cursor.isLive(entry),
      entries: () => this.cache.entries.values(),
    });
    this.writes = new Writes({
      post: (msg) => this.model.send(msg),
      timeoutMs: () => this.model.get("reply_timeout_ms"),
      onChange: () => this.updateChrome(),
      onStall: () =>
        this.chrome.say("No reply from the kernel yet: this label is not confirmed saved (is the kernel busy or dead?). Sending it again.", true),
      onSendFailed: (msg, reason) => this.sendFailed(msg, reason),
    });
    this.editors = new Editors(this.ui, {
      entryAt: (pos) => this.cache.entries.get(pos) ?? null,
      save: (kind, item, text) => this.saveText(kind, item, text),
      focusRoot: () => this.ui.root.focus({ preventScroll: true }),
    });
    this.syncBusy = false;
    this.onMsg = this.onMsg.bind(this);
    this.onGuidelines = this.onGuidelines.bind(this);
    this.onKey = this.onKey.bind(this);
    this.onClick = this.onClick.bind(this);
    this.onChange = this.onChange.bind(this);
    this.onScroll = this.onScroll.bind(this);
    this.onEditorKey = this.onEditorKey.bind(this);
  }

  mount() {
    const { root } = this.ui;
    this.el.append(root);
    this.model.on("msg:custom", this.onMsg);
    this.model.on("change:guidelines", this.onGuidelines);
    root.addEventListener("keydown", this.onKey);
    root.addEventListener("click", this.onClick);
    root.addEventListener("change", this.onChange);
    root.addEventListener("scroll", this.onScroll, true);
    this.ui.editBox.addEventListener("keydown", this.onEditorKey);
    this.ui.noteBox.addEventListener("keydown", this.onEditorKey);
    this.onGuidelines();
    this.send({ type: "hello", view: this.view });
  }

  destroy() {
    // Queued writes go out now: a label must not die with the view.
    this.writes.close();
    this.after.close();
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
        this.jumpTo(msg.cursor, false, msg);
        if (msg.notice) this.chrome.say(msg.notice);
        break;
      case "items": {
        this.fetches.delete(msg.req);
        const added = this.cache.apply(msg);
        if (added) this.stage.queue(added);
        if (this.state.base === "loading") this.land(this.cursor.settle());
        this.pump();
        break;
      }
      case "saved":
        this.writes.saved(msg.seq);
        if (this.writes.healthy() && this.chrome.sayingError) this.chrome.say("");
        this.stats = msg.stats;
        this.updateChrome();
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
        this.jumpTo(msg.cursor, true);
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

  // --- moving ----------------------------------------------------------------------------

  /**
   * @param {number} pos
   * @param {boolean} explicit a jump the user asked for
   * @param {{ items: Item[], end: number }} [first] the window ahead of `pos`, if known
   */
  jumpTo(pos, explicit, first) {
    // A jump names one pair; showing it must not depend on the filter.
    if (explicit && this.cache.unlabeledOnly) this.setToggle("unlabeled", false, false);
    this.editors.keep(); // while the pair being edited is still in the cache
    this.cursor.jump(pos);
    this.stage.clearQueue();
    this.land(pos >= this.cache.total ? "done" : "loading");
    if (first && !this.cache.unlabeledOnly) {
      this.cache.pending[1] = pos - 1;
      const reply = { type: /** @type {const} */ ("items"), view: this.view, req: 0, anchor: pos - 1, direction: /** @type {const} */ (1) };
      const added = this.cache.apply({ ...reply, unlabeled_only: false, items: first.items, end: first.end });
      if (added) this.stage.queue(added);
      this.land(this.cursor.settle());
    }
    this.pump();
  }

  /** @param {1 | -1} direction */
  move(direction) {
    const landing = this.cursor.move(direction);
    if (landing === "first") this.chrome.say("This is the first pair.");
    this.land(landing);
    if (landing !== "pair") this.pump();
  }

  /**
   * Show where a move landed, and enter the matching state.
   * @param {Landing} landing
   */
  land(landing) {
    if (landing === "pair") this.paint();
    else if (landing === "loading" || landing === "done") {
      // "Loading…" already on screen stays: repainting it would prune the stage again.
      if (landing === "done" || this.ui.root.dataset.state !== "loading") this.placeholder(landing);
      this.state.fire(landing === "done" ? "end" : "wait");
    }
  }

  // --- painting ------------------------------------------------------------------------------

  paint() {
    const entry = this.cursor.current();
    if (!entry) return;
    const settle = this.stage.show(entry);
    const { root } = this.ui;
    root.dataset.pos = String(entry.item.pos);
    root.dataset.pairId = entry.item.pair_id;
    root.dataset.state = "pair";
    this.shownAt = performance.now();
    this.editors.keep();
    this.editors.close();
    this.state.fire("show");
    this.updatePairLine();
    // Counters, window upkeep and pre-rendering wait until the frame showing this pair is
    // painted: work queued before it (shelving a node costs its layout) would delay it.
    this.after.run(() => {
      if (this.destroyed) return;
      settle();
      this.updateChrome();
      // The heavier upkeep (laying out the next shelved pair) goes one task later, behind
      // anything else waiting on this frame, input included.
      setTimeout(() => {
        this.stage.painted();
        if (this.destroyed) return;
        this.cache.evict(this.cursor.pos);
        this.stage.prune();
        this.pump();
        this.stage.schedule();
      }, 0);
    });
  }

  /** @param {"loading" | "done"} state */
  placeholder(state) {
    // No pair is shown, so an open editor has nothing to save into: keep its text now.
    this.editors.keep();
    this.editors.close();
    this.stage.showPlaceholder(state);
    const { root } = this.ui;
    root.dataset.state = state;
    delete root.dataset.pos;
    delete root.dataset.pairId;
    this.updateChrome();
  }

  updateChrome() {
    this.chrome.progress(this.stats, this.rate.perMinute());
    this.chrome.saved(this.writes.state(), this.writes.failed.size > 0);
    this.updatePairLine();
    this.chrome.strength(this.strength);
  }

  updatePairLine() {
    const entry = this.cursor.current();
    this.chrome.pairLine(this.cursor.pos, this.cache.total, entry && !entry.item.audit ? entry.item : null);
  }

  // --- actions ----------------------------------------------------------------------------

  /** @param {import("./vocab.js").Choice} choice */
  verdict(choice) {
    const entry = this.cursor.current();
    if (!entry || !this.state.canLabel) return;
    const { item } = entry;
    const verdict = verdictOf(choice, item.shown);
    const seq = this.writes.nextSeq();
    const duration = Math.round(performance.now() - this.shownAt);
    const { pair_id, pos, shown, audit } = item;
    this.write({ type: "label", view: this.view, seq, pair_id, pos, verdict, shown, strength: this.strength, audit, duration_ms: duration });
    this.rate.tick();
    this.cursor.labeled(entry);
    if (!audit) {
      // An edit rewrote the previously preferred response; the store drops it for a new side.
      if (item.label !== verdict) item.edited = null;
      item.label = verdict;
      item.strength = this.strength;
    }
    this.strength = null;
    this.chrome.say("");
    if (this.state.state === "choosing-side" && (verdict === "a" || verdict === "b") && !audit) {
      this.state.fire("edit-chosen");
      this.updateChrome();
      this.editors.open("edit", item);
      return;
    }
    this.land(this.cursor.advance());
  }

  undo() {
    const last = this.cursor.unlabel();
    if (!last) {
      this.chrome.say("Nothing to undo in this session.");
      return;
    }
    this.write({ type: "undo", view: this.view, seq: this.writes.nextSeq(), pair_id: last.pair_id, pos: last.pos });
    const entry = this.cache.entries.get(last.pos);
    if (entry) {
      entry.item.label = null;
      entry.item.strength = null;
      this.cursor.parkAudit(1);
      this.cursor.pos = last.pos;
      this.paint();
    } else {
      this.jumpTo(last.pos, true);
    }
    this.chrome.say("Undone.");
  }

  /** @param {import("./protocol.js").LabelRequest | import("./protocol.js").UndoRequest | import("./protocol.js").EditRequest | import("./protocol.js").NoteRequest} msg */
  write(msg) {
    this.writes.write(msg);
    this.chrome.saving();
    this.after.run(() => this.updateChrome());
  }

  /**
   * Store an edit (the preferred response rewritten) or a note for `item`.
   * @param {"edit" | "note"} kind @param {Item} item @param {string} text
   */
  saveText(kind, item, text) {
    const base = { view: this.view, seq: this.writes.nextSeq(), pair_id: item.pair_id, pos: item.pos };
    if (kind === "edit") {
      item.edited = text;
      this.write({ type: "edit", ...base, edited_preferred: text });
    } else {
      item.note = text;
      this.write({ type: "note", ...base, note: text });
    }
  }

  /** @param {"edit" | "note"} kind */
  openEditor(kind) {
    const entry = this.cursor.current();
    if (!entry || (entry.item.audit && kind === "edit")) return;
    if (this.editors.open(kind, entry.item)) {
      this.state.fire("open-editor");
    } else if (this.state.fire("want-edit")) {
      this.chrome.say("Which response is better? Press 1/← or 2/→, then edit it.");
    }
  }

  /** @param {"edit" | "note"} kind @param {boolean} save */
  closeEditor(kind, save) {
    const entry = this.cursor.current();
    if (save) {
      if (!this.editors.save(kind, entry && entry.item)) return;
      this.updateChrome();
    } else {
      this.editors.cancel(kind);
    }
    const moveOn = this.state.state === "editing-then-next";
    this.state.fire("close-editor");
    if (moveOn) this.land(this.cursor.advance());
  }

  /** Escape outside an editor: closes the help, or drops a pending "edit which side". */
  escape() {
    if (this.state.state === "help") return this.help(false);
    this.editors.discard(); // Escape discards, as inside the editor
    this.editors.close();
    this.state.fire("escape");
  }

  /** @param {boolean} open */
  help(open) {
    if (this.state.fire(open ? "help" : "help-close")) this.chrome.help(open);
  }

  /**
   * Turn a view toggle on or off (its checkbox, or its key).
   * @param {string} name @param {boolean} on @param {boolean} [refetch] (the filter only)
   */
  setToggle(name, on, refetch = true) {
    this.chrome.toggle(name, on);
    if (name === "diff" && on) this.stage.ensureDiff(this.cursor.current());
    else if (name === "sync") this.syncing = on;
    else if (name === "unlabeled") {
      this.cache.unlabeledOnly = on;
      if (!refetch) return;
      const keep = this.cursor.current();
      this.cache.reset(this.cursor.pos);
      if (keep && !keep.item.audit) this.cache.entries.set(keep.item.pos, keep);
      this.cache.hi = this.cursor.pos + 1;
      this.pump();
    }
  }

  /** @param {Action} action */
  run(action) {
    switch (action) {
      case "left":
      case "right":
      case "tie":
      case "both_bad":
      case "skip":
        return this.verdict(action);
      case "undo":
        return this.undo();
      case "next":
        return this.move(1);
      case "prev":
        return this.move(-1);
      case "edit":
      case "note":
        return this.openEditor(action);
      case "help":
        return this.help(this.state.state !== "help");
      case "help-close":
        return this.help(false);
      case "close":
        return this.escape();
      case "edit-save":
      case "note-save":
      case "edit-cancel":
      case "note-cancel": {
        const [kind, what] = /** @type {["edit" | "note", string]} */ (action.split("-"));
        return this.closeEditor(kind, what === "save");
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
        return this.setToggle(name, !this.chrome.isOn(name));
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

  // --- DOM events -------------------------------------------------------------------------

  /** @param {KeyboardEvent} event */
  onKey(event) {
    // Keys pressed in the widget are the widget's: the notebook must not see them either.
    event.stopPropagation();
    if (event.target === this.ui.jumpInput && event.key === "Enter") {
      event.preventDefault();
      this.run("jump");
      return;
    }
    if (isTyping(event.target)) return;
    const action = actionFor(event);
    if (!action) return;
    event.preventDefault();
    if (this.state.state === "help" && action !== "help" && action !== "close") return;
    this.run(action);
  }

  /** @param {KeyboardEvent} event */
  onEditorKey(event) {
    const kind = this.editors.kindOf(event.currentTarget);
    if (!kind) return;
    if (event.key === "Escape") {
      event.preventDefault();
      this.closeEditor(kind, false);
    } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      this.closeEditor(kind, true);
    }
  }

  /** @param {MouseEvent} event */
  onClick(event) {
    const target = /** @type {HTMLElement} */ (event.target);
    const btn = target.closest("[data-action]");
    if (btn instanceof HTMLElement && this.ui.root.contains(btn)) {
      const action = btn.dataset.action ?? "";
      if (isAction(action)) this.run(action);
      if (!isTyping(document.activeElement) && action !== "help") this.ui.root.focus({ preventScroll: true });
      return;
    }
    if (!isTyping(target) && !target.closest("summary, label, .pl-body")) this.ui.root.focus({ preventScroll: true });
  }

  /** @param {Event} event */
  onChange(event) {
    const input = /** @type {HTMLInputElement} */ (event.target);
    const name = input.dataset.toggle;
    if (!name) return;
    this.setToggle(name, input.checked);
    this.ui.root.focus({ preventScroll: true });
  }

  /** @param {Event} event */
  onScroll(event) {
    if (!this.syncing || this.syncBusy) return;
    const body = event.target;
    if (!(body instanceof HTMLElement) || !body.classList.contains("pl-body")) return;
    this.syncBusy = true; // the scrolls this causes come back here
    this.stage.syncScroll(body);
    requestAnimationFrame(() => {
      this.syncBusy = false;
    });
  }
}
