"""Every message between the Labeler's kernel side and its browser side, as TypedDicts.

The browser speaks first (``hello``) because anywidget drops custom messages sent before a
view exists. Requests carry ``view`` (a random id per rendered view) and ``req``/``seq``
numbers; replies echo them so several views of one widget never take each other's replies.
Pushes that start in Python (``goto`` from :meth:`Labeler.goto`) carry ``view=None`` and
reach every view. The JSDoc twins of these types live in ``js/lib/protocol.js``.

Example:
    >>> msg: FetchRequest = {"type": "fetch", "view": "v1", "req": 1, "anchor": -1,
    ...                      "direction": 1, "count": 10, "unlabeled_only": False}
    >>> msg["type"]
    'fetch'
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

from prefnb.vocab import Shown, Strength, Verdict

__all__ = [
    "AuditPush",
    "BrowserMessage",
    "EditRequest",
    "ErrorReply",
    "FetchRequest",
    "GotoRequest",
    "HelloRequest",
    "InitReply",
    "Item",
    "ItemsReply",
    "JudgeView",
    "JumpPush",
    "KernelMessage",
    "LabelRequest",
    "NoteRequest",
    "SavedReply",
    "Shown",
    "Stats",
    "Strength",
    "Turn",
    "UndoRequest",
    "Verdict",
    "Vote",
]


class Turn(TypedDict):
    """One prompt message, content flattened to text for display."""

    role: str
    content: str


JudgeShow = Literal["after", "never", "before"]
#: When the Labeler shows an LLM judge's verdict: after the person voted (default, so it
#: cannot anchor them), never, or before.
SHOW_JUDGE: tuple[JudgeShow, ...] = ("after", "never", "before")


class JudgeView(TypedDict):
    """An LLM judge's verdict on a pair (DataFrame positions), its rationale and the pair's
    route, from the ``judge_label``/``judge_rationale``/``route`` columns of
    :func:`prefnb.route`."""

    label: Literal["a", "b", "tie"] | None
    rationale: str | None
    route: str | None


class Vote(TypedDict):
    """One annotator's current label of a disputed pair, shown when adjudicating."""

    annotator: str
    label: Verdict
    strength: Strength | None
    note: str | None


class Item(TypedDict):
    """One pair as the browser sees it: already in display order (``left``/``right``).

    ``pos`` is the row position in the DataFrame given to the Labeler; ``audit`` marks a
    swap-replay (never shown to the annotator); ``label`` etc. are this annotator's current
    label for the pair, if any; ``imported`` is the verdict the DataFrame's ``label`` column
    brought (the annotator may overrule it with a label of their own).
    """

    pos: int
    pair_id: str
    prompt: list[Turn]
    left: str
    right: str
    shown: Shown
    audit: bool
    label: Verdict | None
    imported: Verdict | None
    strength: Strength | None
    note: str | None
    edited: str | None
    error: str | None
    judge: JudgeView | None
    votes: NotRequired[list[Vote]]  # mode="adjudicate" only


class Stats(TypedDict):
    """Progress over the pairs of this DataFrame for this annotator: ``labeled`` by them,
    ``imported`` (a label from the DataFrame and none of theirs), out of ``total``."""

    labeled: int
    imported: int
    total: int
    counts: dict[str, int]


# --- browser → kernel -------------------------------------------------------------------


class HelloRequest(TypedDict):
    """A view is rendered and wants its starting point."""

    type: Literal["hello"]
    view: str


class FetchRequest(TypedDict):
    """Items after (``direction=1``) or before (``-1``) row position ``anchor``.

    With ``unlabeled_only`` only pairs this annotator has not labeled are returned.
    """

    type: Literal["fetch"]
    view: str
    req: int
    anchor: int
    direction: Literal[1, -1]
    count: int
    unlabeled_only: bool


class LabelRequest(TypedDict):
    """A verdict, always as ``a``/``b`` (the browser maps left/right through ``shown``)."""

    type: Literal["label"]
    view: str
    seq: int
    pair_id: str
    pos: int
    verdict: Verdict
    shown: Shown
    strength: Strength | None
    audit: bool
    duration_ms: int | None


class UndoRequest(TypedDict):
    """Withdraw this annotator's latest label of ``pair_id``."""

    type: Literal["undo"]
    view: str
    seq: int
    pair_id: str
    pos: int


class EditRequest(TypedDict):
    """A rewritten preferred response for ``pair_id`` (the original is kept)."""

    type: Literal["edit"]
    view: str
    seq: int
    pair_id: str
    pos: int
    edited_preferred: str


class NoteRequest(TypedDict):
    """A free-text note on ``pair_id``."""

    type: Literal["note"]
    view: str
    seq: int
    pair_id: str
    pos: int
    note: str


class GotoRequest(TypedDict):
    """Jump to a pair by id, or to a 1-based row number given as text."""

    type: Literal["goto"]
    view: str
    req: int
    target: str


BrowserMessage = (
    HelloRequest
    | FetchRequest
    | LabelRequest
    | UndoRequest
    | EditRequest
    | NoteRequest
    | GotoRequest
)

# --- kernel → browser -------------------------------------------------------------------


class InitReply(TypedDict):
    """Where to start (first unlabeled pair), the progress so far, a notice to show (e.g.
    that the store holds this annotator's labels for pairs outside the DataFrame), and the
    first window ahead of ``cursor`` so the first pair paints without another round trip:
    ``items`` and ``end`` mean what they mean in :class:`ItemsReply` with
    ``anchor=cursor - 1``, ``direction=1`` and no filter."""

    type: Literal["init"]
    view: str
    cursor: int
    total: int
    stats: Stats
    notice: str | None
    items: list[Item]
    end: int


class ItemsReply(TypedDict):
    """Answer to a fetch. ``end`` is how far the scan reached: every matching position
    strictly between ``anchor`` and ``end`` is in ``items`` (``end`` is ``total`` or -1 at
    the edges)."""

    type: Literal["items"]
    view: str
    req: int
    anchor: int
    direction: Literal[1, -1]
    unlabeled_only: bool
    items: list[Item]
    end: int


class SavedReply(TypedDict):
    """The store committed the event for request ``seq``."""

    type: Literal["saved"]
    view: str
    seq: int
    pair_id: str
    event_id: int
    stats: Stats


class ErrorReply(TypedDict):
    """A request failed; ``seq``/``req`` say which. Nothing was stored.

    With ``seq`` and ``req`` both None it is a warning the browser shows as it is (e.g. a
    team label stored beyond its pair's quota after its lease expired)."""

    type: Literal["error"]
    view: str | None
    seq: int | None
    req: int | None
    message: str


class AuditPush(TypedDict):
    """A swap-replay of an already labeled pair, to show after ``after_labels`` more
    labels in this view. The browser shows it like any other pair."""

    type: Literal["audit"]
    view: str
    item: Item
    after_labels: int


class JumpPush(TypedDict):
    """Move the view's cursor to ``cursor`` (answer to a goto, or :meth:`Labeler.goto`)."""

    type: Literal["jump"]
    view: str | None
    req: int | None
    cursor: int


KernelMessage = InitReply | ItemsReply | SavedReply | ErrorReply | AuditPush | JumpPush
