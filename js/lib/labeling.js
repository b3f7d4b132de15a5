// @ts-check
/**
 * What the annotator does to a pair: verdicts (with strength, and the "edit which side"
 * flow), undo, edits and notes, Escape and the help overlay. Each write goes to the app's
 * Writes; each change of interaction state goes through its state machine.
 *
 * Example: `app.labeling.verdict("left")` labels the shown pair and moves on.
 */
import { verdictOf } from "./vocab.js";

/** @typedef {import("./protocol.js").Item} Item */

export class Labeling {
  /** @param {import("./app.js").LabelerApp} app */
  constructor(app) {
    this.app = app;
  }

  /** @param {import("./vocab.js").Choice} choice */
  verdict(choice) {
    const entry = this.app.cursor.current();
    if (!entry || !this.app.state.canLabel) return;
    const { item } = entry;
    const verdict = verdictOf(choice, item.shown);
    const seq = this.app.writes.nextSeq();
    const duration = Math.round(performance.now() - this.app.shownAt);
    const { pair_id, pos, shown, audit } = item;
    this.write({ type: "label", view: this.app.view, seq, pair_id, pos, verdict, shown, strength: this.app.strength, audit, duration_ms: duration });
    this.app.rate.tick();
    this.app.cursor.labeled(entry);
    if (!audit) {
      // An edit rewrote the previously preferred response; the store drops it for a new side.
      if (item.label !== verdict) item.edited = null;
      item.label = verdict;
      item.strength = this.app.strength;
    }
    this.app.strength = null;
    this.app.chrome.say("");
    if (this.app.state.state === "choosing-side" && (verdict === "a" || verdict === "b") && !audit) {
      this.app.state.fire("edit-chosen");
      this.app.updateChrome();
      this.app.editors.open("edit", item);
      return;
    }
    this.app.nav.land(this.app.cursor.advance());
  }

  undo() {
    const last = this.app.cursor.unlabel();
    if (!last) {
      this.app.chrome.say("Nothing to undo in this session.");
      return;
    }
    this.write({ type: "undo", view: this.app.view, seq: this.app.writes.nextSeq(), pair_id: last.pair_id, pos: last.pos });
    const entry = this.app.cache.entries.get(last.pos);
    if (entry) {
      entry.item.label = null;
      entry.item.strength = null;
      this.app.cursor.parkAudit(1);
      this.app.cursor.pos = last.pos;
      this.app.nav.paint();
    } else {
      this.app.nav.jumpTo(last.pos, true);
    }
    this.app.chrome.say("Undone.");
  }

  /** @param {import("./protocol.js").LabelRequest | import("./protocol.js").UndoRequest | import("./protocol.js").EditRequest | import("./protocol.js").NoteRequest} msg */
  write(msg) {
    this.app.writes.write(msg);
    this.app.chrome.saving();
    this.app.after.run(() => this.app.updateChrome());
  }

  /**
   * Store an edit (the preferred response rewritten) or a note for `item`.
   * @param {"edit" | "note"} kind @param {Item} item @param {string} text
   */
  saveText(kind, item, text) {
    const base = { view: this.app.view, seq: this.app.writes.nextSeq(), pair_id: item.pair_id, pos: item.pos };
    if (kind === "edit") {
      item.edited = text;
      this.write({ type: "edit", ...base, edited_preferred: text });
    } else {
      item.note = text;
      this.write({ type: "note", ...base, note: text });
    }
  }

  /** @param {"edit" | "note"} kind */
  openEditor(kind) {
    const entry = this.app.cursor.current();
    if (!entry || (entry.item.audit && kind === "edit")) return;
    if (this.app.editors.open(kind, entry.item)) {
      this.app.state.fire("open-editor");
    } else if (this.app.state.fire("want-edit")) {
      this.app.chrome.say("Which response is better? Press 1/← or 2/→, then edit it.");
    }
  }

  /** @param {"edit" | "note"} kind @param {boolean} save */
  closeEditor(kind, save) {
    const entry = this.app.cursor.current();
    if (save) {
      if (!this.app.editors.save(kind, entry && entry.item)) return;
      this.app.updateChrome();
    } else {
      this.app.editors.cancel(kind);
    }
    const moveOn = this.app.state.state === "editing-then-next";
    this.app.state.fire("close-editor");
    if (moveOn) this.app.nav.land(this.app.cursor.advance());
  }

  /** Escape outside an editor: closes the help, or drops a pending "edit which side". */
  escape() {
    if (this.app.state.state === "help") return this.help(false);
    this.app.editors.discard(); // Escape discards, as inside the editor
    this.app.editors.close();
    this.app.state.fire("escape");
  }

  /** @param {boolean} open */
  help(open) {
    if (this.app.state.fire(open ? "help" : "help-close")) this.app.chrome.help(open);
  }
}
