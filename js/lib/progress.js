// @ts-check
/**
 * Progress line: labeled / total, counts per verdict (from the kernel, i.e. from the store)
 * and pairs per minute in this view (measured here).
 *
 * Example: `progressText({ labeled: 2, imported: 5, total: 9, counts: { a: 2 } }, null)` is
 * `"2 / 9 labeled · 5 imported · A 2 · B 0 · tie 0 · both bad 0 · skip 0"`.
 */

import { VERDICTS, VERDICT_NAMES } from "./vocab.js";

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
  const counts = VERDICTS.map((v) => `${VERDICT_NAMES[v]} ${stats.counts[v] ?? 0}`).join(" · ");
  // Labels that came with the DataFrame count apart: "labeled" is this annotator's work.
  const imported = stats.imported ? ` · ${stats.imported} imported` : "";
  const pm = rate === null ? "" : ` · ${rate.toFixed(1)}/min`;
  return `${stats.labeled} / ${stats.total} labeled${imported} · ${counts}${pm}`;
}
