"""Turn scored completions (the long frame of format ``multi``) into preference pairs.

Strategies, applied within each ``group`` (one prompt):

- ``best_vs_worst``: the highest-scored completion against the lowest-scored one;
- ``best_vs_random``: the highest against a random completion scored lower (seeded, and
  stable per group: the same ``seed`` always picks the same partner);
- ``all_pairs``: every two completions whose scores differ.

The better completion becomes ``response_a`` and the label is ``a``; ``score_a``/``score_b``
(and ``model_a``/``model_b`` when there is a ``model`` column) say why. Equal scores are
never a pair (a tie is not a preference), nor are completions with the same text or with
no score; ``min_margin`` additionally drops pairs whose score gap is smaller. Among equal
best (or worst) scores, the one listed first wins.

Example:
    >>> long = read_multi([{"prompt": "2+2?", "responses": ["4", "5", "four"],
    ...                     "scores": [9, 1, 8]}])
    >>> pairs = binarize(long, strategy="all_pairs", min_margin=2)
    >>> pairs[["response_a", "response_b", "score_a", "score_b"]].values.tolist()
    [['4', '5', 9.0, 1.0], ['four', '5', 8.0, 1.0]]
"""

from __future__ import annotations

import math
import random
from collections.abc import Hashable
from typing import Any, Final, Literal

import pandas as pd

from prefnb.pairs import is_missing, pair_id, pairs_frame

__all__ = ["STRATEGIES", "Strategy", "binarize", "group_pairs", "read_multi"]

Strategy = Literal["best_vs_worst", "best_vs_random", "all_pairs"]
STRATEGIES: Final[tuple[str, ...]] = ("best_vs_worst", "best_vs_random", "all_pairs")
_LONG_COLUMNS: Final[tuple[str, ...]] = ("group", "prompt", "response", "score")


def read_multi(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Shortcut for ``read_pairs(records, format="multi")`` (used in examples)."""
    from prefnb.formats.read import read_pairs

    return read_pairs(records, format="multi")


def _pairs_for_group(
    items: list[tuple[str, float, Any]],
    strategy: str,
    min_margin: float,
    rng: random.Random,
) -> list[tuple[int, int]]:
    """Index pairs (better, worse) within one group; ``items`` are (text, score, model)."""

    def ok(i: int, j: int) -> bool:
        gap = items[i][1] - items[j][1]
        return gap > 0 and gap >= min_margin and items[i][0] != items[j][0]

    if len(items) < 2:
        return []
    if strategy == "all_pairs":
        out = []
        for i in range(len(items)):
            for j in range(len(items)):
                if i != j and ok(i, j):
                    out.append((i, j))
        # Best completion first, then listing order, so the output is stable and readable.
        out.sort(key=lambda p: (-items[p[0]][1], p[0], p[1]))
        return out
    best = max(range(len(items)), key=lambda i: (items[i][1], -i))
    if strategy == "best_vs_worst":
        worst = min(range(len(items)), key=lambda i: (items[i][1], i))
        return [(best, worst)] if ok(best, worst) else []
    candidates = [j for j in range(len(items)) if ok(best, j)]
    return [(best, rng.choice(candidates))] if candidates else []


def group_pairs(
    recs: list[dict[str, Any]],
    key: Hashable,
    strategy: str,
    min_margin: float,
    seed: int,
    extra: list[str],
    has_model: bool,
) -> list[dict[str, Any]]:
    """The pair rows (label ``a``) of one group's long rows, before ids and deduplication.

    ``key`` is the group's key (it seeds ``best_vs_random``); ``extra`` the columns copied
    from the group's first row; ``has_model`` whether rows may carry a ``model``. Streaming
    conversion (:mod:`prefnb.formats.convert`) pairs each row of a file with this as it
    reads it, so both paths make the same pairs.
    """
    scored = [r for r in recs if not is_missing(r["score"])]
    items = [(str(r["response"]), float(r["score"]), r.get("model")) for r in scored]
    rng = random.Random(f"{seed}:{key}")
    out: list[dict[str, Any]] = []
    for i, j in _pairs_for_group(items, strategy, float(min_margin), rng):
        row: dict[str, Any] = {c: recs[0].get(c) for c in extra}
        row.update(
            prompt=recs[0]["prompt"],
            response_a=items[i][0],
            response_b=items[j][0],
            label="a",
            score_a=items[i][1],
            score_b=items[j][1],
        )
        if has_model:
            row["model_a"] = None if is_missing(items[i][2]) else items[i][2]
            row["model_b"] = None if is_missing(items[j][2]) else items[j][2]
        out.append(row)
    return out


def binarize(
    df: pd.DataFrame,
    strategy: Strategy = "best_vs_worst",
    min_margin: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Pairs from a long frame of scored completions (see the module docstring)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    if not isinstance(min_margin, int | float) or math.isnan(min_margin) or min_margin < 0:
        raise ValueError(f"min_margin must be a number >= 0, got {min_margin!r}")
    missing = [c for c in _LONG_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(
            f"binarize needs columns {', '.join(_LONG_COLUMNS)} (missing: {', '.join(missing)}); "
            "read scored completions with prefnb.read_pairs(source, format='multi')"
        )
    has_model = "model" in df.columns
    extra = [c for c in df.columns if c not in (*_LONG_COLUMNS, "model")]
    groups: dict[Hashable, list[dict[str, Any]]] = {}
    for rec in df.to_dict("records"):
        groups.setdefault(rec["group"], []).append({str(k): v for k, v in rec.items()})

    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for key, recs in groups.items():
        for row in group_pairs(recs, key, strategy, min_margin, seed, extra, has_model):
            pid = pair_id(row["prompt"], row["response_a"], row["response_b"])
            if pid in seen:  # the same prompt and completions in two groups
                continue
            seen.add(pid)
            row["pair_id"] = pid
            out.append(row)
    if not out:
        return pairs_frame([]).assign(
            score_a=pd.Series(dtype=float), score_b=pd.Series(dtype=float)
        )
    result = pairs_frame(out)
    result.attrs["prefnb_format"] = f"binarized:{strategy}"
    return result
