"""Copy labels from a label store into a pair table.

Example:
    >>> import tempfile, pathlib, prefnb
    >>> df = prefnb.pairs_frame([{"prompt": "2+2?", "response_a": "4", "response_b": "5"}])
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "labels.sqlite"
    >>> with LabelStore(path) as store:
    ...     _ = store.record(pair_id=df.loc[0, "pair_id"], annotator="al", kind="label",
    ...                      verdict="a", strength="strong")
    ...     out = apply_labels(df, store)
    >>> out.loc[0, ["label", "annotator", "strength"]].tolist()
    ['a', 'al', 'strong']
"""

from __future__ import annotations

import math
import os
import warnings
from collections import Counter
from typing import Any, Literal

import pandas as pd

from prefnb.labels.store import LabelStore, LabelStoreError
from prefnb.pairs import check_pairs, is_missing

__all__ = ["UnknownPairsWarning", "apply_labels"]

_FILLED = ("label", "annotator", "strength", "note", "edited_preferred")


class UnknownPairsWarning(UserWarning):
    """The store holds labels for pairs that are not in the DataFrame being labeled."""


def _latest(cur: pd.DataFrame) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for rec in cur.sort_values("event_id").to_dict("records"):
        out[rec["pair_id"]] = {c: rec[c] for c in _FILLED}  # later events overwrite
    return out


def _majority(cur: pd.DataFrame) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for pid, group in cur.sort_values("event_id").groupby("pair_id", sort=False):
        recs = group.to_dict("records")
        votes = Counter(r["label"] for r in recs if r["label"] != "skip")
        n_votes = sum(votes.values())
        if n_votes == 0:
            label, agreement = "skip", float("nan")
        else:
            top = max(votes.values())
            winners = [v for v, c in votes.items() if c == top]
            # A split at the top (a vs b, or any other) is no preference: record a tie.
            label = winners[0] if len(winners) == 1 else "tie"
            agreement = top / n_votes
        backing = [r for r in recs if r["label"] == label]  # oldest first
        notes = [f"{r['annotator']}: {r['note']}" for r in recs if r["note"]]
        edits = [r["edited_preferred"] for r in backing if r["edited_preferred"]]
        strengths = [r["strength"] for r in backing if r["strength"]]
        out[str(pid)] = {
            "label": label,
            "annotator": ",".join(sorted({r["annotator"] for r in recs})),
            "strength": strengths[-1] if strengths else None,
            "note": "; ".join(notes) if notes else None,
            "edited_preferred": edits[-1] if edits else None,
            "n_votes": n_votes,
            "agreement": agreement,
        }
    return out


def _consistent_judge_labels(
    df: pd.DataFrame, store: LabelStore, judge: Any
) -> dict[str, tuple[str, str]]:
    """pair_id → (label, ``judge:<model>``) where the judge's two orders agreed."""
    from prefnb.judge.route import resolve_judge, verdicts_by_content
    from prefnb.judge.tasks import unique_pairs
    from prefnb.judge.verdict import combine_orders

    who, rubric = resolve_judge(store, judge)
    stored = verdicts_by_content(store, who, rubric)
    _, keys = unique_pairs(df)
    out: dict[str, tuple[str, str]] = {}
    for pid, key in zip(df["pair_id"], keys, strict=True):
        passes = stored.get(key, {})
        label, consistent = combine_orders(
            passes.get("ab", {}).get("verdict"), passes.get("ba", {}).get("verdict")
        )
        if consistent and label is not None:
            out[str(pid)] = (label, who)
    return out


