"""``prefnb.judge_report()``: how each judge in a label store compares with people.

One row per (judge, rubric), best κ first — several judges on the same pairs make a
leaderboard on your own data. Columns:

=====================  ==========================================================================
column                 meaning
=====================  ==========================================================================
``n_pairs``            pairs the judge gave at least one verdict for
``n_human``            of those, pairs with a human label (``skip`` is not a label)
``kappa`` (+lo/hi)     Cohen's κ of judge_label vs each human label, with a 95 % bootstrap CI
                       (pairs resampled); ``_auto`` and ``_audit``: only pairs routed so
``consistency``        share of pairs, judged validly in both orders, whose orders agree
``p_first`` (+lo/hi)   share of a/b verdicts that picked the response shown first (Wilson CI)
``p_longer``           share of a/b verdicts, on pairs of unequal length, that picked the longer
``human_share``        share of routed pairs sent to people (``human`` or ``audit``)
``usd_per_1k``         judge cost per 1,000 pairs
``seconds_per_1k``     judge wall-clock seconds per 1,000 pairs (amortized over concurrency)
``human_agreement``    on pairs with ≥ 2 human labels: share of agreeing annotator pairs
``judge_agreement``    on those pairs: share of human labels equal to the judge's
``vs_ceiling``         judge_agreement ÷ human_agreement
=====================  ==========================================================================

The judge label of a pair whose orders disagree is ``tie`` (as Together's compare records
it); a pair the judge failed has no label and is left out of κ.

Example:
    >>> wilson(65, 100)[0] < 0.65 < wilson(65, 100)[1]
    True
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Sequence
from itertools import combinations
from typing import Any

import pandas as pd

from prefnb.judge.verdict import combine_orders
from prefnb.labels.agreement import cohen_kappa
from prefnb.labels.store import LabelStore


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]


__all__ = ["REPORT_COLUMNS", "judge_report", "wilson"]

REPORT_COLUMNS = (
    "judge", "rubric_hash", "n_pairs", "n_human",
    "kappa", "kappa_lo", "kappa_hi",
    "kappa_auto", "kappa_auto_lo", "kappa_auto_hi",
    "kappa_audit", "kappa_audit_lo", "kappa_audit_hi",
    "consistency", "p_first", "p_first_lo", "p_first_hi", "p_longer",
    "human_share", "usd_per_1k", "seconds_per_1k",
    "human_agreement", "judge_agreement", "vs_ceiling",
)  # fmt: skip
_NAN = float("nan")


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score 95 % interval of the proportion k/n ((nan, nan) for n = 0)."""
    if n == 0:
        return _NAN, _NAN
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return centre - half, centre + half


def _kappa(items: Sequence[tuple[str, str]]) -> float:
    if not items:
        return _NAN
    return cohen_kappa([j for j, _ in items], [h for _, h in items])


def _kappa_ci(
    by_pair: dict[str, list[tuple[str, str]]], n_boot: int, seed: int
) -> tuple[float, float, float]:
    """κ over all items and a percentile bootstrap CI resampling pairs (clusters)."""
    pairs = list(by_pair.values())
    point = _kappa([it for p in pairs for it in p])
    if len(pairs) < 2 or math.isnan(point):
        return point, _NAN, _NAN
    rng = random.Random(seed)
    stats = []
    for _ in range(n_boot):
        sample = [it for _ in pairs for it in pairs[rng.randrange(len(pairs))]]
        k = _kappa(sample)
        if not math.isnan(k):
            stats.append(k)
    if not stats:
        return point, _NAN, _NAN
    stats.sort()
    lo = stats[int(0.025 * (len(stats) - 1))]
    hi = stats[math.ceil(0.975 * (len(stats) - 1))]
    return point, lo, hi


def _human_labels(store: LabelStore) -> dict[str, dict[str, str]]:
    """pair_id → annotator → current label, people only, ``skip`` left out."""
    cur = store.current()
    out: dict[str, dict[str, str]] = {}
    for pid, who, lab in zip(cur["pair_id"], cur["annotator"], cur["label"], strict=True):
        if str(who).startswith("judge:") or lab == "skip":
            continue
        out.setdefault(str(pid), {})[str(who)] = str(lab)
    return out


