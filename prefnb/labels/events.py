"""Label events: the shapes stored in the label store and how they fold into current labels.

The store is an append-only log. Each event is one of five kinds:

=========  ==========================================================================
kind       meaning
=========  ==========================================================================
``label``  a verdict (``a``, ``b``, ``tie``, ``both_bad``, ``skip``) for a pair; it
           becomes the annotator's current label for that pair
``undo``   retracts the annotator's latest still-standing label on that pair; the
           label before it (if any) becomes current again
``edit``   attaches ``edited_preferred`` (a rewrite of the better response) to the pair
           for that annotator; the original responses are never changed. ``verdict``
           may name the side that was rewritten (``a``/``b``); the edit is then shown
           only while the current label picks that side. ``None`` clears the edit
``note``   attaches ``note`` to the pair for that annotator (``None`` clears it)
``audit``  a swap-replay verdict; never changes the current label
=========  ==========================================================================

Verdicts always name positions in the DataFrame (``a`` = ``response_a``), whatever the
screen showed; ``shown`` records the on-screen order (``"ab"``: ``a`` on the left,
``"ba"``: ``b`` on the left). Notes and edits belong to the (pair, annotator), latest
wins, and survive an undo: undo retracts verdicts only.

Example:
    >>> events = [
    ...     {"id": 1, "pair_id": "p", "annotator": "al", "kind": "label", "verdict": "a"},
    ...     {"id": 2, "pair_id": "p", "annotator": "al", "kind": "label", "verdict": "b"},
    ...     {"id": 3, "pair_id": "p", "annotator": "al", "kind": "undo"},
    ... ]
    >>> fold_events(events)[("p", "al")]["label"]
    'a'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, NotRequired, TypedDict

from prefnb.vocab import KINDS, SHOWN, STRENGTHS, VERDICTS, Kind, Shown, Strength, Verdict

__all__ = [
    "EVENT_COLUMNS",
    "KINDS",
    "SHOWN",
    "STRENGTHS",
    "VERDICTS",
    "CurrentLabel",
    "EventRow",
    "Kind",
    "LabelEvent",
    "Shown",
    "Strength",
    "Verdict",
    "fold_events",
    "label_before_each_audit",
]

# The vocabularies live in prefnb.vocab; re-exported here for the store's callers.

#: Columns of the ``events`` table, in order.
EVENT_COLUMNS: Final[tuple[str, ...]] = (
    "id",
    "pair_id",
    "annotator",
    "kind",
    "verdict",
    "shown",
    "strength",
    "note",
    "edited_preferred",
    "session",
    "created_at",
    "duration_ms",
)


class LabelEvent(TypedDict):
    """One event as given to :meth:`LabelStore.record_many` (keyword names of ``record``)."""

    pair_id: str
    annotator: str
    kind: Kind
    verdict: NotRequired[Verdict | None]
    shown: NotRequired[Shown | None]
    strength: NotRequired[Strength | None]
    note: NotRequired[str | None]
    edited_preferred: NotRequired[str | None]
    session: NotRequired[str | None]
    duration_ms: NotRequired[float | None]


class EventRow(TypedDict):
    """One stored event (a row of the ``events`` table)."""

    id: int
    pair_id: str
    annotator: str
    kind: Kind
    verdict: Verdict | None
    shown: Shown | None
    strength: Strength | None
    note: str | None
    edited_preferred: str | None
    session: str | None
    created_at: str
    duration_ms: float | None


class CurrentLabel(TypedDict):
    """The current label of one (pair, annotator): a row of the ``current_labels`` table."""

    pair_id: str
    annotator: str
    label: Verdict
    strength: Strength | None
    note: str | None
    edited_preferred: str | None
    shown: Shown | None
    labeled_at: str
    event_id: int


@dataclass
class _Standing:
    verdict: Verdict
    strength: Strength | None
    shown: Shown | None
    created_at: str
    event_id: int


@dataclass
class _PairState:
    stack: list[_Standing] = field(default_factory=list)
    note: str | None = None
    edit: str | None = None
    edit_side: str | None = None


def _apply(state: _PairState, ev: Mapping[str, Any]) -> None:
    kind = ev["kind"]
    if kind == "label":
        state.stack.append(
            _Standing(
                verdict=ev["verdict"],
                strength=ev.get("strength"),
                shown=ev.get("shown"),
                created_at=ev.get("created_at", ""),
                event_id=int(ev["id"]),
            )
        )
        if ev.get("note") is not None:
            state.note = ev["note"]
        if ev.get("edited_preferred") is not None:
            state.edit, state.edit_side = ev["edited_preferred"], ev["verdict"]
    elif kind == "undo":
        if state.stack:
            state.stack.pop()
    elif kind == "edit":
        state.edit, state.edit_side = ev.get("edited_preferred"), ev.get("verdict")
    elif kind == "note":
        state.note = ev.get("note")
    # audit events never change the current label


def _current(key: tuple[str, str], state: _PairState) -> CurrentLabel | None:
    if not state.stack:
        return None
    top = state.stack[-1]
    edit = state.edit if state.edit_side in (None, top.verdict) else None
    return {
        "pair_id": key[0],
        "annotator": key[1],
        "label": top.verdict,
        "strength": top.strength,
        "note": state.note,
        "edited_preferred": edit,
        "shown": top.shown,
        "labeled_at": top.created_at,
        "event_id": top.event_id,
    }


def fold_events(events: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], CurrentLabel]:
    """Replay ``events`` (in ``id`` order) into the current label per (pair_id, annotator).

    Pairs whose labels were all undone are absent from the result.
    """
    states: dict[tuple[str, str], _PairState] = {}
    for ev in events:
        key = (ev["pair_id"], ev["annotator"])
        _apply(states.setdefault(key, _PairState()), ev)
    out: dict[tuple[str, str], CurrentLabel] = {}
    for key, state in states.items():
        cur = _current(key, state)
        if cur is not None:
            out[key] = cur
    return out


def label_before_each_audit(
    events: Iterable[Mapping[str, Any]],
) -> list[tuple[Mapping[str, Any], CurrentLabel | None]]:
    """Each audit event with the annotator's current label at the moment it was recorded."""
    states: dict[tuple[str, str], _PairState] = {}
    out: list[tuple[Mapping[str, Any], CurrentLabel | None]] = []
    for ev in events:
        key = (ev["pair_id"], ev["annotator"])
        state = states.setdefault(key, _PairState())
        if ev["kind"] == "audit":
            out.append((ev, _current(key, state)))
        else:
            _apply(state, ev)
    return out
