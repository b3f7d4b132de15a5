// @ts-check
/**
 * Scheduling around the frame: work that must not sit between a keypress and the frame
 * showing its result waits here.
 *
 * - `AfterPaint` runs callbacks once the next frame is painted: a task posted from
 *   requestAnimationFrame runs once that frame is drawn. It posts once more from there, so
 *   it runs behind every other task that was waiting for that frame (the host page's, a
 *   latency probe's) rather than ahead of them. A timer backs the frame up: hidden tabs run
 *   no frames, and a label must still reach the kernel.
 * - `Tick` runs one callback in its own task soon (a message-channel task, not setTimeout:
 *   nested timeouts are clamped to 4 ms).
 *
 * Example:
 *   const after = new AfterPaint();
 *   after.run(() => updateCounters()); // after the frame that shows the next pair
 */

/**
 * @typedef {{
 *   raf?: (fn: () => void) => unknown,
 *   setTimer?: (fn: () => void, ms: number) => unknown,
 *   channel?: () => MessageChannel,
 * }} Clock
 */

export class AfterPaint {
  /** @param {Clock} [clock] */
  constructor(clock = {}) {
    this.raf = clock.raf ?? ((fn) => requestAnimationFrame(fn));
    this.setTimer = clock.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    /** @type {(() => void)[]} */
    this.queue = [];
    this.armed = false;
    this.port = (clock.channel ?? (() => new MessageChannel()))();
    // First message: the frame is drawn; the second one queues behind what else waited.
    this.port.port1.onmessage = (e) => (e.data === "drawn" ? this.port.port2.postMessage("last") : this.flush());
  }

  /** Run `fn` right after the next frame is painted. @param {() => void} fn */
  run(fn) {
    this.queue.push(fn);
    if (this.armed) return;
    this.armed = true;
    this.raf(() => this.port.port2.postMessage("drawn"));
    this.setTimer(() => this.flush(), 100);
  }

  /** Run what is queued now (the frame came, the fallback timer fired, or the view goes). */
  flush() {
    if (!this.armed) return;
    this.armed = false;
    const queue = this.queue;
    this.queue = [];
    for (const fn of queue) fn();
  }

  close() {
    this.flush();
    this.port.port1.onmessage = null;
    this.port.port1.close();
  }
}

export class Tick {
  /** @param {() => void} fn */
  constructor(fn) {
    this.pending = false;
    this.port = new MessageChannel();
    this.port.port1.onmessage = () => {
      this.pending = false;
      fn();
    };
  }

  /** Ask for one run in a task of its own (no-op if one is already asked for). */
  request() {
    if (this.pending) return;
    this.pending = true;
    this.port.port2.postMessage(null);
  }

  close() {
    this.port.port1.onmessage = null;
    this.port.port1.close();
  }
}
