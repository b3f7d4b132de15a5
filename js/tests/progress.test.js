// The progress line and the labeling rate.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rate, progressText } from "../lib/progress.js";

test("own labels, imported ones apart, and counts per verdict", () => {
  const stats = { labeled: 2, imported: 5, total: 9, counts: { a: 1, both_bad: 1 } };
  assert.equal(progressText(stats, null), "2 / 9 labeled · 5 imported · A 1 · B 0 · tie 0 · both bad 1 · skip 0");
  assert.equal(
    progressText({ ...stats, imported: 0 }, 12.345),
    "2 / 9 labeled · A 1 · B 0 · tie 0 · both bad 1 · skip 0 · 12.3/min",
  );
});

test("the rate needs two labels and counts pairs per minute", () => {
  const rate = new Rate();
  assert.equal(rate.perMinute(), null);
  rate.times = [0, 30_000, 60_000];
  assert.equal(rate.perMinute(), 2);
});