def _one_judge(
    verdicts: pd.DataFrame,
    routes: dict[str, str],
    humans: dict[str, dict[str, str]],
    n_boot: int,
    seed: int,
) -> dict[str, Any]:
    pairs: dict[str, dict[str, dict[str, Any]]] = {}
    for rec in _records(verdicts):
        pairs.setdefault(str(rec["content_key"]), {})[str(rec["shown"])] = rec
    both = any("ba" in p for p in pairs.values())
    labels: dict[str, str | None] = {}
    consistent_n = valid_both = 0
    first_k = first_n = longer_k = longer_n = 0
    for passes in pairs.values():
        pid = str(next(iter(passes.values()))["pair_id"])
        ab = passes.get("ab", {}).get("verdict")
        ba = passes.get("ba", {}).get("verdict")
        label, consistent = combine_orders(ab, ba, both_orders=both)
        labels[pid] = label
        if ab is not None and ba is not None:
            valid_both += 1
            consistent_n += bool(consistent)
        for shown, rec in passes.items():
            v = rec.get("verdict")
            if v not in ("a", "b"):
                continue
            first_n += 1
            first_k += (v == "a") == (shown == "ab")
            la, lb = int(rec.get("len_a") or 0), int(rec.get("len_b") or 0)
            if la != lb:
                longer_n += 1
                longer_k += (v == "a") == (la > lb)

    def items(route: str | None) -> dict[str, list[tuple[str, str]]]:
        out: dict[str, list[tuple[str, str]]] = {}
        for pid, label in labels.items():
            if label is None or pid not in humans:
                continue
            if route is not None and routes.get(pid) != route:
                continue
            out[pid] = [(label, h) for h in humans[pid].values()]
        return out

    k_all = _kappa_ci(items(None), n_boot, seed)
    k_auto = _kappa_ci(items("auto"), n_boot, seed)
    k_audit = _kappa_ci(items("audit"), n_boot, seed)
    agree_pairs = agree_total = judge_hits = judge_total = 0
    for pid, by in humans.items():
        if len(by) < 2 or pid not in labels:
            continue
        votes = list(by.values())
        for x, y in combinations(votes, 2):
            agree_total += 1
            agree_pairs += x == y
        if labels[pid] is not None:
            judge_total += len(votes)
            judge_hits += sum(v == labels[pid] for v in votes)
    human_agreement = agree_pairs / agree_total if agree_total else _NAN
    judge_agreement = judge_hits / judge_total if judge_total else _NAN
    routed = [routes[p] for p in labels if p in routes]
    n = len(pairs)
    p_lo, p_hi = wilson(first_k, first_n)
    return {
        "n_pairs": n,
        "n_human": sum(1 for p in labels if p in humans),
        "kappa": k_all[0], "kappa_lo": k_all[1], "kappa_hi": k_all[2],
        "kappa_auto": k_auto[0], "kappa_auto_lo": k_auto[1], "kappa_auto_hi": k_auto[2],
        "kappa_audit": k_audit[0], "kappa_audit_lo": k_audit[1], "kappa_audit_hi": k_audit[2],
        "consistency": consistent_n / valid_both if valid_both else _NAN,
        "p_first": first_k / first_n if first_n else _NAN,
        "p_first_lo": p_lo, "p_first_hi": p_hi,
        "p_longer": longer_k / longer_n if longer_n else _NAN,
        "human_share": (
            sum(r in ("human", "audit") for r in routed) / len(routed) if routed else _NAN
        ),
        "usd_per_1k": 1000.0 * float(pd.to_numeric(verdicts["cost_usd"]).fillna(0).sum()) / n,
        "seconds_per_1k": 1000.0 * float(pd.to_numeric(verdicts["seconds"]).fillna(0).sum()) / n,
        "human_agreement": human_agreement,
        "judge_agreement": judge_agreement,
        "vs_ceiling": (
            judge_agreement / human_agreement
            if agree_total and judge_total and human_agreement > 0
            else _NAN
        ),
    }  # fmt: skip


def judge_report(
    store: LabelStore | str | os.PathLike[str], *, n_boot: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """One row per judge (and rubric) in ``store``: agreement with people, biases, cost.

    Example:
        >>> prefnb.judge_report("labels.sqlite")[["judge", "kappa", "p_first"]]  # doctest: +SKIP
    """
    opened = store if isinstance(store, LabelStore) else LabelStore(store)
    try:
        verdicts = opened.judge_verdicts()
        humans = _human_labels(opened)
        all_routes = opened.judge_routes()
    finally:
        if opened is not store:
            opened.close()
    rows = []
    if not verdicts.empty:
        for (who, rubric), group in verdicts.groupby(["annotator", "rubric_hash"], sort=False):
            sel = all_routes[
                (all_routes["annotator"] == who) & (all_routes["rubric_hash"] == rubric)
            ]
            routes = dict(zip(sel["pair_id"].astype(str), sel["route"].astype(str), strict=True))
            row = {"judge": who, "rubric_hash": rubric}
            row.update(_one_judge(group, routes, humans, n_boot, seed))
            rows.append(row)
    out = pd.DataFrame(rows, columns=list(REPORT_COLUMNS))
    if not out.empty:
        out = out.sort_values("kappa", ascending=False, na_position="last", kind="stable")
        out = out.reset_index(drop=True)
    return out