def apply_labels(
    df: pd.DataFrame,
    store: LabelStore | str | os.PathLike[str],
    annotator: str | None = None,
    policy: Literal["latest", "majority", "adjudicated"] = "latest",
    *,
    strict: bool = False,
    fill_from_judge: bool = False,
    judge: Any = None,
) -> pd.DataFrame:
    """Return a copy of ``df`` with ``label``, ``annotator``, ``strength``, ``note`` and
    ``edited_preferred`` filled from the store's current labels.

    Policies:
        ``"latest"``: the most recent current label, across annotators or for ``annotator``.
        ``"majority"``: the most common verdict across annotators' current labels (``skip``
        is not a vote); a split at the top, such as one ``a`` and one ``b``, gives
        ``"tie"``. Adds ``n_votes`` (non-skip votes) and ``agreement`` (share of votes for
        the winning verdict); ``annotator`` lists every annotator who labeled the pair,
        ``note`` joins their notes, ``edited_preferred`` comes from a winning vote.
        ``"adjudicated"``: a pair's latest adjudication (:meth:`LabelStore.adjudicate`)
        where there is one (``annotator`` is the adjudicator, ``adjudicated`` is True),
        ``"majority"`` for the others.

    Rows without a stored label keep their values. Labels for pairs not in ``df`` are never
    dropped silently: an :class:`UnknownPairsWarning` gives their count and a few ids, or
    :class:`LabelStoreError` is raised with ``strict=True``. ``df`` is checked with
    :func:`prefnb.pairs.check_pairs` first.

    LLM judges' verdicts are never read unless ``fill_from_judge=True``: then pairs that no
    person labeled get the judge's label where both of its orders agreed (``judge`` picks the
    judge as in :func:`prefnb.route`; default: the store's only judge), with ``annotator``
    ``judge:<model>``. A ``label_source`` column says ``human`` (from a person in the store),
    ``judge``, or None (no label, or a label the frame already had).
    """
    check_pairs(df)
    if policy not in ("latest", "majority", "adjudicated"):
        raise ValueError(
            f"apply_labels: policy must be 'latest', 'majority' or 'adjudicated', got {policy!r}"
        )
    decided = None
    judged: dict[str, tuple[str, str]] = {}
    if isinstance(store, LabelStore):
        cur = store.current(annotator)
        path = store.path
        if policy == "adjudicated":
            decided = store.adjudications()
        if fill_from_judge:
            judged = _consistent_judge_labels(df, store, judge)
    else:
        with LabelStore(store) as opened:
            cur = opened.current(annotator)
            path = opened.path
            if policy == "adjudicated":
                decided = opened.adjudications()
            if fill_from_judge:
                judged = _consistent_judge_labels(df, opened, judge)
    # People's labels only: a judge's verdicts are not events (prefnb.labels.judge_log).
    cur = cur[~cur["annotator"].astype(str).str.startswith("judge:")]

    known = set(df["pair_id"])
    unknown = sorted(set(cur["pair_id"]) - known)
    if unknown:
        who = f" by {annotator!r}" if annotator is not None else ""
        shown = ", ".join(unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        message = (
            f"label store {path}: {len(unknown)} labeled pair(s){who} are not in the "
            f"DataFrame and were not applied ({shown})"
        )
        if strict:
            raise LabelStoreError(message, path=path)
        warnings.warn(
            message + "; pass strict=True to make this an error",
            UnknownPairsWarning,
            stacklevel=2,
        )
    cur = cur[cur["pair_id"].isin(known)]
    chosen = _majority(cur) if policy != "latest" else _latest(cur)
    adjudicated: set[str] = set()
    if decided is not None:
        for rec in decided[decided["pair_id"].isin(known)].to_dict("records"):
            pid = str(rec["pair_id"])
            base = chosen.get(pid, {"edited_preferred": None, "n_votes": 0, "agreement": math.nan})
            chosen[pid] = {
                **base,
                "label": rec["verdict"],
                "annotator": rec["adjudicator"],
                "strength": rec["strength"],
                "note": rec["note"],
                "edited_preferred": base["edited_preferred"]
                if base.get("label") == rec["verdict"]
                else None,
            }
            adjudicated.add(pid)

    out = df.copy()
    ids = out["pair_id"].tolist()
    for col in _FILLED:
        old = out[col].tolist() if col in out.columns else [None] * len(out)
        values = [chosen[p][col] if p in chosen else v for p, v in zip(ids, old, strict=True)]
        out[col] = pd.Series(values, index=out.index, dtype=object)
    if fill_from_judge:
        source = ["human" if p in chosen else None for p in ids]
        filled = out["label"].tolist()
        by = out["annotator"].tolist()
        for i, p in enumerate(ids):
            if p not in chosen and p in judged and is_missing(filled[i]):
                filled[i], by[i] = judged[p]
                source[i] = "judge"
        out["label"] = pd.Series(filled, index=out.index, dtype=object)
        out["annotator"] = pd.Series(by, index=out.index, dtype=object)
        out["label_source"] = pd.Series(source, index=out.index, dtype=object)
    if policy != "latest":
        votes = [chosen[p]["n_votes"] if p in chosen else 0 for p in ids]
        shares = [chosen[p]["agreement"] if p in chosen else math.nan for p in ids]
        out["n_votes"] = pd.Series(votes, index=out.index, dtype="int64")
        out["agreement"] = pd.Series(shares, index=out.index, dtype="float64")
    if policy == "adjudicated":
        out["adjudicated"] = pd.Series([p in adjudicated for p in ids], index=out.index)
    return out
