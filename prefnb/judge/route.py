"""``prefnb.route()``: send people only the pairs the judge cannot settle.

=========  ===============================================================================
route      when
=========  ===============================================================================
``auto``   both orders gave the same verdict (and, with ``min_confidence``, both said so
           with at least that confidence)
``human``  the orders disagree, the judge failed (an order's answer was not a verdict), the
           pair was judged in one order only, or it was not judged at all
``audit``  a seeded sample of ``auto`` pairs (``audit_rate``): people label them too, so the
           judge's accuracy on the pairs it settled is measured, not assumed
=========  ===============================================================================

The audit sample is a hash of (seed, pair content): the same pairs are audited on every call
and a pair's membership does not change when other pairs are added. Each decision is
recorded in the store, which is how :func:`prefnb.judge_report` knows the routes.

Example:
    >>> audit_draw(0, "3f2a") == audit_draw(0, "3f2a")
    True
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pandas as pd

from prefnb.judge.tasks import unique_pairs
from prefnb.judge.verdict import combine_orders
from prefnb.labels.store import LabelStore
from prefnb.pairs import check_pairs

__all__ = ["audit_draw", "resolve_judge", "route", "verdicts_by_content"]

#: Columns :func:`route` adds to the frame.
ROUTE_COLUMNS = ("route", "route_reason", "judge", "judge_label", "judge_consistent",
                 "judge_rationale")  # fmt: skip


def audit_draw(seed: int, content_key: str) -> float:
    """A uniform number in [0, 1) fixed by (seed, pair content)."""
    h = hashlib.blake2b(f"{seed}:{content_key}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") / 2.0**64


def resolve_judge(store: LabelStore, judge: Any = None) -> tuple[str, str]:
    """(annotator, rubric_hash) named by ``judge``: a :class:`JudgeRun`, a model name or
    ``judge:<model>`` (its latest rubric), or None when the store holds one judge only."""
    rubric = getattr(judge, "rubric_hash", None)
    name = getattr(judge, "judge", judge)
    stored = store.judge_verdicts()
    if stored.empty:
        raise ValueError(f"label store {store.path} has no judge verdicts: run prefnb.judge first")
    if name is not None:
        name = str(name) if str(name).startswith("judge:") else f"judge:{name}"
        stored = stored[stored["annotator"] == name]
        if stored.empty:
            raise ValueError(f"label store {store.path} has no verdicts of {name}")
    if rubric is None:
        combos = stored.drop_duplicates(["annotator", "rubric_hash"], keep="last")
        if name is None and combos["annotator"].nunique() > 1:
            names = ", ".join(sorted(combos["annotator"].unique()))
            raise ValueError(
                f"label store {store.path} has verdicts of several judges ({names}); "
                "pass judge=<model or run>"
            )
        last = combos.sort_values("id").iloc[-1]
        return str(last["annotator"]), str(last["rubric_hash"])
    return str(name), str(rubric)


def verdicts_by_content(
    store: LabelStore, annotator: str, rubric: str
) -> dict[str, dict[str, dict[str, Any]]]:
    """content_key → shown (``ab``/``ba``) → stored verdict row."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for raw in store.judge_verdicts(annotator, rubric).to_dict("records"):
        rec = {str(k): v for k, v in raw.items()}
        out.setdefault(str(rec["content_key"]), {})[str(rec["shown"])] = rec
    return out


def _decide(
    passes: dict[str, dict[str, Any]] | None, min_confidence: float | None
) -> tuple[str, str, str | None, bool | None, str | None]:
    """(route before audit, reason, judge_label, consistent, rationale)."""
    if not passes:
        return "human", "not judged", None, None, None
    ab, ba = passes.get("ab"), passes.get("ba")
    rationale = (ab or ba or {}).get("rationale")
    if any(p.get("verdict") is None for p in passes.values()):
        return "human", "judge failed", None, False, rationale
    if ab is None or ba is None:
        return "human", "one order only", (ab or ba or {}).get("verdict"), None, rationale
    label, consistent = combine_orders(ab["verdict"], ba["verdict"])
    if not consistent:
        return "human", "orders disagree", label, False, rationale
    if min_confidence is not None:
        confs = [p.get("confidence") for p in (ab, ba)]
        if any(c is None or float(c) < min_confidence for c in confs):
            return "human", "low confidence", label, True, rationale
    return "auto", "orders agree", label, True, rationale


def route(
    df: pd.DataFrame,
    store: LabelStore | str | os.PathLike[str],
    judge: Any = None,
    audit_rate: float = 0.05,
    seed: int = 0,
    *,
    min_confidence: float | None = None,
    record: bool = True,
) -> pd.DataFrame:
    """A copy of ``df`` with ``route`` (``auto``/``human``/``audit``), ``route_reason`` and
    the judge's ``judge_label``, ``judge_consistent`` and ``judge_rationale``.

    ``judge`` picks the judge (a run, a model name or None for the store's only judge).
    Decisions are recorded in the store (``record=False`` to skip).

    Example:
        >>> routed = route(df, "labels.sqlite", audit_rate=0.05)  # doctest: +SKIP
        >>> people = routed[routed.route != "auto"]  # doctest: +SKIP
    """
    check_pairs(df)
    if not 0.0 <= audit_rate <= 1.0:
        raise ValueError(f"route: audit_rate must be in [0, 1], got {audit_rate!r}")
    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"route: min_confidence must be in [0, 1], got {min_confidence!r}")
    opened = store if isinstance(store, LabelStore) else LabelStore(store)
    try:
        annotator, rubric = resolve_judge(opened, judge)
        stored = verdicts_by_content(opened, annotator, rubric)
        _, keys = unique_pairs(df)
        cols: dict[str, list[Any]] = {c: [] for c in ROUTE_COLUMNS}
        records = []
        for pid, key in zip(df["pair_id"], keys, strict=True):
            where, reason, label, consistent, rationale = _decide(stored.get(key), min_confidence)
            if where == "auto" and audit_draw(seed, key) < audit_rate:
                where, reason = "audit", "audit sample"
            for c, v in zip(ROUTE_COLUMNS, (where, reason, annotator, label, consistent, rationale),
                            strict=True):  # fmt: skip
                cols[c].append(v)
            records.append(
                {
                    "pair_id": pid,
                    "annotator": annotator,
                    "rubric_hash": rubric,
                    "route": where,
                    "reason": reason,
                    "audit_rate": audit_rate,
                    "seed": seed,
                }
            )
        if record:
            opened.record_judge_routes(records)
    finally:
        if opened is not store:
            opened.close()
    out = df.copy()
    for c in ROUTE_COLUMNS:
        out[c] = pd.Series(cols[c], index=out.index, dtype=object)
    return out
