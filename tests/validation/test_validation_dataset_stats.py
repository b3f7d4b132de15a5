"""The O(n) dataset statistics agree with the sort-based definitions they replace."""

from __future__ import annotations

from array import array

import numpy as np
import pytest

from prefnb.validation.warnings import PairStats, dataset_findings, length_bias


def _reference_rank_biserial(pref: np.ndarray, rej: np.ndarray) -> float:
    diffs = pref.astype(float) - rej.astype(float)
    nz = diffs[diffs != 0]
    _v, inverse, counts = np.unique(np.abs(nz), return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2.0)[inverse]
    pos, neg = ranks[nz > 0].sum(), ranks[nz < 0].sum()
    return float((pos - neg) / (pos + neg)) if pos + neg else 0.0


@pytest.mark.parametrize("seed", range(5))
def test_rank_biserial_by_counting_equals_the_sort(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pref = rng.integers(0, 3000, 5000)
    rej = rng.integers(0, 3000, 5000)
    assert length_bias(pref, rej).rank_biserial == pytest.approx(
        _reference_rank_biserial(pref, rej), abs=1e-12
    )
    huge = rej.copy()
    huge[0] = 10**9  # a range too wide to count: the sort is used
    assert length_bias(pref, huge).rank_biserial == pytest.approx(
        _reference_rank_biserial(pref, huge), abs=1e-12
    )


def test_duplicate_pairs_name_each_repeat_and_its_first_line() -> None:
    stats = PairStats()
    stats.lines = array("q", [1, 2, 3, 4, 5, 6])
    stats.pair_hash = array("q", [7, 8, 7, 9, 8, 7])
    stats.prompt_hash = array("q", [0] * 6)
    stats.preferred_len = array("q", [1] * 6)
    stats.rejected_len = array("q", [2] * 6)
    (dup,) = [f for f in dataset_findings(stats) if f.code == "warning.duplicate_pairs"]
    assert "3 duplicate pair(s)" in dup.message
    assert "3 (= line 1), 5 (= line 2), 6 (= line 1)" in dup.message
    assert dup.line == 3
