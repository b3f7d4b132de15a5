// The key table: every key maps to an action, the help lists them all.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BINDINGS, actionFor } from "../lib/keys.js";
import { ACTIONS, STRENGTHS } from "../lib/vocab.js";

/** @param {string} key @param {Partial<KeyboardEvent>} [mods] */
const press = (key, mods = {}) =>
  actionFor(/** @type {KeyboardEvent} */ ({ key, ctrlKey: false, metaKey: false, altKey: false, target: null, ...mods }));

test("verdict, strength, move and toggle keys", () => {
  assert.equal(press("1"), "left");
  assert.equal(press("ArrowLeft"), "left");
  assert.equal(press("2"), "right");
  assert.equal(press("T"), "tie", "letters ignore case");
  assert.equal(press(" "), "skip");
  assert.equal(press("3"), "strength-slight");
  assert.equal(press("5"), "strength-strong");
  assert.equal(press("Backspace"), "undo");
  assert.equal(press("d"), "toggle-diff");
  assert.equal(press("f"), "toggle-unlabeled");
  assert.equal(press("?"), "help");
  assert.equal(press("Escape"), "close");
  assert.equal(press("x"), null);
});

test("modified keys belong to the host", () => {
  assert.equal(press("1", { ctrlKey: true }), null);
  assert.equal(press("j", { metaKey: true }), null);
  assert.equal(press("k", { altKey: true }), null);
});

test("no key is bound twice, every bound action exists, every strength has a key", () => {
  const seen = new Set();
  for (const group of BINDINGS) {
    for (const row of group.rows) {
      for (const key of row.keys) {
        assert.ok(!seen.has(key), `key ${key} bound twice`);
        seen.add(key);
      }
      if (row.action) assert.ok(ACTIONS.includes(row.action), row.action);
      assert.ok(row.what && row.shown, "every row is shown in the help");
    }
  }
  const actions = BINDINGS.flatMap((g) => g.rows.map((r) => r.action));
  for (const s of STRENGTHS) assert.ok(actions.includes(`strength-${s}`), s);
  for (const t of ["raw", "diff", "sync", "unlabeled"]) assert.ok(actions.includes(`toggle-${t}`), t);
});
