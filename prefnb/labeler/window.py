"""The Labeler's queue over a pair table: order, left/right shuffle, resume, audits, windows.

Nothing here touches the browser or the store, so the rules are plain functions of the
DataFrame, the seed and what is already labeled:

- the queue is the DataFrame's row order (users filter and sort with pandas);
- left/right is decided per pair from ``sha256(seed, pair_id)``, so the same pair always
  shows the same way for a given seed, whatever else is in the frame;
- resuming starts at the first row this annotator has not labeled; an imported label (a
  ``label`` already in the DataFrame) counts apart from the annotator's own, is shown on
  its pair for them to confirm or overrule, and counts as labeled for "unlabeled only";
- a pair labeled for the first time comes back for a swap-replay audit with probability
  ``audit_rate``, decided from ``sha256(seed, "audit", pair_id)``, a few labels later;
- the browser fetches windows of positions on demand; only those rows are converted.

Construction is vectorized (an ``isin`` over ``pair_id`` and a bool mask): a million rows
cost about a megabyte and no per-row Python work.

Example:
    >>> from prefnb.pairs import pairs_frame
    >>> df = pairs_frame([{"prompt": f"q{i}", "response_a": "x", "response_b": "y"}
    ...                   for i in range(5)])
    >>> w = LabelWindow(df, seed=1, labeled={df.pair_id[0]: "a"})
    >>> w.first_unlabeled()
    1
    >>> w.positions(anchor=-1, direction=1, count=3, unlabeled_only=True)
    ([1, 2, 3], 4)
    >>> w.shown(df.pair_id[2]) == w.shown(df.pair_id[2])
    True
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from typing import Any, Final, Literal, TypeAlias, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from prefnb.labeler.messages import Item, JudgeView, Shown, Stats, Strength, Turn, Verdict

# validate_frame lives beside check_pairs; imported here for the Labeler and its callers.
from prefnb.pairs import FULL_CHECK_MAX_ROWS, LABELS, is_missing, validate_frame

__all__ = ["FULL_CHECK_MAX_ROWS", "CurrentLabel", "LabelWindow", "validate_frame"]

#: An audit replay comes back between this many labels later …
AUDIT_MIN_DELAY: Final = 3
#: … and this many (inclusive): far enough not to be remembered, near enough to happen.
AUDIT_MAX_DELAY: Final = 10


#: This annotator's current label of one pair: ``label``, ``strength``, ``note``,
#: ``edited_preferred`` (keys may be missing).
CurrentLabel: TypeAlias = dict[str, Any]


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).digest()


def _flatten(content: object) -> str:
    if isinstance(content, str):
        return content
    if hasattr(content, "tolist"):
        content = content.tolist()
    if isinstance(content, list):
        out: list[str] = []
        for part in content:
            if isinstance(part, Mapping):
                if isinstance(part.get("text"), str):
                    out.append(part["text"])
                else:
                    out.append(f"[{part.get('type', 'part')}]")
            else:
                out.append(str(part))
        return "\n\n".join(out)
    return str(content)


def _turns(prompt: object) -> list[Turn]:
    if hasattr(prompt, "tolist") and not isinstance(prompt, (str, Mapping)):
        prompt = prompt.tolist()
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    if not isinstance(prompt, list) or not prompt:
        raise ValueError(
            f"prompt must be a non-empty list of messages, got {type(prompt).__name__}"
        )
    turns: list[Turn] = []
    for i, m in enumerate(prompt):
        if not isinstance(m, Mapping) or not isinstance(m.get("role"), str) or "content" not in m:
            raise ValueError(f"prompt message {i} must be a dict with 'role' and 'content'")
        turns.append({"role": m["role"], "content": _flatten(m["content"])})
    return turns


def _member_mask(ids: pd.Series, keys: Collection[str]) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Which rows of ``ids`` are in ``keys``: Arrow's hash lookup, ~20× ``Series.isin`` on
    a million string ids (resuming a large frame with many labels)."""
    try:
        arr = pa.array(ids)  # zero-copy for Arrow-backed strings
        found = pc.is_in(arr, value_set=pa.array(list(keys), type=arr.type))
        return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)
    except (pa.ArrowException, TypeError, ValueError):  # ids of a type Arrow cannot take
        return np.asarray(ids.isin(list(keys)).to_numpy(dtype=bool), dtype=bool)


def _opt(value: object) -> Any:
    return None if is_missing(value) else value


