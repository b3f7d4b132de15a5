// The interaction state machine: named states, the transitions between them, the help.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Interaction, STATES, TRANSITIONS } from "../lib/interaction.js";

test("the edit-which-side flow: want-edit, a side, the editor, then the next pair", () => {
  const seen = [];
  const s = new Interaction((to, from, event) => seen.push(`${from}-${event}->${to}`));
  assert.equal(s.state, "loading");
  assert.equal(s.canLabel, false);
  s.fire("show");
  assert.equal(s.canLabel, true);
  s.fire("want-edit");
  assert.equal(s.state, "choosing-side");
  s.fire("edit-chosen");
  assert.equal(s.state, "editing-then-next");
  s.fire("close-editor");
  assert.equal(s.state, "pair");
  assert.deepEqual(seen, [
    "loading-show->pair",
    "pair-want-edit->choosing-side",
    "choosing-side-edit-chosen->editing-then-next",
    "editing-then-next-close-editor->pair",
  ]);
});

test("events that do not apply are ignored", () => {
  const s = new Interaction();
  assert.equal(s.fire("want-edit"), false, "nothing to edit while loading");
  assert.equal(s.fire("close-editor"), false);
  assert.equal(s.state, "loading");
  s.fire("end");
  assert.equal(s.fire("open-editor"), false, "no editor on the end screen");
  assert.equal(s.state, "done");
});

test("the help is modal and returns to the state under it, which may move meanwhile", () => {
  const s = new Interaction();
  s.fire("show");
  s.fire("open-editor");
  s.fire("help");
  assert.equal(s.state, "help");
  assert.equal(s.canLabel, false);
  assert.equal(s.fire("help"), false);
  assert.equal(s.base, "editing");
  s.fire("show"); // a jump arrived under the help
  assert.equal(s.state, "help");
  s.fire("help-close");
  assert.equal(s.state, "pair");
});

test("every state can be left by a move, and every target is a state", () => {
  for (const [from, edges] of Object.entries(TRANSITIONS)) {
    for (const ev of ["wait", "show", "end"]) assert.ok(edges[ev], `${from} ignores ${ev}`);
    for (const to of Object.values(edges)) assert.ok(STATES.includes(to), `${from} → ${to}`);
  }
});
