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
 * - `Unless` runs a callback after a delay unless work that runs anyway does its job first
 *   (`cancel`): an update with no deadline of its own joins the frames the next keypress
 *   produces instead of drawing a frame of its own just before that keypress.
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

/**
 * `fn` once, `ms` after `arm()`, unless `cancel()` comes first. The Labeler arms it
 * when the kernel confirms a label: the progress line and the saved mark then change with
 * the upkeep after the next keypress, which redraws them anyway, or after `ms` if no key
 * comes. (Redrawing them on the reply itself put a frame of their own ~35-45 ms after each
 * key, just when a fast annotator's next key lands: that key's frame then waited one more
 * vsync. bench/labeler.py in JupyterLab: 18 → 9 of 300 keys ≥ 32 ms in one run.)
 */
export class Unless {
  /**
   * @param {() => void} fn @param {number} ms
   * @param {{ setTimer?: (fn: () => void, ms: number) => unknown, clearTimer?: (id: unknown) => void }} [clock]
   */
  constructor(fn, ms, clock = {}) {
    this.fn = fn;
    this.ms = ms;
    this.setTimer = clock.setTimer ?? ((f, t) => setTimeout(f, t));
    this.clearTimer = clock.clearTimer ?? ((id) => clearTimeout(/** @type {number} */ (id)));
    /** @type {unknown} */
    this.timer = null;
  }

  /** Run `fn` in `ms`; already armed, the first deadline holds (replies in a row cannot put it off). */
  arm() {
    if (this.timer !== null) return;
    this.timer = this.setTimer(() => {
      this.timer = null;
      this.fn();
    }, this.ms);
  }

  /** The work was done some other way: do not run `fn`. */
  cancel() {
    if (this.timer === null) return;
    this.clearTimer(this.timer);
    this.timer = null;
  }

  get armed() {
    return this.timer !== null;
  }
}
