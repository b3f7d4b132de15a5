"""audit_stats on constructed event logs whose answers are worked out by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from prefnb.labels import LabelStore, audit_stats
from prefnb.labels.audit import AUDIT_COLUMNS, binomial_two_sided_p, wilson_interval

# (kind, pair, verdict, shown) for annotator "al"; L/R = which screen side the verdict picked.
AL_EVENTS = [
    ("label", "p0", "a", "ab"),  # L
    ("label", "p1", "a", "ab"),  # L
    ("label", "p2", "a", "ab"),  # L
    ("label", "p3", "a", "ab"),  # L
    ("label", "p4", "a", "ab"),  # relabelled below
    ("label", "p5", "b", "ba"),  # L (b was on the left)
    ("label", "p6", "b", "ab"),  # R
    ("label", "p7", "tie", "ab"),
    ("label", "p8", "both_bad", "ba"),
    ("label", "p9", "skip", "ab"),
    ("audit", "p0", "a", "ba"),  # agrees; R
    ("audit", "p1", "b", "ba"),  # disagrees; L
    ("audit", "p5", "b", "ab"),  # agrees; R
    ("audit", "p7", "tie", "ba"),  # agrees; not a side
    ("audit", "p9", "a", "ab"),  # label was skip: not compared; L
    ("audit", "p2", "skip", "ab"),  # skipped audit: not compared, no side
    ("audit", "zz", "a", "ab"),  # never labelled: not compared; L
    ("audit", "p4", "a", "ba"),  # agrees with the label standing then (a); R
    ("label", "p4", "b", "ab"),  # R; later relabel does not rewrite the audit's verdict
]
# Current labels: p0-p3 L, p4 R, p5 L, p6 R (5 L / 2 R); audits: 3 L / 3 R → 8 of 13 left.


@pytest.fixture
def store(tmp_path: Path) -> LabelStore:
    s = LabelStore(tmp_path / "labels.sqlite")
    s.record_many(
        {"pair_id": p, "annotator": "al", "kind": k, "verdict": v, "shown": sh}
        for k, p, v, sh in AL_EVENTS
    )
    # bo always picks the left side, whichever response is there: 40 labels, no audits.
    s.record_many(
        {
            "pair_id": f"q{i}",
            "annotator": "bo",
            "kind": "label",
            "verdict": "a" if i % 2 else "b",
            "shown": "ab" if i % 2 else "ba",
        }
        for i in range(40)
    )
    return s


def test_known_answers_for_al(store: LabelStore) -> None:
    stats = audit_stats(store)
    assert list(stats.columns) == list(AUDIT_COLUMNS)
    assert stats["annotator"].tolist() == ["al", "bo"]
    al = stats.iloc[0]
    assert al["n_labels"] == 10
    assert al["n_audits"] == 8
    assert al["n_audits_compared"] == 5
    assert al["self_consistency"] == pytest.approx(4 / 5)
    assert al["n_sided"] == 13
    assert al["left_share"] == pytest.approx(8 / 13)
    # P(X <= 5 | n=13, p=1/2) = (1 + 13 + 78 + 286 + 715 + 1287) / 8192, doubled.
    assert al["left_p_value"] == pytest.approx(2 * 2380 / 8192)
    # Wilson 95% for 8/13, worked by hand: centre 0.58907, half-width 0.23384.
    assert al["left_ci_low"] == pytest.approx(0.35522, abs=1e-4)
    assert al["left_ci_high"] == pytest.approx(0.82291, abs=1e-4)
    assert (al["tie_share"], al["both_bad_share"], al["skip_share"]) == (0.1, 0.1, 0.1)


def test_left_biased_annotator_is_flagged(store: LabelStore) -> None:
    bo = audit_stats(store, annotator="bo")
    assert bo["annotator"].tolist() == ["bo"]
    row = bo.iloc[0]
    assert row["n_labels"] == 40
    assert row["left_share"] == 1.0
    assert row["left_p_value"] == pytest.approx(2 / 2**40)
    assert row["left_ci_low"] > 0.9
    assert row["n_audits"] == 0
    assert math.isnan(row["self_consistency"])


def test_empty_store_and_path_argument(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    LabelStore(path).close()
    stats = audit_stats(path)
    assert stats.empty
    assert list(stats.columns) == list(AUDIT_COLUMNS)


def test_labels_without_shown_order_do_not_count_for_bias(tmp_path: Path) -> None:
    with LabelStore(tmp_path / "labels.sqlite") as s:
        s.record(pair_id="p", annotator="al", kind="label", verdict="a")
        row = audit_stats(s).iloc[0]
    assert row["n_sided"] == 0
    assert math.isnan(row["left_share"])
    assert math.isnan(row["left_p_value"])


@pytest.mark.parametrize(
    ("k", "n", "p"),
    [
        (5, 10, 1.0),
        (0, 10, 2 / 1024),
        (10, 10, 2 / 1024),
        (9, 10, 22 / 1024),
        (1, 1, 1.0),
        (3, 4, 10 / 16),
        (1000, 2000, 1.0),
    ],
)
def test_binomial_two_sided_p(k: int, n: int, p: float) -> None:
    assert binomial_two_sided_p(k, n) == pytest.approx(p)
    assert binomial_two_sided_p(n - k, n) == pytest.approx(p)


def test_binomial_large_n_is_exact_and_small() -> None:
    assert binomial_two_sided_p(1100, 2000) < 1e-5
    assert math.isnan(binomial_two_sided_p(0, 0))


def test_wilson_interval() -> None:
    low, high = wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(0.27753, abs=1e-4)
    assert all(math.isnan(x) for x in wilson_interval(0, 0))
