"""The Labeler's queue when a team shares one store: claimed pairs, or pairs to adjudicate.

:class:`TeamWindow` shows an annotator only the pairs it holds a claim on (or labeled
before), in the DataFrame's order. Claims are taken kernel-side whenever the browser asks
for pairs ahead (it asks ~10 pairs before it needs them), so claiming never sits between a
keypress and the next pair painted. Each such fetch calls :meth:`LabelStore.claim` over the
rest of the frame, which also renews the leases of the pairs already held.

:class:`AdjudicationWindow` (``mode="adjudicate"``) shows the pairs whose annotators
disagree, each with every annotator's verdict, strength and note (``votes`` on the item);
the lead's verdict is stored as an adjudication event, and a pair already adjudicated counts
as done.

Example:
    >>> import tempfile, pathlib
    >>> from prefnb.labels import LabelStore
    >>> from prefnb.pairs import pairs_frame
    >>> df = pairs_frame([{"prompt": f"q{i}", "response_a": "x", "response_b": "y"}
    ...                   for i in range(6)])
    >>> store = LabelStore(pathlib.Path(tempfile.mkdtemp()) / "l.sqlite")
    >>> _ = store.claim("bo", df.pair_id[:2], overlap=1)
    >>> w = TeamWindow(df, store=store, annotator="al", overlap=1, batch=2)
    >>> w.first_unlabeled(), w.positions(anchor=-1, direction=1, count=3, unlabeled_only=True)
    (2, ([2, 3, 4], 5))
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from prefnb.labeler.messages import Item, Vote
from prefnb.labeler.window import LabelWindow, _member_mask
from prefnb.labels import LabelStore

__all__ = ["AdjudicationWindow", "TeamWindow", "team_window"]

#: Pairs claimed per round by default: enough for the browser's look-ahead and a little more.
CLAIM_BATCH: Final = 20


class _MaskedWindow(LabelWindow):
    """A LabelWindow whose positions skip rows outside ``self._mine``."""

    _mine: np.ndarray[Any, np.dtype[np.bool_]]

    def _ensure_ahead(self, anchor: int, count: int) -> None:
        """Make rows after ``anchor`` visible as needed (claims); nothing by default."""

    def _queue(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """The rows the browser walks through (all of ``_mine`` by default)."""
        return self._mine

    def first_unlabeled(self) -> int:
        self._ensure_ahead(-1, 1)
        free = np.flatnonzero(self._queue() & ~self._labeled)
        return int(free[0]) if len(free) else self.total

    def positions(
        self, *, anchor: int, direction: Literal[1, -1], count: int, unlabeled_only: bool
    ) -> tuple[list[int], int]:
        count = max(0, min(int(count), 200))
        if direction == 1:
            self._ensure_ahead(anchor, count)
        queue = self._queue()
        visible = queue & ~self._labeled if unlabeled_only else queue
        if direction == 1:
            found = np.flatnonzero(visible[max(anchor + 1, 0) :]) + max(anchor + 1, 0)
            out = [int(p) for p in found[:count]]
            return out, (out[-1] + 1 if len(found) > count else self.total)
        found = np.flatnonzero(visible[: max(min(anchor, self.total), 0)])[::-1]
        out = [int(p) for p in found[:count]]
        return out, (out[-1] - 1 if len(found) > count else -1)

    def stats(self) -> Any:
        # Progress is over this annotator's share of the frame, not the whole frame.
        base = super().stats()
        return {**base, "total": int(self._mine.sum())}


class TeamWindow(_MaskedWindow):
    """The rows ``annotator`` holds claims on or labeled, claiming ahead as it goes.

    Wrap-around: claims go forward from the cursor, so a pair that was full when this
    annotator passed it (others held it; their leases expired later) would stay short of
    its quota. When the forward queue is exhausted, :meth:`wrap_after` claims the pairs
    behind that are still under quota, in frame order, and starts a new round that shows
    only the rows unlabeled at that moment (the Labeler moves the view there).

    Late labels: :meth:`confirm` tells whether a label about to be written is covered by a
    live claim, renewing it (or claiming the pair anew while it is under quota) when the
    lease may have expired. A label that is not covered is still stored (a person's label
    is never dropped) and the Labeler says so; claims themselves never exceed a quota.
    """

    def __init__(
        self,
        df: pd.DataFrame,
        *,
        store: LabelStore,
        annotator: str,
        overlap: int,
        lease_s: float = 1800.0,
        boost: int = 1,
        batch: int = CLAIM_BATCH,
        labeled: Mapping[str, object] | None = None,
        **window: Any,
    ) -> None:
        super().__init__(df, labeled=labeled, **window)
        self.store, self.annotator = store, annotator
        self.overlap, self.lease_s, self.boost, self.batch = overlap, lease_s, boost, batch
        self._mine = self._labeled.copy()
        held = set(store.claims(annotator)["pair_id"])
        if held:
            self._mine |= _member_mask(self._ids, held)
        self._where: dict[str, int] | None = None
        # time.monotonic() taken just before the claim that last returned each row: the
        # lease (counted on the database's clock from a later instant) runs at least
        # lease_s from there. -inf: not known to be live (held from an earlier session).
        self._lease_from = np.full(self.total, -np.inf)
        self._round = np.ones(self.total, dtype=bool)

    def _queue(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        return self._mine & self._round

    def _ids_after(self, anchor: int) -> Iterator[str]:
        for pos in range(max(anchor + 1, 0), self.total):
            if not self._labeled[pos]:
                yield str(self._ids.iat[pos])

    def _ensure_ahead(self, anchor: int, count: int) -> None:
        # One more than asked: if it exists, `end` tells the browser the queue goes on.
        want = max(count + 1, self.batch)
        self._claim(self._ids_after(anchor), want)

    def _claim(self, ids: Iterator[str] | list[str], limit: int) -> list[int]:
        """Claim among ``ids`` (in order); mark and return the positions granted."""
        t0 = time.monotonic()
        got = self.store.claim(
            self.annotator,
            ids,
            overlap=self.overlap,
            limit=limit,
            lease_s=self.lease_s,
            boost=self.boost,
        )
        if not got:
            return []
        if self._where is None:
            self._where = {str(p): i for i, p in enumerate(self._ids.tolist())}
        rows = [self._where[p] for p in got]
        self._mine[rows] = True
        self._lease_from[rows] = t0
        return rows

    def confirm(self, pos: int) -> bool:
        """Whether a label on row ``pos`` now is within its pair's quota.

        True at once while this kernel's lease on the row is surely live, or when the
        annotator labeled the pair before (a relabel adds no annotator). Otherwise the pair
        is claimed again in its own transaction: granted while it is under quota (the
        renewed lease then keeps it so until the label is written); refused when other
        annotators filled it after the lease expired.
        """
        if self._labeled[pos]:
            return True
        margin = min(1.0, self.lease_s / 10)
        if self._mine[pos] and time.monotonic() < self._lease_from[pos] + self.lease_s - margin:
            return True
        return bool(self._claim([str(self._ids.iat[pos])], 1))

    def _left_after(self, pos: int) -> bool:
        """Whether a claimed, unlabeled row follows ``pos`` (runs after every label: look
        near ``pos`` first rather than over a million-row mask)."""
        start = pos + 1
        for stop in (start + 64, self.total):
            if (self._mine[start:stop] & ~self._labeled[start:stop]).any():
                return True
            start = stop
        return False

    def wrap_after(self, pos: int) -> int | None:
        """After a label at ``pos``: if nothing is left ahead, claim the under-quota pairs
        behind and return the first row of the new round (None: no wrap)."""
        if self._left_after(pos):
            return None
        self._ensure_ahead(pos, 1)  # leases may have expired ahead too
        if self._left_after(pos):
            return None
        before = self._mine.copy()
        self._ensure_ahead(-1, 1)
        if not (self._mine & ~before & ~self._labeled).any():
            return None
        # The new round shows what is left to label; earlier labels stay in the store and
        # in the progress counts, but the view no longer walks through them.
        self._round = ~self._labeled
        return int(np.flatnonzero(self._mine & self._round)[0])

    def release(self) -> int:
        """Give back this annotator's unlabeled claims (labels stay)."""
        n = self.store.release(self.annotator)
        self._mine &= self._labeled
        self._lease_from[:] = -np.inf
        return n


