"""Per-annotator audit statistics: self-consistency under swap-replay and left/right bias.

The Labeler re-shows a few already-labeled pairs with the sides swapped and stores the
second verdict as an ``audit`` event. Because verdicts are always stored as positions in
the DataFrame (``a``/``b``), "un-swapping" is already done: an audit agrees when its
verdict equals the annotator's label standing at the moment of the audit.

Left/right bias uses every current label and audit with an ``a``/``b`` verdict and a known
``shown`` order: the verdict picked the LEFT side when it is ``a`` shown as ``"ab"`` or
``b`` shown as ``"ba"``. With randomized sides an unbiased annotator picks left about half
the time; ``left_p_value`` is the exact two-sided binomial test of ``left_share = 0.5`` and
``left_ci_low``/``left_ci_high`` the 95% Wilson interval.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "labels.sqlite"
    >>> with LabelStore(path) as store:
    ...     _ = store.record(pair_id="p", annotator="al", kind="label", verdict="a", shown="ab")
    ...     _ = store.record(pair_id="p", annotator="al", kind="audit", verdict="a", shown="ba")
    ...     row = audit_stats(store).iloc[0]
    >>> float(row["self_consistency"]), float(row["left_share"])
    (1.0, 0.5)
"""

from __future__ import annotations

import math
import os
from typing import Any, Final

import pandas as pd

from prefnb.labels.events import EVENT_COLUMNS, label_before_each_audit
from prefnb.labels.store import LabelStore

__all__ = ["AUDIT_COLUMNS", "audit_stats", "binomial_two_sided_p", "wilson_interval"]

AUDIT_COLUMNS: Final[tuple[str, ...]] = (
    "annotator",
    "n_labels",
    "n_audits",
    "n_audits_compared",
    "self_consistency",
    "n_sided",
    "left_share",
    "left_p_value",
    "left_ci_low",
    "left_ci_high",
    "tie_share",
    "both_bad_share",
    "skip_share",
)
_Z95: Final = 1.959963984540054


def binomial_two_sided_p(k: int, n: int) -> float:
    """Exact two-sided binomial test p-value of ``k`` successes in ``n`` trials, p = 0.5.

    >>> binomial_two_sided_p(9, 10)  # 2 * (1 + 10) / 1024
    0.021484375
    """
    if n == 0:
        return float("nan")
    m = min(k, n - k)
    if 2 * m == n:
        return 1.0
    term, tail = 1, 0
    for i in range(m + 1):  # exact integer sum of C(n, i), i = 0..m
        tail += term
        term = term * (n - i) // (i + 1)
    return float(min(1.0, 2 * tail / 2**n))


def wilson_interval(k: int, n: int, z: float = _Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``k / n`` (95% by default).

    >>> [round(x, 4) for x in wilson_interval(5, 10)]
    [0.2366, 0.7634]
    """
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def _picked_left(verdict: Any, shown: Any) -> bool | None:
    if verdict not in ("a", "b") or shown not in ("ab", "ba"):
        return None
    return bool((verdict == "a") == (shown == "ab"))


def _share(count: int, total: int) -> float:
    return count / total if total else float("nan")


def audit_stats(
    store: LabelStore | str | os.PathLike[str], annotator: str | None = None
) -> pd.DataFrame:
    """One row per annotator (sorted by name) with audit and bias statistics.

    Columns: ``n_labels`` (current labels), ``n_audits`` (audit events),
    ``n_audits_compared`` (audits with a non-skip verdict on a pair that had a non-skip
    label at the time), ``self_consistency`` (share of those agreeing with that label),
    ``n_sided`` (a/b verdicts with a known screen order), ``left_share``,
    ``left_p_value``, ``left_ci_low``, ``left_ci_high`` (see the module docstring), and
    ``tie_share``, ``both_bad_share``, ``skip_share`` over current labels. Statistics
    without data are NaN.
    """
    if isinstance(store, LabelStore):
        events = store.events(annotator, audited_only=True)
        current = store.current(annotator)
    else:
        with LabelStore(store) as opened:
            events = opened.events(annotator, audited_only=True)
            current = opened.current(annotator)

    records: list[dict[str, Any]] = events[list(EVENT_COLUMNS)].to_dict("records")  # type: ignore[assignment]
    audits = label_before_each_audit(records)
    annotators = sorted(set(current["annotator"]) | {ev["annotator"] for ev, _ in audits})
    rows: list[dict[str, Any]] = []
    for name in annotators:
        mine = current[current["annotator"] == name]
        my_audits = [(ev, lab) for ev, lab in audits if ev["annotator"] == name]
        compared = [
            ev["verdict"] == lab["label"]
            for ev, lab in my_audits
            if lab is not None and lab["label"] != "skip" and ev["verdict"] != "skip"
        ]
        sides = [_picked_left(v, s) for v, s in zip(mine["label"], mine["shown"], strict=True)]
        sides += [_picked_left(ev["verdict"], ev["shown"]) for ev, _ in my_audits]
        picked = [s for s in sides if s is not None]
        left, n_sided = sum(picked), len(picked)
        low, high = wilson_interval(left, n_sided)
        labels = mine["label"].tolist()
        rows.append(
            {
                "annotator": name,
                "n_labels": len(labels),
                "n_audits": len(my_audits),
                "n_audits_compared": len(compared),
                "self_consistency": _share(sum(compared), len(compared)),
                "n_sided": n_sided,
                "left_share": _share(left, n_sided),
                "left_p_value": binomial_two_sided_p(left, n_sided),
                "left_ci_low": low,
                "left_ci_high": high,
                "tie_share": _share(labels.count("tie"), len(labels)),
                "both_bad_share": _share(labels.count("both_bad"), len(labels)),
                "skip_share": _share(labels.count("skip"), len(labels)),
            }
        )
    out = pd.DataFrame(rows, columns=list(AUDIT_COLUMNS))
    for col in ("n_labels", "n_audits", "n_audits_compared", "n_sided"):
        out[col] = out[col].astype("int64")
    for col in AUDIT_COLUMNS[4:]:
        if col != "n_sided":
            out[col] = out[col].astype("float64")
    return out
