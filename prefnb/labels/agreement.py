"""Inter-annotator agreement for nominal labels: Cohen's κ and Krippendorff's α.

Both treat verdicts as unordered categories (``a``, ``b``, ``tie``, ...). Missing values
(None, NaN) are skipped: Cohen's κ drops items either rater left missing, Krippendorff's α
uses every unit that at least two coders labeled.

Example (Wikipedia's Cohen's κ example: 50 proposals, 20 yes/yes, 5 yes/no, 10 no/yes,
15 no/no):
    >>> r1 = ["yes"] * 25 + ["no"] * 25
    >>> r2 = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    >>> round(cohen_kappa(r1, r2), 4)
    0.4
    >>> round(krippendorff_alpha([[0, 1, 0, 0, 0, 0, 0, 0, 1, 0],
    ...                           [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]), 3)
    0.095
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import pandas as pd

from prefnb.pairs import is_missing

__all__ = ["cohen_kappa", "krippendorff_alpha"]


def _as_list(values: Iterable[Any]) -> list[Any]:
    if isinstance(values, (str, bytes)):
        raise TypeError("labels must be a sequence of labels, not a single string")
    return list(values.tolist() if hasattr(values, "tolist") else values)


def cohen_kappa(labels1: Iterable[Hashable], labels2: Iterable[Hashable]) -> float:
    """Cohen's κ between two raters' labels of the same items (nominal categories).

    κ = (p_o − p_e) / (1 − p_e), with p_o the observed agreement and p_e the agreement
    expected from each rater's own label frequencies. Items where either label is missing
    are dropped. Returns NaN when p_e = 1 (both raters used one and the same category:
    κ is undefined). Raises ``ValueError`` on sequences of different lengths or with no
    item labeled by both.
    """
    a, b = _as_list(labels1), _as_list(labels2)
    if len(a) != len(b):
        raise ValueError(
            f"cohen_kappa: the two label sequences must have the same length, "
            f"got {len(a)} and {len(b)}"
        )
    both = [(x, y) for x, y in zip(a, b, strict=True) if not is_missing(x) and not is_missing(y)]
    if not both:
        raise ValueError("cohen_kappa: no item has a label from both raters")
    n = len(both)
    observed = sum(x == y for x, y in both) / n
    count1 = Counter(x for x, _ in both)
    count2 = Counter(y for _, y in both)
    expected = sum(count1[c] * count2[c] for c in count1) / (n * n)
    if expected == 1.0:
        return float("nan")
    return float((observed - expected) / (1.0 - expected))


def _units_from_long(data: pd.DataFrame, unit: str, coder: str, value: str) -> list[list[Hashable]]:
    rows = data[[unit, coder, value]]
    dup = rows.duplicated(subset=[unit, coder], keep=False)
    if dup.any():
        first = rows[dup].iloc[0]
        raise ValueError(
            f"krippendorff_alpha: coder {first[coder]!r} has several values for unit "
            f"{first[unit]!r} (rows {rows.index[dup].tolist()[:10]}); keep one per unit"
        )
    units: dict[Any, list[Hashable]] = {}
    for u, v in zip(rows[unit], rows[value], strict=True):
        if not is_missing(v):
            units.setdefault(u, []).append(v)
    return list(units.values())


def _units_from_matrix(data: Any) -> list[list[Hashable]]:
    if isinstance(data, pd.DataFrame):
        matrix = data.to_numpy(dtype=object).tolist()
    else:
        matrix = [_as_list(row) for row in _as_list(data)]
    if not matrix:
        return []
    width = len(matrix[0])
    for i, row in enumerate(matrix):
        if len(row) != width:
            raise ValueError(
                f"krippendorff_alpha: row {i} has {len(row)} values, row 0 has {width}; "
                "every coder row needs one value (or None) per unit"
            )
    return [[row[j] for row in matrix if not is_missing(row[j])] for j in range(width)]


def krippendorff_alpha(
    data: pd.DataFrame | Sequence[Sequence[Any]] | Any,
    *,
    unit: str = "pair_id",
    coder: str = "annotator",
    value: str = "label",
) -> float:
    """Krippendorff's α for nominal data; missing values allowed.

    ``data`` is either a long DataFrame with ``unit``, ``coder`` and ``value`` columns
    (by default ``pair_id``, ``annotator``, ``label``: the shape of
    ``LabelStore.current()``), or a reliability matrix with one row per coder and one
    column per unit (Krippendorff's layout; None/NaN where a coder did not label a unit).

    α = 1 − D_o / D_e, computed from the coincidence matrix over units with at least two
    values. Returns NaN when fewer than two values are pairable or every pairable value
    is the same category (no variation: α undefined).
    """
    if isinstance(data, pd.DataFrame) and {unit, coder, value} <= set(data.columns):
        units = _units_from_long(data, unit, coder, value)
    else:
        units = _units_from_matrix(data)
    totals: Counter[Hashable] = Counter()
    disagreement = 0.0
    for values in units:
        m = len(values)
        if m < 2:
            continue  # a lone value has nothing to be compared with
        counts = Counter(values)
        totals.update(counts)
        disagreement += (m * m - sum(c * c for c in counts.values())) / (m - 1)
    n = sum(totals.values())
    expected_pairs = n * n - sum(c * c for c in totals.values())
    if n < 2 or expected_pairs == 0:
        return float("nan")
    return 1.0 - (n - 1) * disagreement / expected_pairs
