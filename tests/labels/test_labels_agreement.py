"""Cohen's κ and Krippendorff's α against textbook and hand-computed values."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prefnb.labels import LabelStore, cohen_kappa, krippendorff_alpha

N = None
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", example C: four
# observers, twelve units, values 1-5, missing data. Nominal α = 0.743.
KRIPPENDORFF_C = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]
# Same paper, example A: two observers, binary, no missing data. α = 0.095.
KRIPPENDORFF_A = [
    [0, 1, 0, 0, 0, 0, 0, 0, 1, 0],
    [1, 1, 1, 0, 0, 1, 0, 0, 0, 0],
]


def _long(matrix: list[list[object]]) -> pd.DataFrame:
    rows = [
        {"pair_id": f"u{j}", "annotator": f"c{i}", "label": v}
        for i, row in enumerate(matrix)
        for j, v in enumerate(row)
        if v is not None
    ]
    return pd.DataFrame(rows)


def test_cohen_kappa_wikipedia_examples() -> None:
    # 50 items: yes/yes 20, yes/no 5, no/yes 10, no/no 15 → p_o 0.7, p_e 0.5, κ 0.4.
    r1 = ["yes"] * 25 + ["no"] * 25
    r2 = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(r1, r2) == pytest.approx(0.4)
    # 100 items: 45, 15, 25, 15 → p_o 0.6, p_e 0.6·0.7 + 0.4·0.3 = 0.54, κ = 0.06/0.46.
    r1 = ["yes"] * 60 + ["no"] * 40
    r2 = ["yes"] * 45 + ["no"] * 15 + ["yes"] * 25 + ["no"] * 15
    assert cohen_kappa(r1, r2) == pytest.approx(0.06 / 0.46)


def test_cohen_kappa_hand_computed_three_categories() -> None:
    # Items 1-4 and 6 agree: p_o = 5/6. Rater 1: a 2, b 2, tie 2; rater 2: a 3, b 2, tie 1,
    # so p_e = (2·3 + 2·2 + 2·1) / 36 = 1/3 and κ = (5/6 − 1/3) / (1 − 1/3) = 0.75.
    r1 = ["a", "a", "b", "b", "tie", "tie"]
    r2 = ["a", "a", "b", "b", "a", "tie"]
    assert cohen_kappa(r1, r2) == pytest.approx(0.75)
    assert cohen_kappa(np.array(r1), pd.Series(r2)) == pytest.approx(0.75)


def test_cohen_kappa_edges() -> None:
    assert cohen_kappa(["a", "b"], ["a", "b"]) == 1.0
    assert cohen_kappa(["a", "b"], ["b", "a"]) == pytest.approx(-1.0)
    assert math.isnan(cohen_kappa(["a", "a"], ["a", "a"]))  # p_e = 1: undefined
    # Missing labels drop the item: only the first two items count.
    assert cohen_kappa(["a", "b", None], ["a", "b", "a"]) == 1.0
    assert cohen_kappa(["a", "b", float("nan")], ["a", "b", "a"]) == 1.0
    with pytest.raises(ValueError, match="same length, got 2 and 3"):
        cohen_kappa(["a", "b"], ["a", "b", "a"])
    with pytest.raises(ValueError, match="no item has a label from both"):
        cohen_kappa([None], ["a"])
    with pytest.raises(TypeError, match="not a single string"):
        cohen_kappa("ab", "ab")


def test_krippendorff_textbook_examples() -> None:
    assert round(krippendorff_alpha(KRIPPENDORFF_C), 3) == 0.743
    assert round(krippendorff_alpha(KRIPPENDORFF_A), 3) == 0.095


def test_krippendorff_hand_computed() -> None:
    # Units (a,a), (a,b), (b,b): o_aa = 2, o_ab = o_ba = 1, o_bb = 2; n_a = n_b = 3, n = 6.
    # α = 1 − (n − 1)·Σ_{c≠k} o_ck / Σ_{c≠k} n_c·n_k = 1 − 5·2 / 18 = 4/9.
    assert krippendorff_alpha([["a", "a", "b"], ["a", "b", "b"]]) == pytest.approx(4 / 9)


def test_krippendorff_long_frame_matches_matrix() -> None:
    assert krippendorff_alpha(_long(KRIPPENDORFF_C)) == pytest.approx(
        krippendorff_alpha(KRIPPENDORFF_C)
    )
    wide = pd.DataFrame(KRIPPENDORFF_C, dtype=object)
    assert krippendorff_alpha(wide) == pytest.approx(krippendorff_alpha(KRIPPENDORFF_C))
    frame = _long(KRIPPENDORFF_A).rename(columns={"pair_id": "item", "label": "v"})
    assert krippendorff_alpha(frame, unit="item", value="v") == pytest.approx(
        krippendorff_alpha(KRIPPENDORFF_A)
    )


def test_krippendorff_on_store_current(tmp_path: Path) -> None:
    with LabelStore(tmp_path / "labels.sqlite") as store:
        for i, row in enumerate(KRIPPENDORFF_A):
            for j, v in enumerate(row):
                store.record(pair_id=f"u{j}", annotator=f"c{i}", kind="label", verdict="ab"[v])
        assert round(krippendorff_alpha(store.current()), 3) == 0.095


def test_krippendorff_edges() -> None:
    assert math.isnan(krippendorff_alpha([["a", "a"], ["a", "a"]]))  # no variation
    assert math.isnan(krippendorff_alpha([["a", None], [None, "b"]]))  # nothing pairable
    assert math.isnan(krippendorff_alpha([]))
    with pytest.raises(ValueError, match="row 1 has 1 values, row 0 has 2"):
        krippendorff_alpha([["a", "b"], ["a"]])
    dup = pd.DataFrame({"pair_id": ["u", "u"], "annotator": ["al", "al"], "label": ["a", "b"]})
    with pytest.raises(ValueError, match="coder 'al' has several values for unit 'u'"):
        krippendorff_alpha(dup)
