// @ts-check
/**
 * The Labeler controller: one per rendered view. Owns the window cache, the cursor, the
 * outgoing label queue (pending until the kernel says the store committed) and the keys.
 */
import { WindowCache } from "./window.js";
import { pairSkeleton, ensureDiff, h } from "./pair_view.js";
import { renderMarkdown } from "./markdown.js";
import { buildLayout } from "./layout.js";
import { actionFor, isTyping } from "./keys.js";
import { Rate, progressText } from "./progress.js";
import { CHOICES, VERDICT_NAMES, choiceOf, sideOf, verdictOf } from "./vocab.js";

/** @typedef {import("./protocol.js").Item} Item */
/** @typedef {import("./protocol.js").Verdict} Verdict */
/** @typedef {import("./protocol.js").KernelMessage} KernelMessage */
/** @typedef {import("./protocol.js").BrowserMessage} BrowserMessage */
/**
 * A pair in the window; `node` is its DOM, complete once `steps` is empty.
 * @typedef {{ item: Item, node: HTMLElement | null, steps?: (() => void)[] }} Entry
 */
/** @typedef {import("./protocol.js").LabelerModel} Model */

/** Pairs this close to the cursor wait in the stage, laid out and painted, ready to show. */
const HOT = 2;

export class LabelerApp {
  /** @param {Model} model @param {HTMLElement} el */
  constructor(model, el) {
    this.model = model;
    this.el = el;
    this.ui = buildLayout();
    this.view = Math.random().toString(36).slice(2) + Date.now().toString(36);
    this.req = 0;
    this.seq = 0;
    /** @type {WindowCache<HTMLElement>} */
    this.cache = new WindowCache(model.get("total") || 0);
    this.cursor = -1;
    /** @type {Entry | null} the swap-replay being shown, if any */
    this.auditCurrent = null;
    /** @type {{ entry: Entry, due: number }[]} */
    this.audits = [];
    this.labelsDone = 0;
    /** @type {{ pos: number, pair_id: string }[]} */
    this.history = [];
    /** @type {Map<number, BrowserMessage & { seq: number }>} */
    this.unsaved = new Map();
    /** @type {Set<number>} writes the kernel answered with an error (Retry resends them) */
    this.failed = new Set();
    /** @type {Set<number>} writes with no reply after the timeout (not resent: may be saved) */
    this.stalled = new Set();
    /** @type {Map<number, 1 | -1>} */
    this.fetchReq = new Map();
    /** @type {import("./protocol.js").Stats} */
    this.stats = { labeled: 0, imported: 0, total: this.cache.total, counts: {} };
    this.rate = new Rate();
    this.waiting = true;
    this.shownAt = performance.now();
    /** @type {import("./protocol.js").Strength | null} */
    this.strength = null;
    this.pendingEdit = false;
    this.advanceAfterEdit = false;
    /**
     * The pair and starting text of each open editor: leaving the pair saves a changed draft
     * (only Escape / Cancel discard one), so a verdict clicked mid-edit loses no typing.
     * @type {{ edit: { pos: number, side: string, original: string } | null,
     *          note: { pos: number, side: string, original: string } | null }}
     */
    this.drafts = { edit: null, note: null };
    /** @type {Entry[]} */
    this.renderQueue = [];
    this.renderTimer = 0;
    /** Frames requested by paint() and not yet drawn: pre-rendering waits for them. */
    this.painting = 0;
    /**
     * Heights of the pairs in the stage, as the browser laid them out: showing one sets the
     * stage's height from here instead of reading offsetHeight (a forced layout) on the key.
     * @type {WeakMap<Element, number>}
     */
    this.heights = new WeakMap();
    this.resizer = new ResizeObserver((entries) => {
      for (const entry of entries) {
        const size = entry.borderBoxSize?.[0];
        const height = size ? size.blockSize : /** @type {HTMLElement} */ (entry.target).offsetHeight;
        this.heights.set(entry.target, height);
        if (entry.target.classList.contains("pl-shown")) this.ui.stage.style.height = `${height}px`;
      }
    });
    /** @type {(() => void)[]} work that waits until the frame after a keypress is painted */
    this.afterPaintQueue = [];
    this.afterPaintArmed = false;
    this.afterTick = new MessageChannel();
    this.afterTick.port1.onmessage = () => this.flushAfterPaint();
    /** @type {(() => void)[]} writes waiting for the task after the keypress */
    this.outbox = [];
    this.sendTick = new MessageChannel();
    this.sendTick.port1.onmessage = () => this.flushOutbox();
    this.tick = new MessageChannel();
    this.tick.port1.onmessage = () => this.renderSome();
    this.syncing = false;
    this.syncBusy = false;
    this.destroyed = false;

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
    model_on(this.model, "msg:custom", this.onMsg);
    model_on(this.model, "change:guidelines", this.onGuidelines);
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
    this.flushOutbox();
    this.flushAfterPaint();
    this.destroyed = true;
    this.model.off("msg:custom", this.onMsg);
    this.model.off("change:guidelines", this.onGuidelines);
    this.resizer.disconnect();
    this.tick.port1.onmessage = null;
    this.tick.port1.close();
    this.afterTick.port1.onmessage = null;
    this.afterTick.port1.close();
    this.sendTick.port1.onmessage = null;
    this.sendTick.port1.close();
    this.renderQueue = [];
    this.ui.root.remove();
  }