class AdjudicationWindow(_MaskedWindow):
    """Rows whose annotators disagree; ``labeled`` means adjudicated (by anyone)."""

    def __init__(
        self, df: pd.DataFrame, *, store: LabelStore, annotator: str, **window: Any
    ) -> None:
        self.store = store
        disputed = store.disagreements()
        decided = store.adjudications()
        latest = {
            str(r["pair_id"]): {"label": r["verdict"], "strength": r["strength"], "note": r["note"]}
            for r in decided.to_dict("records")
        }
        self._votes: dict[str, list[Vote]] = {}
        for r in disputed.to_dict("records"):
            self._votes.setdefault(str(r["pair_id"]), []).append(
                {
                    "annotator": r["annotator"],
                    "label": r["label"],
                    "strength": r["strength"],
                    "note": r["note"],
                }
            )
        super().__init__(
            df, labeled={p: v for p, v in latest.items() if p in self._votes}, **window
        )
        self._mine = _member_mask(self._ids, self._votes) if self._votes else self._labeled.copy()
        # A note typed before any verdict is a note event: show it again (and let the
        # verdict carry it) when the lead comes back to an undecided pair.
        drafts = store.events(annotator)
        drafts = drafts[(drafts["kind"] == "note") & drafts["pair_id"].isin(self._votes.keys())]
        wanted = set(drafts["pair_id"])
        positions = (
            {str(p): i for i, p in enumerate(self._ids.tolist()) if p in wanted} if wanted else {}
        )
        for pid, note in zip(drafts["pair_id"], drafts["note"], strict=True):
            pos = positions.get(pid)
            if pos is not None and not self._labeled[pos]:
                self.update_current(pos, note=note)

    def item(self, pos: int, *, audit_shown: Any = None) -> Item:
        out = super().item(pos, audit_shown=audit_shown)
        out["votes"] = self._votes.get(out["pair_id"], [])
        return out


def team_window(
    df: pd.DataFrame,
    store: LabelStore,
    annotator: str,
    mode: Literal["label", "adjudicate"],
    overlap: int | None,
    lease_s: float,
    seed: int | None,
    shuffle: bool,
    audit_rate: float,
    labeled: Mapping[str, object],
    *,
    judge: bool = False,
) -> LabelWindow | None:
    """The Labeler's window for team work, or None for a solo Labeler (no overlap)."""
    if mode == "adjudicate":
        return AdjudicationWindow(
            df, store=store, annotator=annotator, seed=seed, shuffle=shuffle, judge=judge
        )
    if overlap is None:
        return None
    if isinstance(overlap, bool) or not isinstance(overlap, int) or overlap < 1:
        raise ValueError(f"overlap must be an integer ≥ 1 or None, got {overlap!r}")
    return TeamWindow(
        df,
        store=store,
        annotator=annotator,
        overlap=overlap,
        lease_s=lease_s,
        labeled=labeled,
        seed=seed,
        shuffle=shuffle,
        audit_rate=float(audit_rate),
        judge=judge,
    )
