"""``Labeler``: side-by-side preference labeling in a notebook, saved to a SQLite store.

The DataFrame stays in the kernel. The browser keeps a small window of pairs (the current
one, 10 ahead, 3 behind), renders them ahead of time and asks for more with typed custom
messages (:mod:`prefnb.labeler.messages`); labels go back in the background and the
"saved" mark appears only once the store has committed them.

Example:
    >>> import prefnb
    >>> lab = prefnb.Labeler(prefnb.load_sample(), store="labels.sqlite",
    ...                      annotator="alice")  # doctest: +SKIP
    >>> lab  # doctest: +SKIP
    >>> lab.labels.head()  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, cast

import anywidget
import pandas as pd
import traitlets

from prefnb.labeler.messages import (
    SHOW_JUDGE,
    AuditPush,
    ErrorReply,
    InitReply,
    ItemsReply,
    JudgeShow,
    JumpPush,
    KernelMessage,
    SavedReply,
    Shown,
)
from prefnb.labeler.team import team_window
from prefnb.labeler.window import LabelWindow, validate_frame
from prefnb.labels import LabelStore, LabelStoreError, audit_stats

if TYPE_CHECKING:
    from prefnb.labeler.messages import (
        EditRequest,
        FetchRequest,
        GotoRequest,
        LabelRequest,
        NoteRequest,
        UndoRequest,
    )

__all__ = ["Labeler"]

_STATIC = Path(__file__).resolve().parent.parent / "static"
#: Messages that store an event; each carries the view's sequence number.
_WRITES: Final = frozenset({"label", "undo", "edit", "note"})
#: Resends come within minutes; this bounds the memory of a very long session.
_WRITES_REMEMBERED: Final = 100_000
#: Pairs sent with the first reply: the current one and the browser's look-ahead.
INITIAL_WINDOW = 12


class Labeler(anywidget.AnyWidget):
    """Label the pairs of ``df`` (a pair table) side by side; every action goes to ``store``.

    Args:
        df: the pairs to label, in the order to label them (filter/sort with pandas first).
        store: a SQLite path or an open :class:`prefnb.LabelStore`.
        annotator: who is labeling; labels, resume point and audits are per annotator.
        shuffle: randomize left/right per pair (reproducibly from ``seed`` and pair_id).
        audit_rate: share of labeled pairs replayed later with sides swapped.
        guidelines: markdown shown in a collapsible panel.
        seed: seed for the shuffle and the audit draw (``None`` means 0).
        show_judge: when to show an LLM judge's verdict and rationale (the ``judge_label``
            and ``judge_rationale`` columns that :func:`prefnb.route` adds): ``"after"``
            the person labeled the pair (default: it cannot anchor them), ``"never"`` (not
            even sent to the browser) or ``"before"``.
        routes: keep only the rows whose ``route`` column is one of these, e.g.
            ``("human", "audit")`` for the pairs :func:`prefnb.route` sends to people.
        overlap: team labeling: each pair goes to this many annotators; this annotator sees
            only the pairs it claims (``LabelStore.claim``, ahead of the screen, with
            leases of ``lease_s`` seconds). ``None``: every pair, no claims.
        lease_s: seconds a claimed pair stays reserved for this annotator. A label made
            after its lease expired is stored even if others filled the pair meanwhile;
            the annotator is told it is an extra one (see
            :class:`prefnb.labeler.team.TeamWindow`).
        mode: ``"label"``, or ``"adjudicate"``: the pairs whose annotators disagree, with
            every annotator's verdict, strength and note; a verdict is stored as an
            adjudication event (see :mod:`prefnb.labeler.team`).

    >>> Labeler([1, 2])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    prefnb.pairs.PairSchemaError: expected a pandas DataFrame, got list
    """

    _esm = _STATIC / "labeler.js"
    annotator = traitlets.Unicode("").tag(sync=True)
    total = traitlets.Int(0).tag(sync=True)
    guidelines = traitlets.Unicode("").tag(sync=True)
    show_judge = traitlets.Enum(SHOW_JUDGE, default_value="after").tag(sync=True)
    #: How long the browser waits for the kernel to confirm a write before it says so and
    #: sends it again (doubling the wait each time, up to 8×).
    reply_timeout_ms = traitlets.Int(10_000).tag(sync=True)

    def __init__(
        self,
        df: pd.DataFrame,
        *,
        store: str | os.PathLike[str] | LabelStore = "labels.sqlite",
        annotator: str = "alice",
        shuffle: bool = True,
        audit_rate: float = 0.05,
        guidelines: str | None = None,
        seed: int | None = None,
        show_judge: JudgeShow = "after",
        routes: Sequence[str] | None = None,
        overlap: int | None = None,
        lease_s: float = 1800.0,
        mode: Literal["label", "adjudicate"] = "label",
    ) -> None:
        if show_judge not in SHOW_JUDGE:
            raise ValueError(
                f"show_judge must be one of {', '.join(SHOW_JUDGE)}, got {show_judge!r}"
            )
        if routes is not None and isinstance(df, pd.DataFrame):
            if "route" not in df.columns:
                raise ValueError(
                    "routes=... needs a 'route' column: pass the frame prefnb.route returned"
                )
            wanted = [routes] if isinstance(routes, str) else list(routes)
            df = df[df["route"].isin(wanted)]
        validate_frame(df)
        if mode not in ("label", "adjudicate"):
            raise ValueError(f"mode must be 'label' or 'adjudicate', got {mode!r}")
        if (
            not isinstance(annotator, str)
            or not annotator.strip()
            or annotator != annotator.strip()
        ):
            raise ValueError(
                "annotator must be a non-empty string without surrounding spaces, "
                f"got {annotator!r}"
            )
        if isinstance(audit_rate, bool) or not isinstance(audit_rate, (int, float)):
            raise TypeError(f"audit_rate must be a number in [0, 1], got {audit_rate!r}")
        if not 0.0 <= float(audit_rate) <= 1.0:
            raise ValueError(f"audit_rate must be in [0, 1], got {audit_rate!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise TypeError(f"seed must be an int or None, got {seed!r}")
        if guidelines is not None and not isinstance(guidelines, str):
            raise TypeError(f"guidelines must be markdown text or None, got {type(guidelines)}")
        self._store = store if isinstance(store, LabelStore) else LabelStore(store)
        self._session = uuid.uuid4().hex
        # (view, seq) of every write already stored → its event id. The browser resends a
        # write whose reply is overdue (a comm message can be lost, e.g. JupyterLab's kernel
        # subshells under load); a repeat is answered, never stored twice (an undo twice
        # would take back two labels).
        self._written: OrderedDict[tuple[str, int], int] = OrderedDict()
        labeled = self._store.current_by_pair(annotator)  # ids outside df: ignored by the window
        self._mode = mode
        self._window = team_window(
            df,
            self._store,
            annotator,
            mode,
            overlap,
            lease_s,
            seed,
            shuffle,
            audit_rate,
            labeled,
            judge=show_judge != "never",
        ) or LabelWindow(
            df,
            seed=seed,
            shuffle=shuffle,
            audit_rate=float(audit_rate),
            labeled=labeled,
            judge=show_judge != "never",
        )
        self._df = df
        # Labels for pairs outside df are normal (the queue is a pandas filter) but must not
        # look lost: say how many there are; they stay in the store untouched.
        self._outside = len(labeled) - self._window.stats()["labeled"] if mode == "label" else 0
        super().__init__(
            annotator=annotator,
            total=len(df),
            guidelines=guidelines or "",
            show_judge=show_judge,
        )
        self.on_msg(self._on_msg)

    # -- public API -----------------------------------------------------------------------

    @property
    def store(self) -> LabelStore:
        """The label store this widget writes to."""
        return self._store

    @property
    def labels(self) -> pd.DataFrame:
        """This annotator's current labels for the pairs of this DataFrame."""
        cur = self._store.current(annotator=self.annotator)
        return cur[cur["pair_id"].isin(self._df["pair_id"])].reset_index(drop=True)

    def audit(self, annotator: str | None = "") -> pd.DataFrame:
        """Swap-replay statistics (self-consistency, left/right bias) from the store.

        Defaults to this annotator; pass ``None`` for every annotator in the store.
        """
        who = self.annotator if annotator == "" else annotator
        result: pd.DataFrame = audit_stats(self._store, annotator=who)
        return result

    def goto(self, pair_id: str) -> None:
        """Move every view of this widget to ``pair_id`` (or ``"#n"``, a 1-based row)."""
        pos = self._window.find(pair_id)
        self._push({"type": "jump", "view": None, "req": None, "cursor": pos})

    def __repr__(self) -> str:
        stats = self._window.stats()
        outside = f", {self._outside} labels outside this frame" if self._outside else ""
        return (
            f"Labeler({stats['total']} pairs, annotator={self.annotator!r}, "
            f"labeled={stats['labeled']}{outside})"
        )

    # -- messages -------------------------------------------------------------------------

    def _push(self, msg: KernelMessage) -> None:
        self.send(msg)

    def _on_msg(self, _widget: object, content: Mapping[str, Any], _buffers: object) -> None:
        # In a kernel, the message is handled right after the kernel reports idle, not
        # between busy and idle: JupyterLab redraws its kernel indicators (toolbar and
        # status bar, one damage rect spanning the notebook) whenever busy lasts past a frame,
        # and storing a label in between kept it busy ~4.4 ms against ~1.4 ms for a message
        # that does nothing. Messages are still handled in the order they came, and a reply
        # still goes out only once its label is committed.
        loop = _kernel_loop()
        if loop is None:
            self._handle(content)
        else:
            loop.call_soon(self._handle, content)

    def _handle(self, content: Mapping[str, Any]) -> None:
        view = content.get("view") if isinstance(content, Mapping) else None
        try:
            kind = content["type"]
            if kind in _WRITES and self._repeat(content):
                return
            handler = {
                "hello": self._hello,
                "fetch": self._fetch,
                "label": self._label,
                "undo": self._undo,
                "edit": self._edit,
                "note": self._note,
                "goto": self._goto,
            }.get(kind)
            if handler is None:
                raise ValueError(f"unknown message type {kind!r}")
            handler(content)
        except (LabelStoreError, ValueError, KeyError, TypeError, OSError) as exc:
            # The browser shows this and keeps the action pending: nothing is dropped.
            error: ErrorReply = {
                "type": "error",
                "view": view if isinstance(view, str) else None,
                "seq": content.get("seq") if isinstance(content.get("seq"), int) else None,
                "req": content.get("req") if isinstance(content.get("req"), int) else None,
                "message": f"{type(exc).__name__}: {exc}",
            }
            self._push(error)

    def _hello(self, msg: Mapping[str, Any]) -> None:
        cursor = self._window.first_unlabeled()
        positions, end = self._window.positions(
            anchor=cursor - 1, direction=1, count=INITIAL_WINDOW, unlabeled_only=False
        )
        reply: InitReply = {
            "type": "init",
            "view": str(msg["view"]),
            "cursor": cursor,
            "items": [self._window.item(p) for p in positions],
            "end": end,
            "total": self._window.total,
            "stats": self._window.stats(),
            "notice": (
                f"The store also holds {self._outside} of {self.annotator}'s labels for pairs "
                "outside this DataFrame; they are kept, not shown here."
                if self._outside
                else None
            ),
        }
        self._push(reply)

    def _fetch(self, raw: Mapping[str, Any]) -> None:
        msg = cast("FetchRequest", raw)
        direction: Literal[1, -1] = 1 if msg["direction"] == 1 else -1
        positions, end = self._window.positions(
            anchor=int(msg["anchor"]),
            direction=direction,
            count=int(msg["count"]),
            unlabeled_only=bool(msg["unlabeled_only"]),
        )
        reply: ItemsReply = {
            "type": "items",
            "view": msg["view"],
            "req": msg["req"],
            "anchor": int(msg["anchor"]),
            "direction": direction,
            "unlabeled_only": bool(msg["unlabeled_only"]),
            "items": [self._window.item(p) for p in positions],
            "end": end,
        }
        self._push(reply)

    def _checked_pos(self, msg: Mapping[str, Any]) -> int:
        pos = int(msg["pos"])
        if not 0 <= pos < self._window.total or self._window.pair_id(pos) != msg["pair_id"]:
            raise KeyError(f"pair {msg['pair_id']!r} is not at row {pos} of this DataFrame")
        return pos

    def _repeat(self, msg: Mapping[str, Any]) -> bool:
        """Answer a write that was stored already (a resend) without storing it again."""
        seq = msg.get("seq")
        if not isinstance(seq, int):
            return False
        key = (str(msg.get("view")), seq)
        event_id = self._written.get(key)
        if event_id is None:
            return False
        self._written.move_to_end(key)
        self._saved(msg, event_id)
        return True

    def _saved(self, msg: Mapping[str, Any], event_id: int) -> None:
        self._written[(str(msg["view"]), int(msg["seq"]))] = int(event_id)
        if len(self._written) > _WRITES_REMEMBERED:
            self._written.popitem(last=False)
        reply: SavedReply = {
            "type": "saved",
            "view": str(msg["view"]),
            "seq": int(msg["seq"]),
            "pair_id": str(msg["pair_id"]),
            "event_id": int(event_id),
            "stats": self._window.stats(),
        }
        self._push(reply)

    def _label(self, raw: Mapping[str, Any]) -> None:
        msg = cast("LabelRequest", raw)
        pos = self._checked_pos(msg)
        audit = bool(msg["audit"])
        shown: Shown = "ba" if msg["shown"] == "ba" else "ab"
        if self._mode == "adjudicate":
            self._adjudicate(msg, pos)
            return
        # Team work: a label whose lease ran out is checked against the pair's quota first
        # (see TeamWindow.confirm); it is stored either way.
        confirm = getattr(self._window, "confirm", None)
        within_quota = audit or confirm is None or confirm(pos)
        event_id = self._store.record(
            pair_id=msg["pair_id"],
            annotator=self.annotator,
            kind="audit" if audit else "label",
            verdict=msg["verdict"],
            shown=shown,
            strength=msg.get("strength"),
            session=self._session,
            duration_ms=msg.get("duration_ms"),
        )
        first_label = not audit and not self._window.is_labeled(pos)
        if not audit:
            self._window.set_label(pos, {"label": msg["verdict"], "strength": msg.get("strength")})
        self._saved(msg, event_id)
        if not within_quota:
            # seq None: a warning about a label that was stored, not a failed write.
            warning: ErrorReply = {
                "type": "error",
                "view": str(msg["view"]),
                "seq": None,
                "req": None,
                "message": (
                    f"Saved, but your claim on this pair had expired and other annotators "
                    f"have since taken it: your label is kept as an extra one beyond the "
                    f"overlap of {getattr(self._window, 'overlap', 1)}."
                ),
            }
            self._push(warning)
        wrap = getattr(self._window, "wrap_after", None)
        cursor = wrap(pos) if wrap is not None and not audit else None
        if cursor is not None:
            # The forward queue is done and pairs behind are short of their quota: go there.
            jump: JumpPush = {
                "type": "jump",
                "view": str(msg["view"]),
                "req": None,
                "cursor": cursor,
            }
            self._push(jump)
        delay = self._window.audit_delay(msg["pair_id"]) if first_label else None
        if delay is not None:
            push: AuditPush = {
                "type": "audit",
                "view": msg["view"],
                "item": self._window.item(pos, audit_shown="ab" if shown == "ba" else "ba"),
                "after_labels": delay,
            }
            self._push(push)

    def _adjudicate(self, msg: LabelRequest, pos: int) -> None:
        note = self._window.item(pos).get("note")
        event_id = self._store.adjudicate(
            msg["pair_id"],
            self.annotator,
            msg["verdict"],
            strength=msg.get("strength"),
            note=note,
            session=self._session,
        )
        self._window.set_label(
            pos, {"label": msg["verdict"], "strength": msg.get("strength"), "note": note}
        )
        self._saved(msg, event_id)

    def release(self) -> int:
        """Give back this annotator's unlabeled claims at once (they also expire)."""
        release = getattr(self._window, "release", None)
        return int(release()) if release is not None else 0

    def _undo(self, raw: Mapping[str, Any]) -> None:
        msg = cast("UndoRequest", raw)
        pos = self._checked_pos(msg)
        if self._mode == "adjudicate":
            raise ValueError("an adjudication is not undone: choose another verdict to replace it")
        event_id = self._store.record(
            pair_id=msg["pair_id"], annotator=self.annotator, kind="undo", session=self._session
        )
        # One indexed lookup, not the annotator's whole current-label table as a DataFrame.
        row = self._store.current_label(msg["pair_id"], self.annotator)
        self._window.set_label(pos, dict(row) if row and row.get("label") is not None else None)
        self._saved(msg, event_id)

    def _edit(self, raw: Mapping[str, Any]) -> None:
        msg = cast("EditRequest", raw)
        pos = self._checked_pos(msg)
        text = msg["edited_preferred"]
        if not isinstance(text, str):
            raise TypeError("edited_preferred must be a string")
        # The edit rewrites the response preferred now; recording which one keeps a later
        # change of verdict from passing this text off as the other response's rewrite.
        row = self._store.current_label(msg["pair_id"], self.annotator)
        side = row.get("label") if row else None
        if side not in ("a", "b"):
            raise ValueError(
                f"pair {msg['pair_id']!r}: an edit needs a current verdict of 'a' or 'b' "
                f"(the response it rewrites), found {side!r}"
            )
        event_id = self._store.record(
            pair_id=msg["pair_id"],
            annotator=self.annotator,
            kind="edit",
            verdict=side,
            edited_preferred=text,
            session=self._session,
        )
        self._window.update_current(pos, edited_preferred=text)
        self._saved(msg, event_id)

    def _note(self, raw: Mapping[str, Any]) -> None:
        msg = cast("NoteRequest", raw)
        pos = self._checked_pos(msg)
        note = msg["note"]
        if not isinstance(note, str):
            raise TypeError("note must be a string")
        decided = self._window.item(pos) if self._mode == "adjudicate" else None
        if decided is not None and decided["label"] is not None:
            # A note on a decision is part of it: re-issue the adjudication with the note
            # (append-only, the latest per pair is the decision; its basis is read again).
            event_id = self._store.adjudicate(
                msg["pair_id"],
                self.annotator,
                decided["label"],
                strength=decided["strength"],
                note=note or None,
                session=self._session,
            )
            self._window.update_current(pos, note=note)
            self._saved(msg, event_id)
            return
        # Otherwise a note event (before a verdict in adjudication, the verdict carries it).
        event_id = self._store.record(
            pair_id=msg["pair_id"],
            annotator=self.annotator,
            kind="note",
            note=note,
            session=self._session,
        )
        self._window.update_current(pos, note=note)
        self._saved(msg, event_id)

    def _goto(self, raw: Mapping[str, Any]) -> None:
        msg = cast("GotoRequest", raw)
        pos = self._window.find(str(msg["target"]))
        push: JumpPush = {"type": "jump", "view": msg["view"], "req": msg["req"], "cursor": pos}
        self._push(push)


def _kernel_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop of the IPython kernel this runs in, or None elsewhere (a
    plain script, marimo, a test calling the widget directly).

    >>> _kernel_loop() is None
    True
    """
    try:
        from ipykernel.kernelbase import Kernel
    except ImportError:
        return None
    if not Kernel.initialized():
        return None
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