  /**
   * Remember a write until the kernel confirms it; if no reply comes in time (kernel busy,
   * dead or disconnected, or the message lost on the way) say so instead of showing
   * "saving…" forever, and send it again, waiting twice as long each time. The kernel
   * answers a repeated (view, seq) without storing it twice.
   * @param {number} seq @param {BrowserMessage & { seq: number }} msg
   * @param {number} [wait]
   */
  track(seq, msg, wait) {
    this.unsaved.set(seq, msg);
    const first = this.model.get("reply_timeout_ms") || 10_000;
    const delay = wait ?? first;
    setTimeout(() => {
      if (this.destroyed || this.unsaved.get(seq) !== msg || this.failed.has(seq)) return;
      this.stalled.add(seq);
      this.say("No reply from the kernel yet: this label is not confirmed saved (is the kernel busy or dead?). Sending it again.", true);
      this.updateChrome();
      this.send(msg);
      this.track(seq, msg, Math.min(delay * 2, 8 * first));
    }, delay);
  }

  /** @param {BrowserMessage} msg */
  send(msg) {
    // Messages reach the kernel in the order they were made: queued writes go first.
    if (this.outbox.length) this.flushOutbox();
    this.post(msg);
  }

  /**
   * Hand `msg` to the host. Jupyter's `send` returns a message id (and throws on a closed
   * comm); marimo's returns a promise (each message is an HTTP request) that rejects when the
   * message cannot leave the page, e.g. the server is gone. A write that never left is "not
   * saved" with Retry at once, not "saving…" until the reply timeout, and the failure is
   * neither an uncaught error nor an unhandled rejection.
   * @param {BrowserMessage} msg
   */
  post(msg) {
    /** @type {unknown} */
    let sent;
    try {
      sent = this.model.send(msg);
    } catch (err) {
      // Jupyter throws at once on a closed comm (the kernel restarted under this output).
      this.sendFailed(msg, err);
      return;
    }
    if (sent && typeof (/** @type {any} */ (sent).then) === "function") {
      /** @type {PromiseLike<unknown>} */ (sent).then(undefined, (err) => this.sendFailed(msg, err));
    }
  }

  /** @param {BrowserMessage} msg @param {unknown} err */
  sendFailed(msg, err) {
    if (this.destroyed) return;
    if ("seq" in msg && this.unsaved.has(msg.seq)) {
      this.stalled.delete(msg.seq);
      this.failed.add(msg.seq);
    }
    if ("req" in msg && this.fetchReq.has(msg.req)) {
      const dir = /** @type {1 | -1} */ (this.fetchReq.get(msg.req));
      this.fetchReq.delete(msg.req);
      this.cache.pending[dir] = null;
    }
    const reason = err instanceof Error ? err.message : String(err);
    const lost = this.failed.size ? ": labels not saved, Retry once it is back" : "";
    this.say(`Could not reach the kernel (${reason})${lost}.`, true);
    this.updateChrome();
  }

  /**
   * Run `fn` right after the next frame is painted: a task posted from requestAnimationFrame
   * runs once that frame is drawn. Keeps sending, counters and window upkeep out of the
   * keypress → painted path. A timer backs the frame up: hidden tabs run no frames, and a
   * label must still reach the kernel.
   * @param {() => void} fn
   */
  afterPaint(fn) {
    this.afterPaintQueue.push(fn);
    if (this.afterPaintArmed) return;
    this.afterPaintArmed = true;
    requestAnimationFrame(() => this.afterTick.port2.postMessage(null));
    setTimeout(() => this.flushAfterPaint(), 100);
  }

  flushAfterPaint() {
    if (!this.afterPaintArmed) return;
    this.afterPaintArmed = false;
    const queue = this.afterPaintQueue;
    this.afterPaintQueue = [];
    for (const fn of queue) fn();
  }

