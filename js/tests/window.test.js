// WindowCache: coverage, fetch wants, stale replies, the unlabeled filter, eviction.
import { test } from "node:test";
import assert from "node:assert/strict";
import { WindowCache, AHEAD } from "../lib/window.js";

/** @param {number} pos @param {Partial<import("../lib/protocol.js").Item>} [over] */
function item(pos, over = {}) {
  return { pos, pair_id: `p${pos}`, prompt: [], left: "l", right: "r", shown: "ab", audit: false,
    label: null, imported: null, strength: null, note: null, edited: null, error: null, ...over };
}

/** @param {number} anchor @param {1 | -1} direction @param {number[]} positions @param {number} end */
function reply(anchor, direction, positions, end, unlabeled_only = false) {
  return { type: "items", view: "v", req: 1, anchor, direction, unlabeled_only,
    items: positions.map((p) => item(p)), end };
}

test("a fresh window wants the pairs ahead, then covers what the reply says", () => {
  const w = new WindowCache(100);
  w.reset(0);
  const want = w.wants(0, 1);
  assert.deepEqual(want, { anchor: -1, count: AHEAD + 6 });
  w.pending[1] = want.anchor;
  assert.equal(w.wants(0, 1), null, "one fetch per direction in flight");
  const added = w.apply(reply(-1, 1, [0, 1, 2, 3], 4));
  assert.equal(added.length, 4);
  assert.equal(w.step(0, 1), 1);
  assert.equal(w.step(3, 1), "unknown", "position 4 is not covered yet");
  assert.equal(w.step(0, -1), "edge");
});

test("a reply for an edge that moved (a jump) is dropped", () => {
  const w = new WindowCache(100);
  w.reset(0);
  w.pending[1] = -1;
  w.reset(50); // jump
  w.pending[1] = 49;
  assert.equal(w.apply(reply(-1, 1, [0, 1], 2)), null);
  assert.equal(w.entries.size, 0);
});

test("the unlabeled filter skips own and imported labels", () => {
  const w = new WindowCache(5);
  w.reset(0);
  w.unlabeledOnly = true;
  w.pending[1] = -1;
  const r = reply(-1, 1, [0, 1, 2, 3, 4], 5, true);
  r.items[1].label = "a";
  r.items[2].imported = "b";
  w.apply(r);
  assert.equal(w.step(0, 1), 3);
  assert.equal(w.step(3, 1), 4);
  assert.equal(w.step(4, 1), "edge");
});

test("eviction keeps a window around the cursor and moves the covered edges", () => {
  const w = new WindowCache(1000);
  w.reset(0);
  w.pending[1] = -1;
  w.apply(reply(-1, 1, Array.from({ length: 60 }, (_, i) => i), 60));
  w.evict(30);
  const kept = w.positions();
  assert.ok(kept.length < 60);
  assert.ok(kept.includes(30));
  assert.ok(w.hi <= 60 && w.hi > 30);
  assert.ok(w.lo >= 0 && w.lo < 30);
  assert.equal(w.step(w.hi - 1, 1), "unknown", "evicted positions must be fetched again");
});
