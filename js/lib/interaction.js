// @ts-check
/**
 * The Labeler's interaction state, written down: one named state at a time and the events
 * that move between them. Everything that used to be a flag (`waiting`, `pendingEdit`,
 * `advanceAfterEdit`, the help overlay's visibility) is a state here.
 *
 *   loading            no pair to show yet (first load, a jump, moving past the window)
 *   pair               a pair is shown: verdict keys label it
 *   done               the end of the queue is shown
 *   choosing-side      "e" on a pair without an A/B verdict: the next left/right verdict
 *                      opens the editor on the chosen response
 *   editing            an editor (edit or note) is open on the shown pair
 *   editing-then-next  the editor opened right after a verdict: closing it moves on
 *   help               the help overlay is open (modal); closing returns to the state before
 *
 * Example:
 *   const ui = new Interaction();
 *   ui.fire("show");        // ui.state === "pair"
 *   ui.fire("want-edit");   // ui.state === "choosing-side"
 *   ui.fire("edit-chosen"); // ui.state === "editing-then-next"
 */

/**
 * @typedef {"loading" | "pair" | "done" | "choosing-side" | "editing" | "editing-then-next"
 *   | "help"} State
 * @typedef {"wait" | "show" | "end" | "want-edit" | "edit-chosen" | "open-editor"
 *   | "close-editor" | "escape" | "help" | "help-close"} Event
 */

/** Where each event leads from each state; a missing entry means the event is ignored. */
/** @type {Record<Exclude<State, "help">, Partial<Record<Exclude<Event, "help" | "help-close">, State>>>} */
export const TRANSITIONS = {
  loading: { wait: "loading", show: "pair", end: "done" },
  pair: { wait: "loading", show: "pair", end: "done", "want-edit": "choosing-side", "open-editor": "editing" },
  done: { wait: "loading", show: "pair", end: "done" },
  "choosing-side": {
    wait: "loading",
    show: "pair",
    end: "done",
    "edit-chosen": "editing-then-next",
    "open-editor": "editing",
    escape: "pair",
  },
  editing: { wait: "loading", show: "pair", end: "done", "open-editor": "editing", "close-editor": "pair", escape: "pair" },
  "editing-then-next": {
    wait: "loading",
    show: "pair",
    end: "done",
    "open-editor": "editing-then-next",
    "close-editor": "pair",
    escape: "pair",
  },
};

export const STATES = /** @type {State[]} */ ([...Object.keys(TRANSITIONS), "help"]);

export class Interaction {
  /** @param {(state: State, from: State, event: Event) => void} [onChange] */
  constructor(onChange) {
    /** @type {State} */
    this.state = "loading";
    /** @type {Exclude<State, "help">} the state under the help overlay */
    this.under = "loading";
    this.onChange = onChange;
  }

  /**
   * Apply `event`; returns whether it moved (or re-entered) a state. While the help is
   * open, the events of the app underneath (data arriving, a jump) still move the state
   * under it.
   * @param {Event} event
   */
  fire(event) {
    const from = this.state;
    if (event === "help") {
      if (from === "help") return false;
      this.under = from;
      return this.set("help", from, event);
    }
    if (event === "help-close") {
      if (from !== "help") return false;
      return this.set(this.under, from, event);
    }
    const base = from === "help" ? this.under : from;
    const to = TRANSITIONS[base][event];
    if (!to) return false;
    if (from === "help") {
      this.under = /** @type {Exclude<State, "help">} */ (to);
      return true;
    }
    return this.set(to, from, event);
  }

  /** @param {State} to @param {State} from @param {Event} event */
  set(to, from, event) {
    this.state = to;
    this.onChange?.(to, from, event);
    return true;
  }

  /** The state the app is in, ignoring the help overlay. */
  get base() {
    return this.state === "help" ? this.under : this.state;
  }

  /**
   * A verdict can be given: a pair is shown and the help is not over it. An open editor
   * does not stop one (its draft is kept as the pair goes).
   */
  get canLabel() {
    return this.state !== "loading" && this.state !== "done" && this.state !== "help";
  }
}