  /**
   * Send a write (label, undo, edit, note) in the task right after the key's, in order with
   * earlier writes. Not after the paint: that cost keypress → committed a frame (~11 ms p50
   * in JupyterLab) to save well under a millisecond before the frame, which rarely falls due
   * within that task.
   * @param {number} seq @param {BrowserMessage & { seq: number }} msg
   */
  write(seq, msg) {
    // The mark turns to "saving…" with the key, never showing a stale "✓ saved" meanwhile:
    // two attribute/text writes on one small span.
    this.track(seq, msg);
    const { saved } = this.ui;
    if (saved.dataset.state !== "saving" && saved.dataset.state !== "error") {
      saved.dataset.state = "saving";
      saved.textContent = "saving…";
    }
    this.outbox.push(() => this.post(msg));
    if (this.outbox.length === 1) queueMicrotask(() => this.flushOutbox());
    this.afterPaint(() => this.updateChrome());
  }

  flushOutbox() {
    const queue = this.outbox;
    this.outbox = [];
    for (const fn of queue) fn();
  }

  // --- kernel messages -------------------------------------------------------------------

  /** @param {KernelMessage} msg */
  onMsg(msg) {
    if (!msg || typeof msg !== "object" || !("type" in msg)) return;
    if (msg.view !== null && msg.view !== undefined && msg.view !== this.view) return;
    switch (msg.type) {
      case "init":
        this.cache.total = msg.total;
        this.stats = msg.stats;
        this.jumpTo(msg.cursor, false, msg);
        if (msg.notice) this.say(msg.notice);
        break;
      case "items": {
        this.fetchReq.delete(msg.req);
        const added = this.cache.apply(msg);
        if (added) this.queueRender(added);
        if (this.waiting) this.showCursorOrNext();
        this.pump();
        break;
      }
      case "saved":
        this.unsaved.delete(msg.seq);
        this.failed.delete(msg.seq);
        this.stalled.delete(msg.seq);
        if (!this.stalled.size && !this.failed.size && this.ui.status.classList.contains("pl-error")) this.say("");
        this.stats = msg.stats;
        this.updateChrome();
        break;
      case "error":
        if (msg.seq !== null && this.unsaved.has(msg.seq)) this.failed.add(msg.seq);
        if (msg.req !== null && this.fetchReq.has(msg.req)) {
          const dir = /** @type {1 | -1} */ (this.fetchReq.get(msg.req));
          this.fetchReq.delete(msg.req);
          this.cache.pending[dir] = null;
        }
        this.say(msg.message, true);
        this.updateChrome();
        break;
      case "audit": {
        const entry = { item: msg.item, node: null };
        this.audits.push({ entry, due: this.labelsDone + msg.after_labels });
        this.queueRender([entry]);
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

  // --- window ---------------------------------------------------------------------------

  /** Ask for more pairs where the window is thin. */
  pump() {
    for (const dir of /** @type {const} */ ([1, -1])) {
      const want = this.cache.wants(Math.max(this.cursor, -1), dir);
      if (!want) continue;
      const req = ++this.req;
      this.cache.pending[dir] = want.anchor;
      this.fetchReq.set(req, dir);
      this.send({
        type: "fetch",
        view: this.view,
        req,
        anchor: want.anchor,
        direction: dir,
        count: want.count,
        unlabeled_only: this.cache.unlabeledOnly,
      });
    }
  }

  /** @param {Entry[]} entries */
  queueRender(entries) {
    this.renderQueue.push(...entries);
    this.scheduleRender();
  }

  scheduleRender() {
    if (this.renderTimer || !this.renderQueue.length) return;
    this.renderTimer = 1;
    // A message-channel task, not setTimeout: nested timeouts are clamped to 4 ms.
    this.tick.port2.postMessage(null);
  }

  /**
   * Pre-render in small tasks (one turn or response each), nearest to the cursor first, and
   * yield whenever input is waiting: a keypress never queues behind more than one step.
   */
  renderSome() {
    this.renderTimer = 0;
    if (this.destroyed || !this.renderQueue.length || this.painting) return;
    const scheduling = /** @type {any} */ (navigator).scheduling;
    if (scheduling?.isInputPending?.()) {
      setTimeout(() => this.scheduleRender(), 0);
      return;
    }
    let best = 0;
    for (let i = 1; i < this.renderQueue.length; i++) {
      const d = Math.abs(this.renderQueue[i].item.pos - this.cursor);
      if (d < Math.abs(this.renderQueue[best].item.pos - this.cursor)) best = i;
    }
    const entry = this.renderQueue[best];
    const live =
      this.audits.some((a) => a.entry === entry) || this.cache.entries.get(entry.item.pos) === entry;
    if (!live) {
      this.renderQueue.splice(best, 1);
    } else {
      if (!entry.node) {
        const { node, steps } = pairSkeleton(entry.item);
        entry.node = node;
        entry.steps = steps;
      }
      const step = entry.steps?.shift();
      if (step) step();
      if (!entry.steps?.length) {
        this.renderQueue.splice(best, 1);
        if (this.ui.root.classList.contains("pl-mode-diff")) ensureDiff(entry.node, entry.item);
        if (this.shelve(entry.node)) this.layOut([entry.node]);
      }
    }
    this.scheduleRender();
  }

  /**
   * The entry's finished node (rendering whatever pre-rendering has not done yet).
   * @param {Entry} entry
   */
  prepare(entry) {
    if (!entry.node) {
      const { node, steps } = pairSkeleton(entry.item);
      entry.node = node;
      entry.steps = steps;
    }
    for (const step of entry.steps ?? []) step();
    entry.steps = [];
    if (this.ui.root.classList.contains("pl-mode-diff")) ensureDiff(entry.node, entry.item);
    return entry.node;
  }

  /**
   * Put a finished node in the stage, hidden: the browser computes its style and layout
   * while the annotator reads, so showing it later is a class flip, not a fresh layout.
   * @param {HTMLElement} node
   * @returns {boolean} whether the node was added to the stage
   */
  shelve(node) {
    if (node.parentNode === this.ui.stage) return false;
    if (Math.abs(Number(node.dataset.pos) - this.cursor) > HOT) return false;
    node.classList.add("pl-pending");
    node.classList.remove("pl-shown");
    node.inert = true;
    this.ui.stage.append(node);
    this.resizer.observe(node);
    return true;
  }

  /**
   * Lay out newly shelved pairs now, in this task (right after a paint, or a pre-render
   * step that checked for pending input), instead of in whichever frame comes next: that
   * frame may be the one answering the next keypress (a 4 KB pair's first layout took up
   * to 21 ms inside a loaded JupyterLab). One read after all appends: one layout.
   * @param {HTMLElement[]} nodes
   */
  layOut(nodes) {
    for (const node of nodes) this.heights.set(node, node.offsetHeight);
  }

  /**
   * Pairs are absolutely placed (so their layout survives being shown); the stage takes
   * the shown pair's height (the resize observer keeps it current: details opened, resize).
   * @param {HTMLElement | null} node
   */
  fitStage(node) {
    if (!node) {
      this.ui.stage.style.height = "";
      return;
    }
    // A shelved pair's height is known from its layout; only a pair that was never laid
    // out (shown before pre-rendering reached it) costs a forced layout here.
    const height = this.heights.get(node) ?? node.offsetHeight;
    this.ui.stage.style.height = `${height}px`;
    this.resizer.observe(node);
  }

  /** Keep only the pairs next to the cursor on the shelf; the rest wait detached. */
  prune() {
    for (const child of [...this.ui.stage.children]) {
      const el = /** @type {HTMLElement} */ (child);
      // The shown pair and the shown placeholder ("Loading…", the done screen) stay: paint()
      // and paintPlaceholder() replace them. Pruning a placeholder here blanked the done
      // screen when a previous paint's deferred upkeep ran after it.
      if (el.classList.contains("pl-shown") || el.classList.contains("pl-placeholder")) continue;
      if (Math.abs(Number(el.dataset.pos) - this.cursor) > HOT) {
        this.resizer.unobserve(el);
        el.remove();
      }
    }
    /** @type {HTMLElement[]} */
    const added = [];
    for (const e of this.cache.entries.values()) {
      if (e.node && !e.steps?.length && Math.abs(e.item.pos - this.cursor) <= HOT && this.shelve(e.node)) added.push(e.node);
    }
    this.layOut(added);
  }

  /** The entry on screen. */
  currentEntry() {
    if (this.auditCurrent) return this.auditCurrent;
    return this.cache.entries.get(this.cursor) ?? null;
  }

  /**
   * @param {number} cursor
   * @param {boolean} explicit a jump the user asked for
   * @param {{ items: Item[], end: number }} [first] the window ahead of `cursor`, if known
   */
  jumpTo(cursor, explicit, first) {
    if (explicit && this.cache.unlabeledOnly) {
      // A jump names one pair; showing it must not depend on the filter.
      this.cache.unlabeledOnly = false;
      const box = /** @type {HTMLInputElement | null} */ (this.ui.root.querySelector('[data-toggle="unlabeled"]'));
      if (box) box.checked = false;
    }
    if (this.auditCurrent) this.audits.unshift({ entry: this.auditCurrent, due: this.labelsDone });
    this.auditCurrent = null;
    this.keepDrafts(); // while the pair being edited is still in the cache
    this.cache.reset(cursor);
    this.cursor = cursor;
    this.waiting = true;
    this.renderQueue = [];
    this.paintPlaceholder(cursor >= this.cache.total ? "done" : "loading");
    if (first && !this.cache.unlabeledOnly) {
      this.cache.pending[1] = cursor - 1;
      const added = this.cache.apply({
        type: "items",
        view: this.view,
        req: 0,
        anchor: cursor - 1,
        direction: 1,
        unlabeled_only: false,
        items: first.items,
        end: first.end,
      });
      if (added) this.queueRender(added);
      this.showCursorOrNext();
    }
    this.pump();
  }

  /** After data arrives: show the cursor if it is here, else the next matching pair. */
  showCursorOrNext() {
    if (this.cursor >= this.cache.total) {
      this.waiting = false;
      this.paintPlaceholder("done");
      return;
    }
    const here = this.cache.entries.get(this.cursor);
    if (here && this.cache.matches(here.item)) {
      this.waiting = false;
      this.paint();
      return;
    }
    const next = this.cache.step(this.cursor, 1);
    if (next === "unknown") return;
    this.waiting = false;
    if (next === "edge") {
      this.cursor = this.cache.total;
      this.paintPlaceholder("done");
    } else {
      this.cursor = next;
      this.paint();
    }
  }

  /** @param {1 | -1} direction */
  move(direction) {
    if (this.auditCurrent) {
      this.audits.unshift({ entry: this.auditCurrent, due: this.labelsDone });
      this.auditCurrent = null;
    }
    const from = this.cursor >= this.cache.total && direction === -1 ? this.cache.total : this.cursor;
    const next = this.cache.step(from, direction);
    if (next === "unknown") {
      this.waiting = direction === 1;
      if (direction === 1) {
        this.cursor = from;
        this.paintPlaceholder("loading");
      }
      this.pump();
      return;
    }
    if (next === "edge") {
      if (direction === 1) {
        this.cursor = this.cache.total;
        this.paintPlaceholder("done");
      } else {
        this.say("This is the first pair.");
      }
      this.pump();
      return;
    }
    this.cursor = next;
    this.paint();
  }

  /** Show the next pair after a label: a due audit first, else the next queue position. */
  advance() {
    const due = this.audits.findIndex((a) => a.due <= this.labelsDone);
    if (due >= 0) {
      this.auditCurrent = this.audits.splice(due, 1)[0].entry;
      this.paint();
      return;
    }
    this.move(1);
  }

  // --- painting ---------------------------------------------------------------------------

  paint() {
    const entry = this.currentEntry();
    if (!entry) return;
    const node = this.prepare(entry);
    const { root, stage } = this.ui;
    if (stage.contains(document.activeElement)) root.focus({ preventScroll: true });
    /** @type {HTMLElement[]} */
    const hidden = [];
    for (const child of stage.querySelectorAll(":scope > .pl-shown, :scope > .pl-placeholder")) {
      if (child === node) continue;
      if (child.classList.contains("pl-placeholder")) child.remove();
      else {
        child.classList.remove("pl-shown");
        child.classList.add("pl-pending");
        hidden.push(/** @type {HTMLElement} */ (child));
      }
    }
    if (node.parentNode !== stage) {
      node.inert = true;
      stage.append(node);
      this.resizer.observe(node);
    }
    // The swap is an opacity and z-index flip of two composited pairs: neither property is
    // inherited, so only the two roots get new styles. `inert` (inherited: a restyle of the
    // whole subtree and a repaint of its hit-test data) changes after the paint.
    node.classList.remove("pl-pending");
    node.classList.add("pl-shown");
    this.fitStage(node);
    root.dataset.pos = String(entry.item.pos);
    root.dataset.pairId = entry.item.pair_id;
    root.dataset.state = "pair";
    this.shownAt = performance.now();
    this.keepDrafts();
    this.closeEditors();
    this.updatePairLine();
    // Counters, window upkeep and pre-rendering wait until the frame showing this pair is
    // painted: work queued before it (shelving a node costs its layout) would delay it.
    this.painting += 1;
    this.afterPaint(() => {
      if (this.destroyed) return;
      for (const el of hidden) if (el.classList.contains("pl-pending")) el.inert = true;
      if (node.classList.contains("pl-shown")) node.inert = false;
      this.updateChrome();
      // The heavier upkeep (laying out the next shelved pair) goes one task later, behind
      // anything else waiting on this frame, input included.
      setTimeout(() => {
        this.painting -= 1;
        if (this.destroyed) return;
        this.cache.evict(this.cursor);
        this.prune();
        this.pump();
        this.scheduleRender();
      }, 0);
    });
  }

  /** @param {"loading" | "done"} state */
  paintPlaceholder(state) {
    const { root, stage } = this.ui;
    if (stage.contains(document.activeElement)) root.focus({ preventScroll: true });
    // No pair is shown, so an open editor has nothing to save into: keep its text now.
    this.keepDrafts();
    this.closeEditors();
    for (const child of [...stage.children]) {
      if (child.classList.contains("pl-placeholder")) child.remove();
      else if (child.classList.contains("pl-shown")) {
        child.classList.remove("pl-shown");
        child.classList.add("pl-pending");
        /** @type {HTMLElement} */ (child).inert = true;
      }
    }
    this.prune();
    this.fitStage(null);
    stage.prepend(
      h(
        "div",
        `pl-placeholder pl-${state}`,
        state === "done" ? "All pairs in this queue are labeled. (k: previous)" : "Loading…",
      ),
    );
    root.dataset.state = state;
    delete root.dataset.pos;
    delete root.dataset.pairId;
    this.updateChrome();
  }

  updateChrome() {
    const { progress, saved, retry } = this.ui;
    progress.textContent = progressText(this.stats, this.rate.perMinute());
    const state = this.failed.size
      ? "error"
      : this.stalled.size
        ? "stalled"
        : this.unsaved.size
          ? "saving"
          : this.seq
            ? "saved"
            : "idle";
    saved.dataset.state = state;
    saved.textContent = {
      error: "⚠ not saved",
      stalled: "⚠ not confirmed",
      saving: "saving…",
      saved: "✓ saved",
      idle: "",
    }[state];
    retry.hidden = !this.failed.size;
    this.updatePairLine();
    for (const b of this.ui.root.querySelectorAll(".pl-strength .pl-btn")) {
      b.setAttribute("aria-pressed", String(/** @type {HTMLElement} */ (b).dataset.action === `strength-${this.strength}`));
    }
  }

  /**
   * Position, this pair's own label line and its verdict button pressed: shown in the same
   * frame as the pair. Only what changed is written (this runs on the keypress path).
   */
  updatePairLine() {
    const { position, current } = this.ui;
    const where = this.cursor >= 0 && this.cursor < this.cache.total ? `pair #${this.cursor + 1}` : "";
    if (position.textContent !== where) position.textContent = where;
    const entry = this.currentEntry();
    const item = entry && !entry.item.audit ? entry.item : null;
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

  /** @param {string} text @param {boolean} [error] */
  say(text, error = false) {
    this.ui.status.textContent = text;
    this.ui.status.classList.toggle("pl-error", error);
  }

  // --- actions ------------------------------------------------------------------------------

  /** @param {import("./vocab.js").Choice} choice */
  verdict(choice) {
    const entry = this.currentEntry();
    if (!entry || this.waiting) return;
    const { item } = entry;
    const verdict = verdictOf(choice, item.shown);
    const seq = ++this.seq;
    /** @type {import("./protocol.js").LabelRequest} */
    const msg = {
      type: "label",
      view: this.view,
      seq,
      pair_id: item.pair_id,
      pos: item.pos,
      verdict,
      shown: item.shown,
      strength: this.strength,
      audit: item.audit,
      duration_ms: Math.round(performance.now() - this.shownAt),
    };
    this.write(seq, msg);
    this.labelsDone += 1;
    this.rate.tick();
    if (!item.audit) {
      // An edit rewrote the previously preferred response; the store drops it for a new side.
      if (item.label !== verdict) item.edited = null;
      item.label = verdict;
      item.strength = this.strength;
      this.history.push({ pos: item.pos, pair_id: item.pair_id });
    } else {
      this.auditCurrent = null;
    }
    this.strength = null;
    this.say("");
    if (this.pendingEdit && (verdict === "a" || verdict === "b") && !item.audit) {
      this.pendingEdit = false;
      this.advanceAfterEdit = true;
      this.updateChrome();
      this.openEditor("edit");
      return;
    }
    this.pendingEdit = false;
    this.advance();
  }

  undo() {
    const last = this.history.pop();
    if (!last) {
      this.say("Nothing to undo in this session.");
      return;
    }
    const seq = ++this.seq;
    /** @type {import("./protocol.js").UndoRequest} */
    const msg = { type: "undo", view: this.view, seq, pair_id: last.pair_id, pos: last.pos };
    this.write(seq, msg);
    this.labelsDone = Math.max(0, this.labelsDone - 1);
    const entry = this.cache.entries.get(last.pos);
    if (entry) {
      entry.item.label = null;
      entry.item.strength = null;
      if (this.auditCurrent) this.audits.unshift({ entry: this.auditCurrent, due: this.labelsDone + 1 });
      this.auditCurrent = null;
      this.cursor = last.pos;
      this.paint();
    } else {
      this.jumpTo(last.pos, true);
    }
    this.say("Undone.");
  }

  /** @param {"edit" | "note"} kind */
  openEditor(kind) {
    const entry = this.currentEntry();
    if (!entry || entry.item.audit && kind === "edit") return;
    const { item } = entry;
    const box = kind === "edit" ? this.ui.editBox : this.ui.noteBox;
    const ta = /** @type {HTMLTextAreaElement} */ (box.querySelector("textarea"));
    if (kind === "edit") {
      if (item.label !== "a" && item.label !== "b") {
        this.pendingEdit = true;
        this.say("Which response is better? Press 1/← or 2/→, then edit it.");
        return;
      }
      const side = item.label === item.shown[0] ? "left" : "right";
      ta.value = item.edited ?? (side === "left" ? item.left : item.right);
      box.dataset.side = side;
    } else {
      ta.value = item.note ?? "";
    }
    this.drafts[kind] = { pos: item.pos, side: box.dataset.side ?? "", original: ta.value };
    box.hidden = false;
    ta.focus();
  }

  /** Save what was typed into an editor that is being closed by anything but Cancel / Escape. */
  keepDrafts() {
    for (const kind of /** @type {const} */ (["edit", "note"])) {
      const draft = this.drafts[kind];
      this.drafts[kind] = null;
      const box = kind === "edit" ? this.ui.editBox : this.ui.noteBox;
      if (!draft || box.hidden) continue;
      const ta = /** @type {HTMLTextAreaElement} */ (box.querySelector("textarea"));
      const entry = this.cache.entries.get(draft.pos);
      if (!entry || ta.value === draft.original) continue;
      const { item } = entry;
      // An edit belongs to the response preferred when it began; if the verdict has since
      // flipped, it would replace the other response, so it is kept as a note instead.
      const side = item.label === "a" || item.label === "b" ? (item.label === item.shown[0] ? "left" : "right") : "";
      if (kind === "note" || side === draft.side) this.saveText(kind, item, ta.value);
      else this.saveText("note", item, `${item.note ? item.note + "\n\n" : ""}Unsaved edit of the ${draft.side} response:\n${ta.value}`);
    }
  }

  /**
   * Store an edit (the preferred response rewritten) or a note for `item`.
   * @param {"edit" | "note"} kind @param {Item} item @param {string} text
   */
  saveText(kind, item, text) {
    const seq = ++this.seq;
    const base = { view: this.view, seq, pair_id: item.pair_id, pos: item.pos };
    if (kind === "edit") {
      item.edited = text;
      this.write(seq, { type: "edit", ...base, edited_preferred: text });
    } else {
      item.note = text;
      this.write(seq, { type: "note", ...base, note: text });
    }
  }

  closeEditors() {
    const active = document.activeElement;
    this.ui.editBox.hidden = true;
    this.ui.noteBox.hidden = true;
    if (active && (this.ui.editBox.contains(active) || this.ui.noteBox.contains(active))) {
      this.ui.root.focus({ preventScroll: true });
    }
  }

  /** @param {"edit" | "note"} kind */
  saveEditor(kind) {
    const entry = this.currentEntry();
    const box = kind === "edit" ? this.ui.editBox : this.ui.noteBox;
    const ta = /** @type {HTMLTextAreaElement} */ (box.querySelector("textarea"));
    if (!entry || box.hidden) return;
    this.drafts[kind] = null;
    this.saveText(kind, entry.item, ta.value);
    this.closeEditors();
    this.updateChrome();
    if (kind === "edit" && this.advanceAfterEdit) {
      this.advanceAfterEdit = false;
      this.advance();
    }
  }

  /** @param {"edit" | "note"} kind */
  cancelEditor(kind) {
    this.drafts[kind] = null;
    this.closeEditors();
    if (kind === "edit" && this.advanceAfterEdit) {
      this.advanceAfterEdit = false;
      this.advance();
    }
  }

  /**
   * Open or close the help: modal inside the widget, so everything else is inert (no
   * clicks, no Tab stops) while it is open.
   * @param {boolean} [force]
   */
  toggleHelp(force) {
    const { help, root } = this.ui;
    const open = force === undefined ? help.hidden : force;
    if (open === !help.hidden) return;
    help.hidden = !open;
    root.classList.toggle("pl-help-open", open);
    for (const child of root.children) {
      if (child !== help && child instanceof HTMLElement && child.tagName !== "STYLE") child.inert = open;
    }
    if (open) /** @type {HTMLElement} */ (help.querySelector("[data-action=help-close]")).focus({ preventScroll: true });
    else root.focus({ preventScroll: true });
  }

  /**
   * Turn a view toggle on or off (its checkbox, or its key).
   * @param {string} name @param {boolean} on
   */
  setToggle(name, on) {
    const box = /** @type {HTMLInputElement | null} */ (this.ui.root.querySelector(`[data-toggle="${name}"]`));
    if (box) box.checked = on;
    if (name === "raw" || name === "diff") {
      this.ui.root.classList.toggle(`pl-mode-${name}`, on);
      if (on) {
        const other = name === "raw" ? "diff" : "raw";
        const otherBox = /** @type {HTMLInputElement} */ (this.ui.root.querySelector(`[data-toggle="${other}"]`));
        otherBox.checked = false;
        this.ui.root.classList.remove(`pl-mode-${other}`);
      }
      if (name === "diff" && on) {
        const entry = this.currentEntry();
        if (entry && entry.node) ensureDiff(entry.node, entry.item);
      }
    } else if (name === "sync") {
      this.syncing = on;
    } else if (name === "unlabeled") {
      this.cache.unlabeledOnly = on;
      const keep = this.currentEntry();
      this.cache.reset(this.cursor);
      if (keep && !keep.item.audit) this.cache.entries.set(keep.item.pos, keep);
      this.cache.hi = this.cursor + 1;
      this.pump();
    }
  }

  /** @param {string} name */
  flipToggle(name) {
    const box = /** @type {HTMLInputElement | null} */ (this.ui.root.querySelector(`[data-toggle="${name}"]`));
    this.setToggle(name, !(box && box.checked));
  }

  retry() {
    const again = [...this.failed];
    this.failed.clear();
    for (const seq of again) {
      const msg = this.unsaved.get(seq);
      if (!msg) continue;
      this.send(msg);
      this.track(seq, msg); // watched again: a resend can be lost too
    }
    this.updateChrome();
  }

  /** @param {string} action */
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
        return this.toggleHelp();
      case "help-close":
        return this.toggleHelp(false);
      case "close":
        if (!this.ui.help.hidden) return this.toggleHelp(false);
        this.pendingEdit = false;
        this.drafts = { edit: null, note: null }; // Escape discards, as inside the editor
        return this.closeEditors();
      case "edit-save":
        return this.saveEditor("edit");
      case "note-save":
        return this.saveEditor("note");
      case "edit-cancel":
        return this.cancelEditor("edit");
      case "note-cancel":
        return this.cancelEditor("note");
      case "retry":
        return this.retry();
      case "jump": {
        const target = this.ui.jumpInput.value.trim();
        if (target) this.send({ type: "goto", view: this.view, req: ++this.req, target });
        return;
      }
      case "goto":
        this.ui.jumpInput.focus();
        this.ui.jumpInput.select();
        return;
      case "toggle-raw":
      case "toggle-diff":
      case "toggle-sync":
      case "toggle-unlabeled":
        return this.flipToggle(action.slice("toggle-".length));
      default:
        if (action.startsWith("strength-")) {
          const s = /** @type {import("./protocol.js").Strength} */ (action.slice("strength-".length));
          this.strength = this.strength === s ? null : s;
          this.updateChrome();
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
    if (!this.ui.help.hidden && action !== "help" && action !== "close") return;
    this.run(action);
  }

  /** @param {KeyboardEvent} event */
  onEditorKey(event) {
    const box = /** @type {HTMLElement} */ (event.currentTarget);
    const kind = box === this.ui.editBox ? "edit" : "note";
    if (event.key === "Escape") {
      event.preventDefault();
      this.cancelEditor(kind);
    } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      this.saveEditor(kind);
    }
  }

  /** @param {MouseEvent} event */
  onClick(event) {
    const target = /** @type {HTMLElement} */ (event.target);
    const btn = target.closest("[data-action]");
    if (btn instanceof HTMLElement && this.ui.root.contains(btn)) {
      this.run(/** @type {string} */ (btn.dataset.action));
      if (!isTyping(document.activeElement) && btn.dataset.action !== "help") this.ui.root.focus({ preventScroll: true });
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
    const body = /** @type {HTMLElement} */ (event.target);
    if (!(body instanceof HTMLElement) || !body.classList.contains("pl-body")) return;
    const bodies = this.ui.stage.querySelectorAll(":scope > .pl-shown .pl-body");
    const max = body.scrollHeight - body.clientHeight;
    const ratio = max > 0 ? body.scrollTop / max : 0;
    this.syncBusy = true;
    for (const other of bodies) {
      if (other === body) continue;
      const o = /** @type {HTMLElement} */ (other);
      o.scrollTop = ratio * (o.scrollHeight - o.clientHeight);
    }
    requestAnimationFrame(() => {
      this.syncBusy = false;
    });
  }
}

/** @param {Model} model @param {string} name @param {(...args: any[]) => void} cb */
function model_on(model, name, cb) {
  model.on(name, cb);
}
