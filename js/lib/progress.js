// @ts-check
/**
 * Progress line: labeled / total, counts per verdict (from the kernel, i.e. from the store)
 * and pairs per minute in this view (measured here).
 */

const NAMES = { a: "A", b: "B", tie: "tie", both_bad: "both bad", skip: "skip" };

export class Rate {
  constructor() {
    /** @type {number[]} */
    this.times = [];
  }

  /** Note one label now. */
  tick() {
    this.times.push(performance.now());
    if (this.times.length > 50) this.times.shift();
  }

  /** Pairs per minute over the recent labels, or null before there are two. */
  perMinute() {
    if (this.times.length < 2) return null;
    const span = this.times[this.times.length - 1] - this.times[0];
    if (span <= 0) return null;
    return ((this.times.length - 1) * 60_000) / span;
  }
}

/**
 * @param {import("./protocol.js").Stats} stats
 * @param {number | null} rate
 */
export function progressText(stats, rate) {
  const counts = Object.entries(NAMES)
    .map(([k, name]) => `${name} ${stats.counts[k] ?? 0}`)
    .join(" · ");
  const pm = rate === null ? "" : ` · ${rate.toFixed(1)}/min`;
  return `${stats.labeled} / ${stats.total} labeled · ${counts}${pm}`;
}
