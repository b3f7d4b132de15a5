// @ts-check
/**
 * The stage: where pairs are pre-rendered, laid out ahead and swapped in. Pairs near the
 * cursor wait in the stage, hidden but laid out and painted, so showing the next one on a
 * keypress is a class flip (the opacity of two composited layers) plus the stage's height,
 * not a fresh layout. Which pair is on top (z-index) changes only when the annotator pauses
 * or reaches for the mouse: reordering composited layers makes Chromium redraw whatever
 * overlaps them (in JupyterLab, the notebook's toolbar and most of the panel).
 *
 * Only the next pair forward is drawn while hidden (transparent, so its tiles are rasterized
 * before its key); the others on the shelf are parked at opacity 0 (`isNext`).
 *
 * Pre-rendering runs in small tasks (one turn or response each), nearest to the cursor
 * first, and yields whenever input is waiting, so a keypress never queues behind more than
 * one step; it pauses while a frame that shows a new pair is still to be painted.
 *
 * Example:
 *   const stage = new Stage(ui, { distance: (e) => app.cursor.distance(e), isLive, entries });
 *   stage.queue(entries); stage.show(entry);
 */
import { pairSkeleton, ensureDiff, h } from "./pair_view.js";
import { Tick, Unless } from "./ticks.js";

/** @typedef {import("./protocol.js").Item} Item */
/**
 * A pair in the window; `node` is its DOM, complete once `steps` is empty.
 * @typedef {{ item: Item, node: HTMLElement | null, steps?: (() => void)[] }} Entry
 */
/**
 * `distance`: how many moves until the entry is shown (a replay's turn, not its row);
 * `entries`: every entry that may be shown next (the window and the waiting replays).
 * @typedef {{
 *   distance: (entry: Entry) => number,
 *   isLive: (entry: Entry) => boolean,
 *   entries: () => Iterable<Entry>,
 * }} StageHost
 */

/** Pairs this few moves from being shown wait in the stage, laid out and painted, ready to show. */
export const HOT = 2;

/**
 * How long no pair is shown before the hidden ones become `inert` (no focus, selection or
 * find-in-page) and the shown one goes on top. While keys come faster than this, hidden
 * pairs are only `aria-hidden` and transparent, and may lie above the shown one: `inert` is
 * inherited, and flipping it after every key restyled and repainted two whole pairs; a
 * z-index flip reorders layers, and in JupyterLab each reorder redrew the notebook's
 * toolbar and panel in the key's frame (damage 1110×1513 px against the pair's 950×506).
 * `bench/labeler.py --lab-mixed 20`, 5 runs each: with a reorder per key 3-19 keys of 190
 * (mean 13) waited ≥ 32 ms for their frame; without, 0-4 (mean 2.8), the floor's 2.2.
 */
export const QUIET_MS = 500;

