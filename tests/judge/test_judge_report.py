"""judge_report against numbers computed by hand on a four-pair fixture."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import prefnb
from prefnb.judge.report import wilson
from prefnb.labels import LabelStore

# pair: (verdict ab, verdict ba, len_a, len_b, route)
PAIRS = {
    "p1": ("a", "a", 10, 5, "auto"),
    "p2": ("b", "b", 8, 3, "audit"),
    "p3": ("a", "b", 4, 4, "human"),
    "p4": ("a", None, 6, 2, "human"),
}
HUMANS = [
    ("alice", "p1", "a"),
    ("alice", "p2", "a"),
    ("alice", "p3", "b"),
    ("alice", "p4", "a"),
    ("bob", "p1", "a"),
    ("bob", "p2", "b"),
    ("carol", "p1", "skip"),
]


def _fill(store: LabelStore, judge: str, pairs: dict[str, tuple]) -> None:  # type: ignore[type-arg]
    rows, routes = [], []
    for pid, (ab, ba, la, lb, route) in pairs.items():
        for shown, v in (("ab", ab), ("ba", ba)):
            rows.append(
                {
                    "pair_id": pid,
                    "content_key": f"k-{pid}",
                    "annotator": judge,
                    "rubric_hash": "r1",
                    "shown": shown,
                    "verdict": v,
                    "error": None if v else "invalid verdict",
                    "cost_usd": 0.001,
                    "seconds": 0.5,
                    "len_a": la,
                    "len_b": lb,
                }
            )
        routes.append(
            {
                "pair_id": pid,
                "annotator": judge,
                "rubric_hash": "r1",
                "route": route,
                "audit_rate": 0.1,
                "seed": 0,
            }
        )
    store.record_judge_verdicts(rows)
    store.record_judge_routes(routes)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "labels.sqlite"
    with LabelStore(path) as s:
        _fill(s, "judge:m1", PAIRS)
        for who, pid, lab in HUMANS:
            s.record(pair_id=pid, annotator=who, kind="label", verdict=lab)  # type: ignore[arg-type]
    return path


def test_report_matches_hand_computed_values(store: Path) -> None:
    row = prefnb.judge_report(store, n_boot=200).iloc[0]
    assert row["judge"] == "judge:m1"
    assert row["rubric_hash"] == "r1"
    assert (row["n_pairs"], row["n_human"]) == (4, 4)
    # items (judge, human): p1 (a,a)(a,a); p2 (b,a)(b,b); p3 (tie,b); p4 has no judge label.
    # p_o = 3/5; p_e = (2·3 + 2·2 + 1·0)/25 = 0.4; κ = 0.2/0.6
    assert row["kappa"] == pytest.approx(1 / 3)
    assert row["kappa_lo"] <= row["kappa"] <= row["kappa_hi"]
    assert math.isnan(row["kappa_auto"])  # p1 only: both raters said "a", κ undefined
    assert row["kappa_audit"] == pytest.approx(0.0)  # p2: p_o = 0.5, p_e = 0.5
    assert row["consistency"] == pytest.approx(2 / 3)  # p1, p2 agree; p3 not; p4 has one order
    # first shown chosen: p1ab, p2ba, p3ab, p3ba, p4ab of 7 valid a/b verdicts
    assert row["p_first"] == pytest.approx(5 / 7)
    assert (row["p_first_lo"], row["p_first_hi"]) == pytest.approx(wilson(5, 7))
    # longer chosen (p3 has equal lengths): p1 ×2, p4 ×1 of 5 (p2 picked the shorter twice)
    assert row["p_longer"] == pytest.approx(3 / 5)
    assert row["human_share"] == pytest.approx(3 / 4)
    assert row["usd_per_1k"] == pytest.approx(1000 * 8 * 0.001 / 4)
    assert row["seconds_per_1k"] == pytest.approx(1000 * 8 * 0.5 / 4)
    # people on p1 (a,a) and p2 (a,b): 1 agreeing pair of 2; judge matches 3 of 4 labels
    assert row["human_agreement"] == pytest.approx(0.5)
    assert row["judge_agreement"] == pytest.approx(0.75)
    assert row["vs_ceiling"] == pytest.approx(1.5)


def test_several_judges_make_a_leaderboard(store: Path) -> None:
    better = {
        pid: (h, h, 5, 5, "auto") for pid, h in (("p1", "a"), ("p2", "b"), ("p3", "b"), ("p4", "a"))
    }
    with LabelStore(store) as s:
        _fill(s, "judge:m2", better)
    report = prefnb.judge_report(store, n_boot=100)
    assert report["judge"].tolist() == ["judge:m2", "judge:m1"]
    assert report["kappa"].iloc[0] > report["kappa"].iloc[1]


def test_empty_store_gives_an_empty_report(tmp_path: Path) -> None:
    report = prefnb.judge_report(tmp_path / "new.sqlite")
    assert report.empty
    assert "kappa" in report.columns


def test_wilson() -> None:
    lo, hi = wilson(0, 10)
    assert lo == pytest.approx(0.0, abs=1e-12)
    assert 0.25 < hi < 0.35
    assert all(math.isnan(x) for x in wilson(0, 0))
