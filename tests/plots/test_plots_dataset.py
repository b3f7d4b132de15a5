"""Dataset charts: agreement, length bias, audits and token budget against hand-computed values."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from prefnb.labels import LabelStore
from prefnb.pairs import pairs_frame
from prefnb.plots.dataset import dataset_summary, plot_dataset


@pytest.fixture
def pairs() -> pd.DataFrame:
    rows = [
        # preferred longer: p1 (a, 12 vs 3), p2 (b, 10 vs 2), p3 (a, 9 vs 1); not: p4 (a, 2 vs 8)
        {"prompt": "p1", "response_a": "x" * 12, "response_b": "y" * 3, "label": "a"},
        {"prompt": "p2", "response_a": "x" * 2, "response_b": "y" * 10, "label": "b"},
        {"prompt": "p3", "response_a": "x" * 9, "response_b": "y" * 1, "label": "a"},
        {"prompt": "p4", "response_a": "x" * 2, "response_b": "y" * 8, "label": "a"},
        {"prompt": "p5" * 50, "response_a": "x" * 400, "response_b": "y", "label": "tie"},
        {"prompt": "p6", "response_a": "x", "response_b": "y", "label": None},
    ]
    return pairs_frame(rows)


def store_with(path: Path, pairs: pd.DataFrame, votes: dict[str, list[str]]) -> LabelStore:
    store = LabelStore(path)
    events = []
    for who, verdicts in votes.items():
        for pid, v in zip(pairs["pair_id"], verdicts, strict=False):
            if v:
                events.append(
                    {"pair_id": pid, "annotator": who, "kind": "label", "verdict": v, "shown": "ab"}
                )
    store.record_many(events)
    return store


def test_length_bias_and_labels(pairs: pd.DataFrame) -> None:
    s = dataset_summary(pairs, budget_tokens=50)
    lb = s["length_bias"]
    assert lb.n == 4
    assert lb.share_preferred_longer == 0.75
    assert lb.mean_preferred == pytest.approx((12 + 10 + 9 + 2) / 4)
    assert s["label_counts"] == {
        "a": 3, "b": 1, "tie": 1, "both_bad": 0, "skip": 0, "unlabeled": 1,
    }  # fmt: skip
    # tokens = ceil(prompt/4) + ceil(longer response/4); p5: 100 chars → 25, 400 → 100
    assert s["tokens"][4] == 125
    assert s["over_budget"] == 1


def test_two_annotators_get_cohens_kappa(tmp_path: Path, pairs: pd.DataFrame) -> None:
    # 4 pairs both labeled: ana a,b,a,a ; bo a,b,b,a → observed 3/4; ana a 3/4, bo a 2/4
    # p_e = 3/4·2/4 + 1/4·2/4 = 0.5 → κ = (0.75 − 0.5)/(1 − 0.5) = 0.5
    store = store_with(tmp_path / "l.sqlite", pairs, {"ana": list("abaa"), "bo": list("abba")})
    with store:
        s = dataset_summary(pairs, store)
        fig = plot_dataset(pairs, store, theme="light")
    assert s["agreement_name"] == "Cohen's κ"
    assert s["agreement"] == pytest.approx(0.5)
    assert s["pairwise_kappa"] == {("ana", "bo"): pytest.approx(0.5)}
    titles = [a.text for a in fig.layout.annotations]
    assert "Agreement: Cohen's κ = 0.50" in titles
    heat = next(t for t in fig.data if isinstance(t, go.Heatmap))
    assert heat.z[0][1] == pytest.approx(0.5)


def test_three_annotators_get_krippendorffs_alpha(tmp_path: Path, pairs: pd.DataFrame) -> None:
    # Units (pairs) and values: u1 a,a,a  u2 b,b,a  u3 a,a,- (two coders)
    # Coincidences: u1 contributes a-a 3·2/2 = 3 (as 6 ordered pairs / (m−1)=2 → 3 per value pair)
    # n_a = 3+1+2 = 6, n_b = 2, n = 8.  D_o: only u2 disagrees: (9 − (4+1))/2 = 2.
    # α = 1 − (n − 1)·D_o / (n² − Σ n_c²) = 1 − 7·2 / (64 − 40) = 1 − 14/24 = 0.41667
    votes = {"ana": ["a", "b", "a"], "bo": ["a", "b", "a"], "cy": ["a", "a", ""]}
    store = store_with(tmp_path / "l.sqlite", pairs, votes)
    with store:
        s = dataset_summary(pairs, store)
        fig = plot_dataset(pairs, store)
    assert s["agreement_name"] == "Krippendorff's α"
    assert s["agreement"] == pytest.approx(1 - 14 / 24)
    assert any("Krippendorff's α = 0.42" in (a.text or "") for a in fig.layout.annotations)


def test_audit_panel_uses_audit_stats(tmp_path: Path, pairs: pd.DataFrame) -> None:
    store = LabelStore(tmp_path / "l.sqlite")
    p = pairs["pair_id"].tolist()
    with store:
        store.record(pair_id=p[0], annotator="ana", kind="label", verdict="a", shown="ab")  # left
        store.record(pair_id=p[1], annotator="ana", kind="label", verdict="a", shown="ba")  # right
        store.record(pair_id=p[2], annotator="ana", kind="label", verdict="b", shown="ba")  # left
        store.record(pair_id=p[0], annotator="ana", kind="audit", verdict="a", shown="ba")  # right
        store.record(pair_id=p[2], annotator="ana", kind="audit", verdict="a", shown="ab")  # left
        fig = plot_dataset(pairs, store)
    left = next(t for t in fig.data if t.name == "picked left")
    consistent = next(t for t in fig.data if t.name == "swap-audit agreement")
    # sided verdicts: labels L, R, L + audits R, L → 3/5 left; audits agree 1 of 2
    assert list(left.y) == [pytest.approx(0.6)]
    assert list(consistent.y) == [pytest.approx(0.5)]


def test_without_store_panels_say_what_is_missing(pairs: pd.DataFrame, tmp_path: Path) -> None:
    fig = plot_dataset(pairs, budget_tokens=50, theme="dark")
    texts = [a.text for a in fig.layout.annotations]
    assert "needs a label store" in texts
    assert "needs two or more annotators<br>in a label store" in texts
    assert "1 pair (17%) over 50 tokens" in texts
    assert any(t.startswith("preferred longer in 75% of 4 pairs") for t in texts)
    axes = {fig.layout[k].title.text for k in fig.layout if k.startswith(("xaxis", "yaxis"))}
    assert "Length (characters; top 2% in last bin)" in axes
    assert "Pairs (count)" in axes
    assert fig.layout.template.layout.paper_bgcolor == "#111418"
    out = tmp_path / "ds.html"
    fig.write_html(out, include_plotlyjs="cdn")
    html = out.read_text()
    # plotly writes non-ASCII as \u escapes unless orjson is installed; both are the same title.
    assert "Dataset — 6 pairs" in html or "Dataset \\u2014 6 pairs" in html


def test_no_labels_at_all() -> None:
    df = pairs_frame([{"prompt": "q", "response_a": "a", "response_b": "b"}])
    s = dataset_summary(df)
    assert s["length_bias"].n == 0
    assert math.isnan(s["agreement"])
    fig = plot_dataset(df)
    assert "no a/b labels yet" in [a.text for a in fig.layout.annotations]