export class Stage {
  /** @param {{ root: HTMLElement, stage: HTMLElement }} ui @param {StageHost} host */
  constructor(ui, host) {
    this.root = ui.root;
    this.el = ui.stage;
    this.host = host;
    /** @type {Entry[]} */
    this.pending = [];
    /** Frames requested by `show` and not yet drawn: pre-rendering waits for them. */
    this.painting = 0;
    this.closed = false;
    this.tick = new Tick(() => this.renderSome());
    this.quiet = new Unless(() => this.restHidden(), QUIET_MS);
    /** Whether the shown pair is on top (`pl-front`): not between a show and the next pause. */
    this.ordered = true;
    /**
     * Heights of the pairs in the stage, as the browser laid them out: showing one sets the
     * stage's height from here instead of reading offsetHeight (a forced layout) on the key.
     * @type {WeakMap<Element, number>}
     */
    this.heights = new WeakMap();
    /** @type {WeakMap<Element, Entry>} the entry each pair node in the stage shows */
    this.entryOf = new WeakMap();
    /** @type {WeakSet<Element>} pair nodes that have been shown (behind the annotator, mostly) */
    this.seen = new WeakSet();
    /**
     * Focus never rests in a hidden pair (Tab into a shelved pair's summary, say): it goes
     * back to the widget, where the keys work.
     * @param {FocusEvent} e
     */
    this.guard = (e) => {
      if (inHiddenPair(e.target)) this.root.focus({ preventScroll: true });
    };
    this.el.addEventListener("focusin", this.guard);
    /**
     * The mouse is about to hit something in the stage: put the shown pair on top first. A
     * press that already landed on a hidden pair (the mouse did not move since the key)
     * starts nothing there: no text selection, no focus, and its click goes to no pair.
     * @param {Event} e
     */
    this.reach = (e) => {
      if (this.ordered) return;
      this.front();
      if (e.type === "pointerdown" && inHiddenPair(e.target)) e.preventDefault();
    };
    // Passive but for the press: a wheel listener that may cancel makes scrolling wait for it.
    for (const type of POINTER_EVENTS) this.el.addEventListener(type, this.reach, { capture: true, passive: type !== "pointerdown" });
    this.resizer = new ResizeObserver((entries) => {
      for (const entry of entries) {
        const size = entry.borderBoxSize?.[0];
        const height = size ? size.blockSize : /** @type {HTMLElement} */ (entry.target).offsetHeight;
        this.heights.set(entry.target, height);
        if (entry.target.classList.contains("pl-shown")) this.el.style.height = `${height}px`;
      }
    });
  }

  close() {
    this.closed = true;
    this.pending = [];
    this.tick.close();
    this.resizer.disconnect();
    this.quiet.cancel();
    this.el.removeEventListener("focusin", this.guard);
    for (const type of POINTER_EVENTS) this.el.removeEventListener(type, this.reach, { capture: true });
  }

  /**
   * The annotator paused: hidden pairs become inert (one restyle each) and the shown one
   * goes on top, off any key.
   */
  restHidden() {
    if (this.closed) return;
    if (this.painting) {
      this.quiet.arm();
      return;
    }
    for (const child of this.el.children) {
      const el = /** @type {HTMLElement} */ (child);
      if (el.classList.contains("pl-pending") && !el.inert) el.inert = true;
    }
    this.front();
  }

  /** The shown pair goes on top of the hidden ones, so it takes the clicks, wheel and selection. */
  front() {
    this.ordered = true;
    for (const child of this.el.children) child.classList.toggle("pl-front", child.classList.contains("pl-shown"));
  }

  /** Pre-render these entries, nearest to the cursor first. @param {Entry[]} entries */
  queue(entries) {
    this.pending.push(...entries);
    this.schedule();
  }

  /** Forget what was queued (a jump: those pairs are gone from the window). */
  clearQueue() {
    this.pending = [];
  }

  schedule() {
    if (this.pending.length) this.tick.request();
  }

  get diffMode() {
    return this.root.classList.contains("pl-mode-diff");
  }

  renderSome() {
    if (this.closed || !this.pending.length || this.painting) return;
    if (inputPending()) {
      setTimeout(() => this.schedule(), 0);
      return;
    }
    let best = 0;
    let nearest = Infinity;
    for (let i = 0; i < this.pending.length; i++) {
      const d = this.host.distance(this.pending[i]);
      if (d < nearest) [best, nearest] = [i, d];
    }
    const entry = this.pending[best];
    if (!this.host.isLive(entry)) {
      this.pending.splice(best, 1);
    } else {
      const node = this.skeleton(entry);
      const step = entry.steps?.shift();
      if (step) step();
      if (!entry.steps?.length) {
        this.pending.splice(best, 1);
        if (this.diffMode) ensureDiff(node, entry.item);
        if (this.shelve(entry)) this.layOut([node]);
      }
    }
    this.schedule();
  }

