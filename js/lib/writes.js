// @ts-check
/**
 * Delivery of the Labeler's writes (label, undo, edit, note) to the kernel: each is kept
 * until the kernel says the store committed it, resent with back-off when no reply comes,
 * marked failed when the kernel answers with an error or the message cannot leave the page,
 * and resent on Retry. The kernel answers a repeated (view, seq) without storing it twice.
 *
 * No DOM here: the host's `send`, the clock and the timers come in, so the rules run (and
 * are tested) in Node.
 *
 * Example:
 *   const writes = new Writes({ post: (m) => model.send(m), timeoutMs: () => 10_000,
 *     onChange: () => chrome.update(), onStall: () => chrome.say("No reply…", true) });
 *   writes.write({ type: "label", seq: writes.nextSeq(), ... });
 *   writes.saved(seq); // on the kernel's "saved" reply
 */

/** @typedef {import("./protocol.js").BrowserMessage} BrowserMessage */
/** @typedef {BrowserMessage & { seq: number }} WriteMessage */
/** @typedef {"error" | "stalled" | "saving" | "saved" | "idle"} SaveState */

/**
 * @typedef {{
 *   post: (msg: BrowserMessage) => unknown,
 *   timeoutMs: () => number,
 *   onChange: () => void,
 *   onStall: () => void,
 *   onSendFailed: (msg: BrowserMessage, reason: string) => void,
 *   setTimer?: (fn: () => void, ms: number) => unknown,
 *   queueTask?: (fn: () => void) => void,
 * }} WritesHost
 */

export class Writes {
  /** @param {WritesHost} host */
  constructor(host) {
    this.host = host;
    this.setTimer = host.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.queueTask = host.queueTask ?? ((fn) => queueMicrotask(fn));
    this.seq = 0;
    /** @type {Map<number, WriteMessage>} writes the kernel has not confirmed */
    this.unsaved = new Map();
    /** @type {Set<number>} writes the kernel answered with an error (Retry resends them) */
    this.failed = new Set();
    /** @type {Set<number>} writes with no reply after the timeout (resent: may be saved) */
    this.stalled = new Set();
    /** @type {BrowserMessage[]} writes waiting for the task after the keypress */
    this.outbox = [];
    this.closed = false;
  }

  /** The next sequence number for a write of this view. */
  nextSeq() {
    this.seq += 1;
    return this.seq;
  }

  /** What the "saved" mark says. @returns {SaveState} */
  state() {
    if (this.failed.size) return "error";
    if (this.stalled.size) return "stalled";
    if (this.unsaved.size) return "saving";
    return this.seq ? "saved" : "idle";
  }

  /** True when nothing is failed or overdue (an error line about delivery may go). */
  healthy() {
    return !this.failed.size && !this.stalled.size;
  }

  /**
   * Send a write soon, in order with earlier writes: `queueTask` (the Labeler passes "once
   * the frame showing the next pair is painted"; default: a microtask). Sending costs well
   * under a millisecond, but in JupyterLab the kernel's answers to it (status busy and idle,
   * the "saved" reply) then arrive a few milliseconds later, just when the frame showing the
   * next pair is due, and JupyterLab handles them first: that made the frame late for about
   * a third of the keys (bench/labeler.py). Sent after the paint, a label is committed one
   * frame later instead.
   * @param {WriteMessage} msg
   */
  write(msg) {
    this.track(msg);
    this.outbox.push(msg);
    if (this.outbox.length === 1) this.queueTask(() => this.flush());
  }

  /**
   * A message that is not a write (hello, fetch, goto): out now, after queued writes, so the
   * kernel sees messages in the order they were made.
   * @param {BrowserMessage} msg
   */
  send(msg) {
    if (this.outbox.length) this.flush();
    this.post(msg);
  }

  flush() {
    const queue = this.outbox;
    this.outbox = [];
    for (const msg of queue) this.post(msg);
  }

  /**
   * Remember a write until the kernel confirms it; if no reply comes in time (kernel busy,
   * dead or disconnected, or the message lost on the way) say so instead of showing
   * "saving…" forever, and send it again, waiting twice as long each time (up to 8×).
   * @param {WriteMessage} msg @param {number} [wait]
   */
  track(msg, wait) {
    const { seq } = msg;
    this.unsaved.set(seq, msg);
    const first = this.host.timeoutMs() || 10_000;
    const delay = wait ?? first;
    this.setTimer(() => {
      if (this.closed || this.unsaved.get(seq) !== msg || this.failed.has(seq)) return;
      this.stalled.add(seq);
      this.host.onStall();
      this.host.onChange();
      this.post(msg);
      this.track(msg, Math.min(delay * 2, 8 * first));
    }, delay);
  }

  /**
   * Hand `msg` to the host. Jupyter's `send` returns a message id (and throws on a closed
   * comm); marimo's returns a promise (each message is an HTTP request) that rejects when the
   * message cannot leave the page. A write that never left is "not saved" with Retry at
   * once, and the failure is neither an uncaught error nor an unhandled rejection.
   * @param {BrowserMessage} msg
   */
  post(msg) {
    /** @type {unknown} */
    let sent;
    try {
      sent = this.host.post(msg);
    } catch (err) {
      this.sendFailed(msg, err);
      return;
    }
    if (isThenable(sent)) sent.then(undefined, (err) => this.sendFailed(msg, err));
  }

  /** @param {BrowserMessage} msg @param {unknown} err */
  sendFailed(msg, err) {
    if (this.closed) return;
    if ("seq" in msg && this.unsaved.has(msg.seq)) {
      this.stalled.delete(msg.seq);
      this.failed.add(msg.seq);
    }
    this.host.onSendFailed(msg, err instanceof Error ? err.message : String(err));
  }

  /** The kernel stored write `seq`. @param {number} seq */
  saved(seq) {
    this.unsaved.delete(seq);
    this.failed.delete(seq);
    this.stalled.delete(seq);
  }

  /** The kernel refused write `seq` (nothing stored). @param {number} seq */
  refused(seq) {
    if (this.unsaved.has(seq)) this.failed.add(seq);
  }

  /** Resend every failed write, each watched again (a resend can be lost too). */
  retry() {
    const again = [...this.failed];
    this.failed.clear();
    for (const seq of again) {
      const msg = this.unsaved.get(seq);
      if (!msg) continue;
      this.send(msg);
      this.track(msg);
    }
  }

  /** The view is going: queued writes leave now (a label must not die with it). */
  close() {
    this.flush();
    this.closed = true;
  }
}

/** @param {unknown} value @returns {value is PromiseLike<unknown>} */
function isThenable(value) {
  return typeof value === "object" && value !== null && typeof (/** @type {{ then?: unknown }} */ (value).then) === "function";
}
