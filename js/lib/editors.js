// @ts-check
/**
 * The two editors under the pair: "edit" rewrites the preferred response (stored as
 * edited_preferred, the original kept), "note" is free text. Each remembers the pair and
 * the text it opened with: leaving the pair saves a changed draft (only Escape / Cancel
 * discard one), so a verdict clicked mid-edit loses no typing.
 *
 * Example:
 *   const editors = new Editors(ui, { entryAt, save: (kind, item, text) => …, focusRoot });
 *   editors.open("note", item); … editors.keep(); // the pair is going: save changed drafts
 */
import { sideOf } from "./vocab.js";

/** @typedef {import("./protocol.js").Item} Item */
/** @typedef {"edit" | "note"} Kind */
/** @typedef {{ pos: number, side: string, original: string }} Draft */
/**
 * @typedef {{
 *   entryAt: (pos: number) => { item: Item } | null,
 *   save: (kind: Kind, item: Item, text: string) => void,
 *   focusRoot: () => void,
 * }} EditorsHost
 */

export class Editors {
  /** @param {{ editBox: HTMLElement, noteBox: HTMLElement }} ui @param {EditorsHost} host */
  constructor(ui, host) {
    this.boxes = { edit: ui.editBox, note: ui.noteBox };
    this.host = host;
    /** @type {Record<Kind, Draft | null>} */
    this.drafts = { edit: null, note: null };
  }

  /** @param {Kind} kind */
  textarea(kind) {
    return /** @type {HTMLTextAreaElement} */ (this.boxes[kind].querySelector("textarea"));
  }

  /** @param {Kind} kind */
  isOpen(kind) {
    return !this.boxes[kind].hidden;
  }

  anyOpen() {
    return this.isOpen("edit") || this.isOpen("note");
  }

  /**
   * Open `kind` on `item`. An edit needs an A/B verdict (the response it rewrites); returns
   * false when there is none.
   * @param {Kind} kind @param {Item} item
   */
  open(kind, item) {
    const box = this.boxes[kind];
    const ta = this.textarea(kind);
    if (kind === "edit") {
      const side = item.label ? sideOf(item.label, item.shown) : null;
      if (!side) return false;
      ta.value = item.edited ?? (side === "left" ? item.left : item.right);
      box.dataset.side = side;
    } else {
      ta.value = item.note ?? "";
    }
    this.drafts[kind] = { pos: item.pos, side: box.dataset.side ?? "", original: ta.value };
    box.hidden = false;
    ta.focus();
    return true;
  }

  /** Save what was typed into editors that are closing by anything but Cancel / Escape. */
  keep() {
    for (const kind of /** @type {const} */ (["edit", "note"])) {
      const draft = this.drafts[kind];
      this.drafts[kind] = null;
      if (!draft || !this.isOpen(kind)) continue;
      const text = this.textarea(kind).value;
      const entry = this.host.entryAt(draft.pos);
      if (!entry || text === draft.original) continue;
      const { item } = entry;
      // An edit belongs to the response preferred when it began; if the verdict has since
      // flipped, it would replace the other response, so it is kept as a note instead.
      const side = item.label ? sideOf(item.label, item.shown) ?? "" : "";
      if (kind === "note" || side === draft.side) this.host.save(kind, item, text);
      else this.host.save("note", item, `${item.note ? item.note + "\n\n" : ""}Unsaved edit of the ${draft.side} response:\n${text}`);
    }
  }

  /** Forget the drafts (Escape): closing now discards them. */
  discard() {
    this.drafts = { edit: null, note: null };
  }

  close() {
    const active = document.activeElement;
    const { edit, note } = this.boxes;
    // On every keypress: writing `hidden` again, even unchanged, restyles both editors.
    if (!edit.hidden) edit.hidden = true;
    if (!note.hidden) note.hidden = true;
    if (active && (edit.contains(active) || note.contains(active))) this.host.focusRoot();
  }

  /**
   * Save editor `kind` onto `item` and close both; returns false when it was not open.
   * @param {Kind} kind @param {Item | null} item
   */
  save(kind, item) {
    if (!item || !this.isOpen(kind)) return false;
    this.drafts[kind] = null;
    this.host.save(kind, item, this.textarea(kind).value);
    this.close();
    return true;
  }

  /** @param {Kind} kind */
  cancel(kind) {
    this.drafts[kind] = null;
    this.close();
  }

  /** Which editor holds `el`, if any. @param {EventTarget | null} el @returns {Kind | null} */
  kindOf(el) {
    if (el === this.boxes.edit) return "edit";
    if (el === this.boxes.note) return "note";
    return null;
  }
}