  /**
   * The entry's finished node (rendering whatever pre-rendering has not done yet).
   * @param {Entry} entry
   */
  prepare(entry) {
    const node = this.skeleton(entry);
    for (const step of entry.steps ?? []) step();
    entry.steps = [];
    if (this.diffMode) ensureDiff(node, entry.item);
    return node;
  }

  /** The entry's node, created (empty, with its render steps) the first time. @param {Entry} entry */
  skeleton(entry) {
    if (!entry.node) {
      const { node, steps } = pairSkeleton(entry.item);
      entry.node = node;
      entry.steps = steps;
      this.entryOf.set(node, entry);
    }
    return entry.node;
  }

  /**
   * Put an entry's finished node in the stage, hidden, if it is due within HOT moves: the
   * browser computes its style and layout while the annotator reads, so showing it later
   * is a class flip, not a fresh layout.
   * @param {Entry} entry
   * @returns {boolean} whether the node was added to the stage
   */
  shelve(entry) {
    const node = entry.node;
    if (!node || entry.steps?.length || node.parentNode === this.el) return false;
    if (this.host.distance(entry) > HOT) return false;
    node.classList.add("pl-pending");
    node.classList.toggle("pl-parked", !this.isNext(node));
    node.classList.remove("pl-shown");
    node.setAttribute("aria-hidden", "true");
    this.el.append(node);
    this.resizer.observe(node);
    this.quiet.arm();
    return true;
  }

  /**
   * Lay out newly shelved pairs now, in this task (right after a paint, or a pre-render
   * step that checked for pending input), instead of in whichever frame comes next: that
   * frame may be the one answering the next keypress. One read after all appends: one layout.
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
  fit(node) {
    if (!node) {
      this.el.style.height = "";
      return;
    }
    // A shelved pair's height is known from its layout; only a pair that was never laid
    // out (shown before pre-rendering reached it) costs a forced layout here.
    const height = this.heights.get(node) ?? node.offsetHeight;
    this.el.style.height = `${height}px`;
    this.resizer.observe(node);
  }

  /**
   * Whether a shelved pair is the next one forward, the one kept drawn (transparent) so its
   * tiles are rasterized before its key. @param {Element} node
   */
  isNext(node) {
    const entry = this.entryOf.get(node);
    return Boolean(entry && !this.seen.has(node) && this.host.distance(entry) === 1);
  }

  /** Keep only the pairs due within HOT moves on the shelf; the rest wait detached. */
  prune() {
    for (const child of [...this.el.children]) {
      const el = /** @type {HTMLElement} */ (child);
      // The shown pair and the shown placeholder stay: show() and showPlaceholder() replace
      // them. Pruning a placeholder here blanked the done screen when a previous show's
      // deferred upkeep ran after it.
      if (el.classList.contains("pl-shown") || el.classList.contains("pl-placeholder")) continue;
      const entry = this.entryOf.get(el);
      if (!entry || this.host.distance(entry) > HOT) {
        this.resizer.unobserve(el);
        el.remove();
      } else el.classList.toggle("pl-parked", !this.isNext(el));
    }
    /** @type {HTMLElement[]} */
    const added = [];
    for (const e of this.host.entries()) {
      if (e.node && this.shelve(e)) added.push(e.node);
    }
    this.layOut(added);
  }

  /** Move focus out of the stage before its pair is hidden (keys keep working). */
  keepFocus() {
    if (this.el.contains(document.activeElement)) this.root.focus({ preventScroll: true });
  }

