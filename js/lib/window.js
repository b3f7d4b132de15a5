// @ts-check
/**
 * The browser's window over the kernel's queue: a few pairs around the cursor, each already
 * rendered into a detached DOM node, so moving to the next pair is a node swap.
 *
 * Coverage invariant: every position p with `lo < p < hi` that matches the filter
 * (`unlabeledOnly`) is in `entries`. Fetch replies extend coverage from the edge they were
 * asked for; replies for an edge that has moved since (jump, filter change) are dropped.
 */

/** @typedef {import("./protocol.js").Item} Item */
/**
 * @template N
 * @typedef {{ item: Item, node: N | null, steps?: (() => void)[] }} Entry
 */

export const AHEAD = 10;
export const BEHIND = 3;
const KEEP_AHEAD = 24;
const KEEP_BEHIND = 8;

/** @template N */
export class WindowCache {
  /** @param {number} total */
  constructor(total) {
    this.total = total;
    /** @type {Map<number, Entry<N>>} */
    this.entries = new Map();
    this.lo = -1;
    this.hi = -1;
    this.unlabeledOnly = false;
    /** Fetches in flight per direction: the anchor they were sent with. */
    /** @type {{ 1: number | null, [-1]: number | null }} */
    this.pending = { 1: null, [-1]: null };
    this.generation = 0;
  }

  /**
   * Forget everything and center on `cursor` (jump, init, filter change).
   * @param {number} cursor
   */
  reset(cursor) {
    this.entries.clear();
    this.lo = cursor - 1;
    this.hi = cursor; // (lo, hi) is empty: nothing covered until the first reply
    this.pending = { 1: null, [-1]: null };
    this.generation += 1;
  }

  /** @param {Item} item */
  matches(item) {
    // An imported label (the DataFrame's) counts as labeled for the filter too.
    return !this.unlabeledOnly || (item.label === null && !item.imported);
  }

  /** Sorted cached positions. */
  positions() {
    return [...this.entries.keys()].sort((a, b) => a - b);
  }

  /**
   * Next position after `pos` (direction 1) or before it (-1) under the filter:
   * a number, `"edge"` when there is none in the queue, or `"unknown"` (not fetched yet).
   * @param {number} pos
   * @param {1 | -1} direction
   * @returns {number | "edge" | "unknown"}
   */
  step(pos, direction) {
    const list = this.positions();
    if (direction === 1) {
      for (const p of list) {
        if (p > pos && p < this.hi && this.matches(/** @type {Entry<N>} */ (this.entries.get(p)).item)) return p;
      }
      return this.hi >= this.total ? "edge" : "unknown";
    }
    for (let i = list.length - 1; i >= 0; i--) {
      const p = list[i];
      if (p < pos && p > this.lo && this.matches(/** @type {Entry<N>} */ (this.entries.get(p)).item)) return p;
    }
    return this.lo < 0 ? "edge" : "unknown";
  }

  /**
   * How many matching cached positions lie ahead of (1) or behind (-1) `pos`.
   * @param {number} pos @param {1 | -1} direction
   */
  count(pos, direction) {
    let n = 0;
    for (const [p, e] of this.entries) {
      if ((direction === 1 ? p > pos : p < pos) && this.matches(e.item)) n += 1;
    }
    return n;
  }

  /**
   * The fetch to send for `direction`, or null if none is needed or one is in flight.
   * @param {number} cursor @param {1 | -1} direction
   * @returns {{ anchor: number, count: number } | null}
   */
  wants(cursor, direction) {
    if (this.pending[direction] !== null) return null;
    if (direction === 1) {
      if (this.hi >= this.total) return null;
      if (this.count(cursor, 1) >= AHEAD) return null;
      return { anchor: this.hi - 1, count: AHEAD + 6 };
    }
    if (this.lo < 0) return null;
    if (this.count(cursor, -1) >= BEHIND) return null;
    return { anchor: this.lo + 1, count: BEHIND + 3 };
  }

  /**
   * Apply a fetch reply; returns the new entries (to pre-render) or null if stale.
   * @param {import("./protocol.js").ItemsReply} reply
   * @returns {Entry<N>[] | null}
   */
  apply(reply) {
    const dir = reply.direction;
    if (this.pending[dir] !== reply.anchor || reply.unlabeled_only !== this.unlabeledOnly) return null;
    this.pending[dir] = null;
    const edge = dir === 1 ? this.hi - 1 : this.lo + 1;
    if (edge !== reply.anchor) return null;
    /** @type {Entry<N>[]} */
    const added = [];
    for (const item of reply.items) {
      if (!this.entries.has(item.pos)) {
        const entry = { item, node: null };
        this.entries.set(item.pos, entry);
        added.push(entry);
      }
    }
    if (dir === 1) this.hi = reply.end;
    else this.lo = reply.end;
    return added;
  }

  /**
   * Drop entries far from `cursor` so the browser holds a window, not the table.
   * @param {number} cursor
   */
  evict(cursor) {
    const ahead = this.positions().filter((p) => p > cursor);
    const behind = this.positions().filter((p) => p < cursor).reverse();
    if (ahead.length > KEEP_AHEAD) {
      const cut = ahead[KEEP_AHEAD];
      for (const p of ahead.slice(KEEP_AHEAD)) this.entries.delete(p);
      this.hi = cut;
    }
    if (behind.length > KEEP_BEHIND) {
      const cut = behind[KEEP_BEHIND];
      for (const p of behind.slice(KEEP_BEHIND)) this.entries.delete(p);
      this.lo = cut;
    }
  }
}
