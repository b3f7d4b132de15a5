// @ts-check
/**
 * Moving and showing: jumps, next/previous, where a move lands (a pair, "Loading…", the end
 * screen), the swap that shows a pair and the upkeep after its frame, and the view toggles
 * that change what the window holds. Works on the app's cursor, window cache and stage.
 *
 * Example: `app.nav.move(1)` shows the next pair (or "Loading…" until it arrives).
 */

/** @typedef {import("./protocol.js").Item} Item */
/** @typedef {import("./cursor.js").Landing} Landing */

export class Navigation {
  /** @param {import("./app.js").LabelerApp} app */
  constructor(app) {
    this.app = app;
  }

  /**
   * @param {number} pos
   * @param {boolean} explicit a jump the user asked for
   * @param {{ items: Item[], end: number }} [first] the window ahead of `pos`, if known
   */
  jumpTo(pos, explicit, first) {
    // A jump names one pair; showing it must not depend on the filter.
    if (explicit && this.app.cache.unlabeledOnly) this.setToggle("unlabeled", false, false);
    this.app.editors.keep(); // while the pair being edited is still in the cache
    this.app.cursor.jump(pos);
    this.app.stage.clearQueue();
    this.land(pos >= this.app.cache.total ? "done" : "loading");
    if (first && !this.app.cache.unlabeledOnly) {
      this.app.cache.pending[1] = pos - 1;
      const reply = { type: /** @type {const} */ ("items"), view: this.app.view, req: 0, anchor: pos - 1, direction: /** @type {const} */ (1) };
      const added = this.app.cache.apply({ ...reply, unlabeled_only: false, items: first.items, end: first.end });
      if (added) this.app.stage.queue(added);
      this.land(this.app.cursor.settle());
    }
    this.app.pump();
  }

  /** @param {1 | -1} direction */
  move(direction) {
    const landing = this.app.cursor.move(direction);
    if (landing === "first") this.app.chrome.say("This is the first pair.");
    this.land(landing);
    if (landing !== "pair") this.app.pump();
  }

  /**
   * Show where a move landed, and enter the matching state.
   * @param {Landing} landing
   */
  land(landing) {
    if (landing === "pair") this.paint();
    else if (landing === "loading" || landing === "done") {
      // "Loading…" already on screen stays: repainting it would prune the stage again.
      if (landing === "done" || this.app.ui.root.dataset.state !== "loading") this.placeholder(landing);
      this.app.state.fire(landing === "done" ? "end" : "wait");
    }
  }

  // --- painting ------------------------------------------------------------------------------

  paint() {
    const entry = this.app.cursor.current();
    if (!entry) return;
    const settle = this.app.stage.show(entry);
    const { root } = this.app.ui;
    root.dataset.pos = String(entry.item.pos);
    root.dataset.pairId = entry.item.pair_id;
    root.dataset.state = "pair";
    this.app.shownAt = performance.now();
    this.app.editors.keep();
    this.app.editors.close();
    this.app.state.fire("show");
    this.app.updatePairLine();
    // Counters, window upkeep and pre-rendering wait until the frame showing this pair is
    // painted: work queued before it (shelving a node costs its layout) would delay it.
    this.app.after.run(() => {
      if (this.app.destroyed) return;
      settle();
      this.app.updateChrome();
      // The heavier upkeep (laying out the next shelved pair) goes one task later, behind
      // anything else waiting on this frame, input included.
      setTimeout(() => {
        this.app.stage.painted();
        if (this.app.destroyed) return;
        this.app.cache.evict(this.app.cursor.pos);
        this.app.stage.prune();
        this.app.pump();
        this.app.stage.schedule();
      }, 0);
    });
  }

  /** @param {"loading" | "done"} state */
  placeholder(state) {
    // No pair is shown, so an open editor has nothing to save into: keep its text now.
    this.app.editors.keep();
    this.app.editors.close();
    this.app.stage.showPlaceholder(state, state === "done" ? this.endText() : "Loading…");
    const { root } = this.app.ui;
    root.dataset.state = state;
    delete root.dataset.pos;
    delete root.dataset.pairId;
    this.app.updateChrome();
  }

  /** Keep the end screen's count current (labels are confirmed after it is shown). */
  refreshEnd() {
    const end = this.app.ui.stage.querySelector(":scope > .pl-done");
    const text = end && this.endText();
    if (end && end.textContent !== text) end.textContent = text;
  }

  /** What the end of the queue says: whether pairs without any label are left. */
  endText() {
    const { labeled, imported, total } = this.app.stats;
    const open = total - labeled - imported;
    if (open <= 0) return "End of the queue: every pair has a label. (k: previous)";
    const hint = this.app.cache.unlabeledOnly ? "" : " (f: unlabeled only)";
    return `End of the queue: ${open} pair${open === 1 ? "" : "s"} still without a label${hint}. (k: previous)`;
  }

  /**
   * Turn a view toggle on or off (its checkbox, or its key).
   * @param {string} name @param {boolean} on @param {boolean} [refetch] (the filter only)
   */
  setToggle(name, on, refetch = true) {
    this.app.chrome.toggle(name, on);
    if (name === "diff" && on) this.app.stage.ensureDiff(this.app.cursor.current());
    else if (name === "sync") this.app.syncing = on;
    else if (name === "unlabeled") {
      this.app.cache.unlabeledOnly = on;
      if (!refetch) return;
      const keep = this.app.cursor.current();
      this.app.cache.reset(this.app.cursor.pos);
      if (keep && !keep.item.audit) this.app.cache.entries.set(keep.item.pos, keep);
      this.app.cache.hi = this.app.cursor.pos + 1;
      this.app.pump();
    }
  }
}
