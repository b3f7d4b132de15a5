// After-paint scheduling: callbacks run once the frame is drawn, behind whatever else was
// waiting for that frame (the host page's tasks, a latency probe), and without a frame too.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AfterPaint } from "../lib/ticks.js";

/**
 * A frame clock and message channels driven by the test. A browser queues every port's
 * messages as tasks of one source, first posted first run, across channels (Chromium does:
 * checked with a page; Node's real MessageChannel drains one port before the next, so it
 * cannot stand in here).
 */
function clock() {
  const frames = [];
  const timers = [];
  const queue = [];
  const channel = () => {
    const port1 = { onmessage: null, close() {} };
    const port2 = { postMessage: (data) => queue.push(() => port1.onmessage?.({ data })) };
    return { port1, port2 };
  };
  return {
    frames,
    timers,
    channel,
    raf: (fn) => frames.push(fn),
    setTimer: (fn, ms) => timers.push({ fn, ms }),
    frame: () => frames.splice(0).forEach((fn) => fn()),
    /** Run queued tasks, and the tasks they post, in order. */
    tasks: () => {
      while (queue.length) queue.shift()();
    },
  };
}

test("callbacks wait for the frame, then run behind a task another rAF posted after ours", () => {
  const c = clock();
  const after = new AfterPaint(c);
  const order = [];
  after.run(() => order.push("upkeep"));
  after.run(() => order.push("counters"));
  // A probe that, like the latency bench, posts a task from its own rAF callback after ours.
  c.raf(() => {
    const ch = c.channel();
    ch.port1.onmessage = () => order.push("probe");
    ch.port2.postMessage(null);
  });
  c.tasks();
  assert.deepEqual(order, [], "nothing before the frame");
  c.frame();
  c.tasks();
  assert.deepEqual(order, ["probe", "upkeep", "counters"]);
  after.close();
});

test("one frame request for many callbacks; the fallback timer runs them without a frame", () => {
  const c = clock();
  const after = new AfterPaint(c);
  let runs = 0;
  after.run(() => (runs += 1));
  after.run(() => (runs += 1));
  assert.equal(c.frames.length, 1);
  assert.equal(c.timers.length, 1);
  c.timers[0].fn(); // a hidden tab draws no frames: a label must still go out
  assert.equal(runs, 2);
  c.frame(); // the late frame finds nothing left to run
  c.tasks();
  assert.equal(runs, 2);
  after.close();
});

test("Unless: runs once after its delay, not at all when the work was done first", async () => {
  const { Unless } = await import("../lib/ticks.js");
  const timers = [];
  const clock = {
    setTimer: (fn, ms) => timers.push({ fn, ms, live: true }) - 1,
    clearTimer: (id) => (timers[id].live = false),
  };
  const fire = () => timers.filter((t) => t.live).forEach((t) => ((t.live = false), t.fn()));
  let runs = 0;
  const later = new Unless(() => (runs += 1), 100, clock);
  later.arm();
  later.arm(); // a second reply before the deadline neither adds a run nor puts it off
  assert.equal(timers.length, 1);
  assert.equal(timers[0].ms, 100);
  assert.ok(later.armed);
  fire();
  assert.equal(runs, 1);
  assert.ok(!later.armed);
  later.arm();
  later.cancel(); // the next key's upkeep drew the counters
  fire();
  assert.equal(runs, 1);
  later.cancel(); // cancelling when idle is harmless
  later.arm();
  fire();
  assert.equal(runs, 2);
});