  /**
   * Show `entry`'s pair: on the keypress path, so only the swap happens here. Returns what
   * must follow once the frame is painted (which pairs screen readers skip).
   * @param {Entry} entry
   * @returns {() => void}
   */
  show(entry) {
    const node = this.prepare(entry);
    this.keepFocus();
    /** @type {HTMLElement[]} */
    const hidden = [];
    for (const child of this.el.querySelectorAll(":scope > .pl-shown, :scope > .pl-placeholder")) {
      if (child === node) continue;
      if (child.classList.contains("pl-placeholder")) child.remove();
      else {
        child.classList.remove("pl-shown");
        child.classList.add("pl-pending", "pl-parked");
        hidden.push(/** @type {HTMLElement} */ (child));
      }
    }
    if (node.parentNode !== this.el) {
      this.el.append(node);
      this.resizer.observe(node);
    }
    // The swap is an opacity flip of two composited pairs: not inherited, so only the two
    // roots get new styles, and no layer changes place. While keys come quickly, a hidden
    // pair is not made `inert` and may stay above the shown one (QUIET_MS): transparent,
    // `aria-hidden`, the focus guard keeps focus out of it, and the mouse brings the shown
    // pair on top before it hits anything.
    this.quiet.cancel();
    node.classList.remove("pl-pending", "pl-parked");
    node.classList.add("pl-shown");
    this.seen.add(node);
    this.ordered = node.classList.contains("pl-front");
    this.fit(node);
    this.painting += 1;
    return () => {
      for (const el of hidden) if (el.classList.contains("pl-pending")) el.setAttribute("aria-hidden", "true");
      if (!node.classList.contains("pl-shown")) return;
      node.removeAttribute("aria-hidden");
      // Made inert in a pause, or by a placeholder: after the paint, like the rest.
      if (node.inert) node.inert = false;
      this.quiet.arm();
    };
  }

  /** The frame of the last `show` is painted: pre-rendering may go on. */
  painted() {
    this.painting -= 1;
  }

  /** @param {"loading" | "done"} state @param {string} text */
  showPlaceholder(state, text) {
    this.keepFocus();
    for (const child of [...this.el.children]) {
      if (child.classList.contains("pl-placeholder")) child.remove();
      else if (child.classList.contains("pl-shown")) {
        child.classList.remove("pl-shown");
        child.classList.add("pl-pending");
        child.setAttribute("aria-hidden", "true");
      }
    }
    this.prune();
    // The placeholder is in flow, under the absolutely placed pairs: they take no clicks
    // or text selection while it shows.
    this.quiet.cancel();
    for (const child of this.el.children) /** @type {HTMLElement} */ (child).inert = true;
    this.fit(null);
    this.el.prepend(h("div", `pl-placeholder pl-${state}`, text));
  }

  /** The diff of the shown pair, built the first time diff mode meets it. @param {Entry | null} entry */
  ensureDiff(entry) {
    if (entry && entry.node) ensureDiff(entry.node, entry.item);
  }

  /**
   * Scroll the other side's body to the same fraction (sync scroll).
   * @param {HTMLElement} body
   */
  syncScroll(body) {
    const bodies = this.el.querySelectorAll(":scope > .pl-shown .pl-body");
    const max = body.scrollHeight - body.clientHeight;
    const ratio = max > 0 ? body.scrollTop / max : 0;
    for (const other of bodies) {
      if (other === body) continue;
      const o = /** @type {HTMLElement} */ (other);
      o.scrollTop = ratio * (o.scrollHeight - o.clientHeight);
    }
  }
}

/**
 * What the mouse does before it hits anything: each puts the shown pair on top first. Not
 * `pointerover`: Chromium sends it to a mouse resting on the stage after a key changes the
 * layout under it, which would reorder the layers in the frame after the key.
 */
const POINTER_EVENTS = ["pointermove", "pointerdown", "wheel"];

/** Whether an event's target lies in a pair of the stage that is not the shown one. @param {EventTarget | null} target */
function inHiddenPair(target) {
  const pair = target instanceof Element ? target.closest(".pl-stage > .pl-pair") : null;
  return Boolean(pair && !pair.classList.contains("pl-shown"));
}

/** Chromium's `navigator.scheduling.isInputPending()`, where it exists. */
function inputPending() {
  const nav = /** @type {Navigator & { scheduling?: { isInputPending?: () => boolean } }} */ (navigator);
  return Boolean(nav.scheduling?.isInputPending?.());
}
