// @ts-check
/**
 * The Labeler's synced traits (prefnb/labeler/widget.py declares each one) and its
 * kernel ↔ browser messages: the JSDoc twins of prefnb/labeler/messages.py.
 * Keep both files in step; every `type` below has a TypedDict of the same name there.
 *
 * @typedef {import("./vocab.js").Verdict} Verdict
 * @typedef {"ab" | "ba"} Shown
 * @typedef {import("./vocab.js").Strength} Strength
 * @typedef {{ role: string, content: string }} Turn
 * @typedef {{
 *   pos: number, pair_id: string, prompt: Turn[], left: string, right: string, shown: Shown,
 *   audit: boolean, label: Verdict | null, imported: Verdict | null, strength: Strength | null,
 *   note: string | null, edited: string | null, error: string | null, judge: JudgeView | null,
 *   votes?: Vote[]
 * }} Item
 * @typedef {{ label: "a" | "b" | "tie" | null, rationale: string | null, route: string | null }} JudgeView
 * @typedef {{ annotator: string, label: Verdict, strength: Strength | null, note: string | null }} Vote
 * @typedef {{ labeled: number, imported: number, total: number, counts: Record<string, number> }}
 *   Stats
 *
 * Traits
 * @typedef {{
 *   annotator: string, total: number, guidelines: string, reply_timeout_ms: number,
 *   show_judge: "after" | "never" | "before"
 * }} LabelerTraits
 * @typedef {import("@anywidget/types").AnyModel<LabelerTraits>} LabelerModel
 *
 * Browser → kernel
 * @typedef {{ type: "hello", view: string }} HelloRequest
 * @typedef {{ type: "fetch", view: string, req: number, anchor: number, direction: 1 | -1,
 *   count: number, unlabeled_only: boolean }} FetchRequest
 * @typedef {{ type: "label", view: string, seq: number, pair_id: string, pos: number,
 *   verdict: Verdict, shown: Shown, strength: Strength | null, audit: boolean,
 *   duration_ms: number | null }} LabelRequest
 * @typedef {{ type: "undo", view: string, seq: number, pair_id: string, pos: number }} UndoRequest
 * @typedef {{ type: "edit", view: string, seq: number, pair_id: string, pos: number,
 *   edited_preferred: string }} EditRequest
 * @typedef {{ type: "note", view: string, seq: number, pair_id: string, pos: number,
 *   note: string }} NoteRequest
 * @typedef {{ type: "goto", view: string, req: number, target: string }} GotoRequest
 * @typedef {HelloRequest | FetchRequest | LabelRequest | UndoRequest | EditRequest | NoteRequest
 *   | GotoRequest} BrowserMessage
 *
 * Kernel → browser
 * @typedef {{ type: "init", view: string, cursor: number, total: number, stats: Stats,
 *   notice: string | null, items: Item[], end: number }} InitReply
 * @typedef {{ type: "items", view: string, req: number, anchor: number, direction: 1 | -1,
 *   unlabeled_only: boolean, items: Item[], end: number }} ItemsReply
 * @typedef {{ type: "saved", view: string, seq: number, pair_id: string, event_id: number,
 *   stats: Stats }} SavedReply
 * @typedef {{ type: "error", view: string | null, seq: number | null, req: number | null,
 *   message: string }} ErrorReply
 * @typedef {{ type: "audit", view: string, item: Item, after_labels: number }} AuditPush
 * @typedef {{ type: "jump", view: string | null, req: number | null, cursor: number }} JumpPush
 * @typedef {InitReply | ItemsReply | SavedReply | ErrorReply | AuditPush | JumpPush} KernelMessage
 */

export {};
