"""plot_dataset's judge panels: each judge's agreement and biases, and its routing."""

from __future__ import annotations

from pathlib import Path

import pytest

import prefnb
from prefnb.judge import judge
from prefnb.labels import LabelStore
from prefnb.testing import LocalTogether

MODELS = ("meta-llama/Llama-3.3-70B-Instruct-Turbo", "openai/gpt-oss-20b")


@pytest.fixture
def judged(tmp_path: Path) -> tuple[object, Path]:
    df = prefnb.pairs_frame(
        [
            {"prompt": f"q{i}?", "response_a": "a" * (i % 9 + 1), "response_b": "b" * (i % 5 + 2)}
            for i in range(40)
        ]
    )
    store = tmp_path / "labels.sqlite"
    with LocalTogether(judge={"position_bias": 0.3}) as api:
        for model in MODELS:
            judge(df, model, store=store, backend="chat", client=api.client(), progress=False)
    prefnb.route(df, store, judge=MODELS[0], audit_rate=0.1)
    with LabelStore(store) as s:
        for pid in df["pair_id"][:10]:
            s.record(pair_id=pid, annotator="alice", kind="label", verdict="a")
    return df, store


def test_judge_panels_appear_with_judges(judged: tuple[object, Path], tmp_path: Path) -> None:
    df, path = judged
    with LabelStore(path) as store:
        fig = prefnb.plot_dataset(df, store)  # type: ignore[arg-type]
    titles = [a.text for a in fig.layout.annotations]
    assert "LLM judges: agreement, biases" in titles
    assert "LLM judges: routing" in titles
    bars = {t.name: t for t in fig.data if t.legendgroup == "judges"}
    assert set(bars) == set(MODELS)
    report = prefnb.judge_report(path, n_boot=200).set_index("judge")
    y = list(bars[MODELS[0]].y)
    assert y[1] == pytest.approx(report.loc[f"judge:{MODELS[0]}", "consistency"])
    assert y[2] == pytest.approx(report.loc[f"judge:{MODELS[0]}", "p_first"])
    routes = {t.name: sum(t.y) for t in fig.data if t.legendgroup == "routes"}
    assert sum(routes.values()) == 40
    fig.write_html(tmp_path / "dataset.html", include_plotlyjs="cdn")


def test_no_judge_panels_without_judges(tmp_path: Path) -> None:
    df = prefnb.pairs_frame([{"prompt": "q", "response_a": "a", "response_b": "b", "label": "a"}])
    with LabelStore(tmp_path / "l.sqlite") as store:
        fig = prefnb.plot_dataset(df, store)
    assert not any("LLM judges" in a.text for a in fig.layout.annotations)
