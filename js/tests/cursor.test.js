// Where a move lands: next/previous, the edges, "Loading…", audits and undo history.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Cursor } from "../lib/cursor.js";
import { WindowCache } from "../lib/window.js";

const item = (pos, over = {}) => ({ pos, pair_id: `p${pos}`, prompt: [], left: "l", right: "r",
  shown: "ab", audit: false, label: null, imported: null, strength: null, note: null,
  edited: null, error: null, ...over });

function withWindow(total, positions, end) {
  const cache = new WindowCache(total);
  const cursor = new Cursor(cache);
  cursor.jump(0);
  cache.pending[1] = -1;
  cache.apply({ type: "items", view: "v", req: 1, anchor: -1, direction: 1, unlabeled_only: false,
    items: positions.map((p) => item(p)), end });
  return { cache, cursor };
}

test("moves land on pairs, then Loading… past the window, then the end", () => {
  const { cursor } = withWindow(3, [0, 1], 2);
  assert.equal(cursor.settle(), "pair");
  assert.equal(cursor.move(1), "pair");
  assert.equal(cursor.pos, 1);
  assert.equal(cursor.move(1), "loading");
  assert.equal(cursor.pos, 1, "stays until the pair arrives");
  assert.equal(cursor.move(-1), "pair");
  assert.equal(cursor.move(-1), "first");
  assert.equal(cursor.pos, 0);
});

test("a move past the window lands on the next pair when it arrives, not back on the one left", () => {
  const { cache, cursor } = withWindow(6, [0, 1], 2);
  cursor.move(1);
  assert.equal(cursor.move(1), "loading");
  assert.equal(cursor.settle(), "loading", "nothing new yet");
  cache.pending[1] = 1;
  cache.apply({ type: "items", view: "v", req: 2, anchor: 1, direction: 1, unlabeled_only: false,
    items: [item(2), item(3)], end: 4 });
  assert.equal(cursor.settle(), "pair");
  assert.equal(cursor.pos, 2, "the pair after the one labeled");
  assert.equal(cursor.settle(), "pair", "and it stays there");
  assert.equal(cursor.pos, 2);
});

test("a jump waits for the pair it names and lands on it", () => {
  const { cache, cursor } = withWindow(6, [0, 1], 2);
  cursor.jump(4);
  cache.pending[1] = 3;
  cache.apply({ type: "items", view: "v", req: 2, anchor: 3, direction: 1, unlabeled_only: false,
    items: [item(4), item(5)], end: 6 });
  assert.equal(cursor.settle(), "pair");
  assert.equal(cursor.pos, 4);
});

test("the end screen, and back from it", () => {
  const { cursor } = withWindow(2, [0, 1], 2);
  cursor.move(1);
  assert.equal(cursor.move(1), "done");
  assert.equal(cursor.pos, 2);
  assert.equal(cursor.move(-1), "pair");
  assert.equal(cursor.pos, 1);
});

test("a due audit comes before the next pair; moving away parks it again", () => {
  const { cursor } = withWindow(5, [0, 1, 2, 3, 4], 5);
  const replay = { item: item(0, { audit: true, shown: "ba" }), node: null };
  cursor.addAudit(replay, 1);
  const shown = cursor.current();
  cursor.labeled(shown);
  assert.equal(cursor.advance(), "pair");
  assert.equal(cursor.current(), replay);
  assert.equal(cursor.move(1), "pair");
  assert.equal(cursor.audit, null);
  assert.equal(cursor.audits.length, 1, "parked, to come back");
  cursor.labeled(replay);
  assert.equal(cursor.history.length, 1, "an audit is not in the undo history");
});

test("undo takes back this view's labels, newest first", () => {
  const { cursor } = withWindow(5, [0, 1, 2], 3);
  cursor.labeled(cursor.current());
  cursor.move(1);
  cursor.labeled(cursor.current());
  assert.deepEqual(cursor.unlabel(), { pos: 1, pair_id: "p1" });
  assert.deepEqual(cursor.unlabel(), { pos: 0, pair_id: "p0" });
  assert.equal(cursor.unlabel(), null);
  assert.equal(cursor.labelsDone, 0);
});

test("distance: a queue pair by its row, a waiting replay by its turn, a replay done never", () => {
  const { cursor } = withWindow(8, [0, 1, 2, 3, 4, 5, 6, 7], 8);
  const at = (pos) => cursor.cache.entries.get(pos);
  assert.equal(cursor.distance(at(0)), 0);
  assert.equal(cursor.distance(at(3)), 3);
  const replay = { item: item(0, { audit: true, shown: "ba" }), node: null };
  cursor.addAudit(replay, 2);
  assert.equal(cursor.distance(replay), 2, "two labels until due, not the row's 0");
  cursor.labeled(at(0));
  assert.equal(cursor.advance(), "pair");
  assert.equal(cursor.distance(replay), 1, "due after the next label");
  cursor.labeled(at(1));
  assert.equal(cursor.advance(), "pair");
  assert.equal(cursor.current(), replay);
  assert.equal(cursor.distance(replay), 0);
  assert.equal(cursor.distance(at(1)), 0, "the row under the replay stays near");
  cursor.labeled(replay);
  assert.equal(cursor.distance(replay), Infinity, "labeled: never shown again");
  assert.equal(cursor.advance(), "pair");
  assert.equal(cursor.pos, 2);
});
