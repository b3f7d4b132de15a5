"""Team statistics over a label store: per-annotator progress, bias and agreement.

What :class:`prefnb.TeamPanel` shows, as plain data a notebook can use too: per annotator
the current labels, the labeling rate, the share of left picks (position bias) and
self-consistency on swap audits (from :func:`prefnb.labels.audit_stats`); Cohen's κ for
each pair of annotators over the pairs both labeled; Krippendorff's α over everyone.
``skip`` is no verdict and is left out of agreement.

Example:
    >>> import tempfile, pathlib
    >>> s = LabelStore(pathlib.Path(tempfile.mkdtemp()) / "l.sqlite")
    >>> for p, (x, y) in enumerate([("a", "a"), ("b", "b"), ("a", "b"), ("tie", "tie")]):
    ...     _ = s.record(pair_id=f"p{p}", annotator="al", kind="label", verdict=x)
    ...     _ = s.record(pair_id=f"p{p}", annotator="bo", kind="label", verdict=y)
    >>> t = team_stats(s)
    >>> t["annotators"][0]["annotator"], t["annotators"][0]["n_labels"]
    ('al', 4)
    >>> round(t["pairwise"][0]["kappa"], 3), t["pairwise"][0]["n_common"]
    (0.636, 4)
"""

from __future__ import annotations

import datetime as dt
import math
from itertools import combinations
from typing import Any, Final, TypedDict

from prefnb.labels.agreement import cohen_kappa, krippendorff_alpha
from prefnb.labels.audit import audit_stats
from prefnb.labels.store import LabelStore

__all__ = ["AnnotatorRow", "PairwiseRow", "TeamStats", "team_stats"]

#: The labeling rate counts label events in this trailing window.
RATE_WINDOW_S: Final = 600.0


class AnnotatorRow(TypedDict):
    annotator: str
    n_labels: int
    rate_per_hour: float | None
    left_share: float | None
    n_sided: int
    self_consistency: float | None
    n_audits_compared: int
    claimed: int


class PairwiseRow(TypedDict):
    a: str
    b: str
    n_common: int
    kappa: float | None


class TeamStats(TypedDict):
    annotators: list[AnnotatorRow]
    pairwise: list[PairwiseRow]
    alpha: float | None
    n_pairs: int
    n_disagreements: int
    n_adjudicated: int
    n_claimed: int


def _num(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def team_stats(store: LabelStore, *, now: dt.datetime | None = None) -> TeamStats:
    """Everything the team panel shows, computed from the store (see the module docstring)."""
    current = store.current()
    audits = audit_stats(store)
    claims = store.claims()
    since = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(seconds=RATE_WINDOW_S)
    recent = store.connection.query(
        "SELECT annotator, COUNT(*) FROM events WHERE kind = 'label' AND created_at >= ? "
        "GROUP BY annotator",
        (since.isoformat(timespec="microseconds"),),
    )
    rates = {who: n * 3600.0 / RATE_WINDOW_S for who, n in recent}
    by_name = {r["annotator"]: r for r in audits.to_dict("records")}
    claimed = claims["annotator"].value_counts().to_dict() if len(claims) else {}
    names = sorted(str(n) for n in set(current["annotator"]) | set(by_name) | set(claimed))
    counts = current["annotator"].value_counts().to_dict()
    annotators: list[AnnotatorRow] = []
    for name in names:
        a = by_name.get(name, {})
        annotators.append(
            {
                "annotator": name,
                "n_labels": int(counts.get(name, 0)),
                "rate_per_hour": rates.get(name, 0.0),
                "left_share": _num(a.get("left_share")),
                "n_sided": int(a.get("n_sided", 0) or 0),
                "self_consistency": _num(a.get("self_consistency")),
                "n_audits_compared": int(a.get("n_audits_compared", 0) or 0),
                "claimed": int(claimed.get(name, 0)),
            }
        )
    votes = current[current["label"] != "skip"]
    wide = votes.pivot(index="pair_id", columns="annotator", values="label") if len(votes) else None
    pairwise: list[PairwiseRow] = []
    for x, y in combinations(names, 2):
        if wide is None or x not in wide.columns or y not in wide.columns:
            pairwise.append({"a": x, "b": y, "n_common": 0, "kappa": None})
            continue
        both = wide[[x, y]].dropna()
        kappa = _num(cohen_kappa(both[x], both[y])) if len(both) else None
        pairwise.append({"a": x, "b": y, "n_common": len(both), "kappa": kappa})
    alpha = _num(krippendorff_alpha(votes)) if len(votes) else None
    n_dis = votes.groupby("pair_id")["label"].nunique().gt(1).sum() if len(votes) else 0
    return {
        "annotators": annotators,
        "pairwise": pairwise,
        "alpha": alpha,
        "n_pairs": int(current["pair_id"].nunique()),
        "n_disagreements": int(n_dis),
        "n_adjudicated": len(store.adjudications()),
        "n_claimed": len(claims),
    }
