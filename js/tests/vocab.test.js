// Sides and verdicts: left/right through the shown order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { choiceOf, sideOf, verdictOf, isAction } from "../lib/vocab.js";
import { planDiff, MIN_SHARED } from "../lib/diff.js";

test("a and b map to sides through the shown order, the rest are their own choice", () => {
  assert.equal(verdictOf("left", "ba"), "b");
  assert.equal(verdictOf("right", "ba"), "a");
  assert.equal(verdictOf("tie", "ba"), "tie");
  assert.equal(sideOf("a", "ba"), "right");
  assert.equal(sideOf("skip", "ab"), null);
  assert.equal(choiceOf("b", "ab"), "right");
  assert.equal(choiceOf("both_bad", "ab"), "both_bad");
  assert.ok(isAction("toggle-diff"));
  assert.ok(!isAction("toggle-everything"));
});

test("the diff falls back to lines when little is shared", () => {
  const same = planDiff("the cat sat on the mat", "the dog sat on the mat");
  assert.equal(same.mode, "words");
  assert.ok(same.shared >= MIN_SHARED);
  const apart = planDiff("Use a set.\nDone.", "Sorting first keeps memory low.\nDone.");
  assert.equal(apart.mode, "lines");
  assert.equal(planDiff("x".repeat(40_000), "y".repeat(40_000)).mode, "none");
});
