// @ts-check
/**
 * Where the annotator is: the cursor over the queue, the swap-replay audits waiting to be
 * shown, and this view's label history (for undo). It decides where a move lands; showing
 * the result is the app's job, so the rules run (and are tested) without a DOM.
 *
 * A move lands on one of:
 *   "pair"     the cursor is on a pair that is in the window (show it)
 *   "loading"  the next pair is not fetched yet (show "Loading…", fetch, show it on arrival)
 *   "done"     past the last pair (the end screen)
 *   "first"    there is nothing before the first pair (stay, say so)
 *   "unknown"  the previous pair is not fetched yet (stay; it is being fetched)
 *
 * Example:
 *   const cursor = new Cursor(cache);
 *   cursor.jump(0);
 *   cursor.move(1); // "pair" once positions 0..1 are in the window
 */

/** @typedef {import("./stage.js").Entry} Entry */
/** @typedef {"pair" | "loading" | "done" | "first" | "unknown"} Landing */

export class Cursor {
  /** @param {import("./window.js").WindowCache<HTMLElement>} cache */
  constructor(cache) {
    this.cache = cache;
    this.pos = -1;
    /** @type {Entry | null} the swap-replay being shown, if any */
    this.audit = null;
    /** @type {{ entry: Entry, due: number }[]} replays waiting for their turn */
    this.audits = [];
    /** Labels given in this view (an audit is due after a number of them). */
    this.labelsDone = 0;
    /** @type {{ pos: number, pair_id: string }[]} this view's labels, newest last */
    this.history = [];
    /**
     * Waiting ("loading") for the pair after `pos`, not for `pos` itself: a forward move past
     * the window stays on the pair it left until the next one arrives, and must not land back
     * on it (a fast annotator on a slow kernel would see the pair just labeled again).
     */
    this.beyond = false;
  }

  /** The entry on screen, if any. @returns {Entry | null} */
  current() {
    if (this.audit) return this.audit;
    return this.cache.entries.get(this.pos) ?? null;
  }

  /** Whether `entry` is still wanted: in the window or a waiting replay. @param {Entry} entry */
  isLive(entry) {
    return this.audits.some((a) => a.entry === entry) || this.cache.entries.get(entry.item.pos) === entry;
  }

  /**
   * How many moves forward until `entry` is on screen, as far as the cursor knows: 0 for
   * the one shown, a queue pair's distance from the cursor (either way), and for a waiting
   * replay the labels until it is due (it shows on the advance after the label that makes
   * it due). A replay that no longer waits is never shown again. The stage pre-renders
   * and lays out the nearest ones, so this must follow the replay's turn, not its row:
   * ranked by row, a replay was laid out while the cursor passed its original pair, for
   * nothing, and laid out afresh in the frame of the key that showed it.
   * @param {Entry} entry
   */
  distance(entry) {
    if (entry === this.current()) return 0;
    const waiting = this.audits.find((a) => a.entry === entry);
    if (waiting) return Math.max(1, waiting.due - this.labelsDone);
    if (entry.item.audit) return Infinity;
    return Math.abs(entry.item.pos - this.pos);
  }

  /** A replay on screen goes back to the queue when the annotator moves away from it. */
  parkAudit(delay = 0) {
    if (this.audit) this.audits.unshift({ entry: this.audit, due: this.labelsDone + delay });
    this.audit = null;
  }

  /** A replay arrived: show it after `afterLabels` more labels. @param {Entry} entry @param {number} afterLabels */
  addAudit(entry, afterLabels) {
    this.audits.push({ entry, due: this.labelsDone + afterLabels });
  }

  /** Center on `pos` (init, a jump): the window starts empty there. @param {number} pos */
  jump(pos) {
    this.parkAudit();
    this.cache.reset(pos);
    this.pos = pos;
    this.beyond = false;
  }

  /** @param {1 | -1} direction @returns {Landing} */
  move(direction) {
    this.parkAudit();
    this.beyond = false;
    const { total } = this.cache;
    const from = this.pos >= total && direction === -1 ? total : this.pos;
    const next = this.cache.step(from, direction);
    if (next === "unknown") {
      if (direction === -1) return "unknown";
      this.pos = from;
      this.beyond = true;
      return "loading";
    }
    if (next === "edge") {
      if (direction === -1) return "first";
      this.pos = total;
      return "done";
    }
    this.pos = next;
    return "pair";
  }

  /** After a label: a due replay first, else the next queue position. @returns {Landing} */
  advance() {
    const due = this.audits.findIndex((a) => a.due <= this.labelsDone);
    if (due >= 0) {
      this.audit = this.audits.splice(due, 1)[0].entry;
      return "pair";
    }
    return this.move(1);
  }

  /**
   * Data arrived while waiting: land on the cursor if it is here and matches the filter
   * (after a jump), else on the next matching pair (also after a move past the window).
   * @returns {Landing}
   */
  settle() {
    if (this.pos >= this.cache.total) return "done";
    const here = this.cache.entries.get(this.pos);
    if (!this.beyond && here && this.cache.matches(here.item)) return "pair";
    const next = this.cache.step(this.pos, 1);
    if (next === "unknown") return "loading";
    this.beyond = false;
    if (next === "edge") {
      this.pos = this.cache.total;
      return "done";
    }
    this.pos = next;
    return "pair";
  }

  /** A label was given on `entry`'s pair. @param {Entry} entry */
  labeled(entry) {
    this.labelsDone += 1;
    if (entry.item.audit) this.audit = null;
    else this.history.push({ pos: entry.item.pos, pair_id: entry.item.pair_id });
  }

  /** Take back the newest label of this view, if any. */
  unlabel() {
    const last = this.history.pop();
    if (!last) return null;
    this.labelsDone = Math.max(0, this.labelsDone - 1);
    return last;
  }
}