class LabelWindow:
    """Queue state for one Labeler: which rows are labeled, and items for the browser.

    ``labeled`` maps pair_id → this annotator's current label (a verdict string, or a
    mapping with ``label``/``strength``/``note``/``edited_preferred``); ids not in ``df``
    are ignored. Plain ``dict`` values are kept and updated in place, not copied.
    """

    def __init__(
        self,
        df: pd.DataFrame,
        *,
        seed: int | None = None,
        shuffle: bool = True,
        audit_rate: float = 0.0,
        labeled: Mapping[str, object] | None = None,
        judge: bool = False,
    ) -> None:
        self._df = df
        # The judge's columns (prefnb.route adds them); None: nothing to show.
        self._judge = (
            (df["judge_label"], df.get("judge_rationale"), df.get("route"))
            if judge and "judge_label" in df.columns
            else None
        )
        self._prompt = df["prompt"]
        self._a = df["response_a"]
        self._b = df["response_b"]
        self._ids = df["pair_id"]
        self.seed = 0 if seed is None else int(seed)
        self.shuffle = bool(shuffle)
        self.audit_rate = float(audit_rate)
        self.total = len(df)
        self._current: dict[str, CurrentLabel] = {}
        self.counts: dict[str, int] = dict.fromkeys(LABELS, 0)
        if labeled:
            mask = _member_mask(self._ids, labeled.keys())
            for pid in self._ids[mask].tolist():
                v = labeled[pid]
                # Plain dicts are taken over, not copied: on a resume over hundreds of
                # thousands of labels every extra object is paid again by each GC pass.
                if type(v) is not dict:
                    v = dict(v) if isinstance(v, Mapping) else {"label": v}
                self._current[str(pid)] = v
            for info in self._current.values():
                if info.get("label") in self.counts:
                    self.counts[info["label"]] += 1
        else:
            mask = np.zeros(self.total, dtype=bool)
        self._labeled: np.ndarray[Any, np.dtype[np.bool_]] = mask
        # Kept in step with ``_labeled``: every saved label replies with stats, and summing
        # a million-row mask costs ~0.4 ms, most of the handler's own work per label.
        self._n_labeled = int(mask.sum())
        # Labels that came with the DataFrame (its ``label`` column): they count as done for
        # resuming and the "unlabeled only" filter, and apart from this annotator's own.
        self._given = df["label"]
        self._imported: np.ndarray[Any, np.dtype[np.bool_]] = np.asarray(
            self._given.isin(LABELS).to_numpy(dtype=bool), dtype=bool
        )
        self._n_imported_only = int((self._imported & ~mask).sum())
        self._pos_cache: pd.Index | None = None

    # -- labels ---------------------------------------------------------------------------

    def _put(self, pair_id: str, value: object) -> None:
        info: CurrentLabel = dict(value) if isinstance(value, Mapping) else {"label": value}
        old = self._current.get(pair_id)
        if old is not None and old.get("label") in self.counts:
            self.counts[old["label"]] -= 1
        self._current[pair_id] = info
        if info.get("label") in self.counts:
            self.counts[info["label"]] += 1

    def is_labeled(self, pos: int) -> bool:
        """Whether row ``pos`` has a current label from this annotator."""
        return bool(self._labeled[pos])

    def set_label(self, pos: int, value: Mapping[str, object] | str | None) -> None:
        """Record row ``pos``'s current label (``None`` after an undo left it unlabeled)."""
        pid = str(self._ids.iat[pos])
        was = bool(self._labeled[pos])
        if value is None:
            old = self._current.pop(pid, None)
            if old is not None and old.get("label") in self.counts:
                self.counts[old["label"]] -= 1
            self._n_labeled -= was
            self._n_imported_only += was and bool(self._imported[pos])
            self._labeled[pos] = False
            return
        self._put(pid, value)
        self._n_labeled += not was
        self._n_imported_only -= (not was) and bool(self._imported[pos])
        self._labeled[pos] = True

    def update_current(self, pos: int, **fields: object) -> None:
        """Merge ``fields`` (``note``, ``edited_preferred``) into row ``pos``'s label."""
        pid = str(self._ids.iat[pos])
        self._current.setdefault(pid, {}).update(fields)

    def stats(self) -> Stats:
        """Progress over this frame: rows this annotator labeled, rows with only an imported
        label, total rows, counts per verdict (this annotator's)."""
        return {
            "labeled": self._n_labeled,
            "imported": self._n_imported_only,
            "total": self.total,
            "counts": dict(self.counts),
        }

    def _done(self, start: int, stop: int) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Rows in ``start:stop`` with a label: this annotator's or an imported one."""
        return self._labeled[start:stop] | self._imported[start:stop]

    # -- order ----------------------------------------------------------------------------

    def shown(self, pair_id: str) -> Shown:
        """Display order of a pair: ``"ab"`` (a on the left) or ``"ba"``, from seed+id."""
        if not self.shuffle:
            return "ab"
        return "ba" if _digest(str(self.seed), str(pair_id))[0] & 1 else "ab"

    def audit_delay(self, pair_id: str) -> int | None:
        """Labels until a swap-replay of ``pair_id``, or ``None`` if it is not audited.

        Decided from seed+id, so the same pairs are audited on every run with one seed.
        """
        if self.audit_rate <= 0:
            return None
        d = _digest(str(self.seed), "audit", str(pair_id))
        u = int.from_bytes(d[:8], "big") / 2**64
        if u >= self.audit_rate:
            return None
        return AUDIT_MIN_DELAY + d[8] % (AUDIT_MAX_DELAY - AUDIT_MIN_DELAY + 1)

    def first_unlabeled(self) -> int:
        """Row to resume at: the first one this annotator has not labeled, or ``total``.

        Imported labels do not move it: they are for the annotator to review, and "unlabeled
        only" skips them when that is not wanted."""
        free = np.flatnonzero(~self._labeled)
        return int(free[0]) if len(free) else self.total

    def positions(
        self, *, anchor: int, direction: Literal[1, -1], count: int, unlabeled_only: bool
    ) -> tuple[list[int], int]:
        """Up to ``count`` row positions strictly after (or before) ``anchor``.

        Returns the positions and ``end``: every matching position strictly between
        ``anchor`` and ``end`` was returned (``end`` is ``total`` or ``-1`` at the edges).
        Scans in growing chunks so a long labeled stretch costs one vectorized pass.
        """
        count = max(0, min(int(count), 200))
        out: list[int] = []
        if direction == 1:
            start = max(anchor + 1, 0)
            step = max(count * 4, 64)
            while start < self.total and len(out) < count:
                stop = min(self.total, start + step)
                chunk = np.arange(start, stop)
                if unlabeled_only:
                    chunk = chunk[~self._done(start, stop)]
                need = count - len(out)
                out.extend(int(p) for p in chunk[:need])
                if len(chunk) > need:
                    return out, out[-1] + 1
                start, step = stop, step * 4
            return out, self.total
        stop = min(anchor, self.total)
        step = max(count * 4, 64)
        while stop > 0 and len(out) < count:
            start = max(0, stop - step)
            chunk = np.arange(start, stop)
            if unlabeled_only:
                chunk = chunk[~self._done(start, stop)]
            chunk = chunk[::-1]
            need = count - len(out)
            out.extend(int(p) for p in chunk[:need])
            if len(chunk) > need:
                return out, out[-1] - 1
            stop, step = start, step * 4
        return out, -1

    def find(self, target: str) -> int:
        """Row position of a pair_id, or of ``#n`` (1-based row number).

        Raises ``KeyError`` naming the target when there is no such pair.
        """
        text = target.strip()
        if text.startswith("#") and text[1:].isdigit():
            n = int(text[1:])
            if 1 <= n <= self.total:
                return n - 1
            raise KeyError(f"row #{n} is outside 1..{self.total}")
        hits = np.flatnonzero((self._ids == text).to_numpy(dtype=bool))
        if not len(hits):
            raise KeyError(f"no pair with pair_id {text!r} in this DataFrame")
        return int(hits[0])

    def pair_id(self, pos: int) -> str:
        """The pair_id at row ``pos``."""
        return str(self._ids.iat[pos])

    # -- items ----------------------------------------------------------------------------

    def item(self, pos: int, *, audit_shown: Shown | None = None) -> Item:
        """The browser's view of row ``pos``; ``audit_shown`` makes it a swap-replay."""
        pid = str(self._ids.iat[pos])
        a = self._a.iat[pos]
        b = self._b.iat[pos]
        error: str | None = None
        try:
            prompt = _turns(self._prompt.iat[pos])
        except ValueError as exc:
            prompt = []
            error = f"row {self._df.index[pos]!r}, column 'prompt': {exc}"
        if not isinstance(a, str) or not isinstance(b, str):
            error = f"row {self._df.index[pos]!r}: response_a/response_b must be strings"
            a, b = str(a), str(b)
        shown = audit_shown or self.shown(pid)
        left, right = (a, b) if shown == "ab" else (b, a)
        cur: Mapping[str, Any] = {} if audit_shown else self._current.get(pid, {})
        label = _opt(cur.get("label"))
        given = self._given.iat[pos] if self._imported[pos] and audit_shown is None else None
        return {
            "pos": int(pos),
            "pair_id": pid,
            "prompt": prompt,
            "left": left,
            "right": right,
            "shown": shown,
            "audit": audit_shown is not None,
            "label": cast(Verdict | None, label if label in LABELS else None),
            "imported": cast(Verdict | None, given),
            "strength": cast(Strength | None, _opt(cur.get("strength"))),
            "note": cast(str | None, _opt(cur.get("note"))),
            "edited": cast(str | None, _opt(cur.get("edited_preferred"))),
            "error": error,
            "judge": None if audit_shown else self._judge_view(pos),
        }

    def _judge_view(self, pos: int) -> JudgeView | None:
        if self._judge is None:
            return None
        labels, rationales, routes = self._judge
        label = _opt(labels.iat[pos])
        rationale = _opt(rationales.iat[pos]) if rationales is not None else None
        route = _opt(routes.iat[pos]) if routes is not None else None
        return {
            "label": label if label in ("a", "b", "tie") else None,
            "rationale": str(rationale) if rationale is not None else None,
            "route": str(route) if route is not None else None,
        }
