// Delivery: order, confirmation, resend with back-off, failure and retry.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Writes } from "../lib/writes.js";

function harness({ post } = {}) {
  const timers = [];
  const sent = [];
  const failures = [];
  let stalls = 0;
  const tasks = [];
  const writes = new Writes({
    post: post ?? ((m) => sent.push(m)),
    timeoutMs: () => 100,
    onChange: () => {},
    onStall: () => (stalls += 1),
    onSendFailed: (m, reason) => failures.push([m.type, reason]),
    setTimer: (fn, ms) => timers.push({ fn, ms }),
    queueTask: (fn) => tasks.push(fn),
  });
  const runTasks = () => tasks.splice(0).forEach((f) => f());
  return { writes, timers, sent, failures, runTasks, stalls: () => stalls };
}

const label = (seq) => ({ type: "label", view: "v", seq, pair_id: "p", pos: 0, verdict: "a",
  shown: "ab", strength: null, audit: false, duration_ms: 1 });

test("writes go out in the next task, in order, and before a later fetch", () => {
  const h = harness();
  h.writes.write(label(h.writes.nextSeq()));
  h.writes.write(label(h.writes.nextSeq()));
  assert.equal(h.sent.length, 0, "not on the keypress itself");
  assert.equal(h.writes.state(), "saving");
  h.writes.send({ type: "goto", view: "v", req: 1, target: "#3" });
  assert.deepEqual(h.sent.map((m) => m.seq ?? m.type), [1, 2, "goto"]);
  h.runTasks();
  assert.equal(h.sent.length, 3, "the queued flush finds nothing left");
});

test("a confirmed write is saved; an overdue one is resent with a doubling wait", () => {
  const h = harness();
  h.writes.write(label(h.writes.nextSeq()));
  h.runTasks();
  assert.equal(h.timers[0].ms, 100);
  h.timers[0].fn(); // no reply in time
  assert.equal(h.writes.state(), "stalled");
  assert.equal(h.stalls(), 1);
  assert.equal(h.sent.length, 2, "sent again");
  assert.equal(h.timers[1].ms, 200);
  h.writes.saved(1);
  assert.equal(h.writes.state(), "saved");
  h.timers[1].fn();
  assert.equal(h.sent.length, 2, "a saved write is not resent");
});

test("the wait stops doubling at 8× the first", () => {
  const h = harness();
  h.writes.write(label(h.writes.nextSeq()));
  for (let i = 0; i < 6; i++) h.timers[i].fn();
  assert.deepEqual(h.timers.map((t) => t.ms), [100, 200, 400, 800, 800, 800, 800]);
});

test("a refused write, or one that cannot leave, waits for Retry", () => {
  let down = true;
  const sent = [];
  const h = harness({ post: (m) => { if (down) throw new Error("closed comm"); sent.push(m); } });
  h.writes.write(label(h.writes.nextSeq()));
  h.runTasks();
  assert.equal(h.writes.state(), "error");
  assert.deepEqual(h.failures, [["label", "closed comm"]]);
  h.timers[0].fn();
  assert.equal(sent.length, 0, "a failed write is not resent by the timer");
  down = false;
  h.writes.retry();
  assert.equal(sent.length, 1);
  assert.equal(h.writes.state(), "saving");
  h.writes.refused(1);
  assert.equal(h.writes.state(), "error");
});

test("a rejected promise (marimo) fails the write without an unhandled rejection", async () => {
  const h = harness({ post: () => Promise.reject(new Error("server gone")) });
  h.writes.write(label(h.writes.nextSeq()));
  h.runTasks();
  await new Promise((r) => setImmediate(r));
  assert.equal(h.writes.state(), "error");
  assert.deepEqual(h.failures, [["label", "server gone"]]);
});

test("closing sends what is queued", () => {
  const h = harness();
  h.writes.write(label(h.writes.nextSeq()));
  h.writes.close();
  assert.equal(h.sent.length, 1);
});
