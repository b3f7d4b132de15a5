"""Figure structure from known metric rows: panels, traces, names, axes, smoothing values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import prefnb
from prefnb.plots import MetricsFigure, ema
from prefnb.plots.curves import WEBGL_ABOVE_POINTS
from prefnb.training_metrics import Refresher
from prefnb.training_metrics.tidy import build_frame, series_from_wide


def together_rows(job: str, n: int, beta: float) -> pd.DataFrame:
    steps = np.arange(1, n + 1)
    wide = pd.DataFrame(
        {
            "train/global_step": steps,
            "train/loss": 0.69 * np.exp(-steps * beta / n),
            "train/reward/accuracy": np.minimum(1, 0.5 + steps / (2 * n)),
            "train/approx. KL/chosen": steps * 0.5,
            "train/approx. KL/rejected": steps * 0.9,
            "eval/loss": np.where(steps % 10 == 0, 0.7 - steps / (10 * n), np.nan),
        }
    )
    return build_frame(series_from_wide(wide, job))


def drawn(fig: go.Figure) -> list[Any]:
    """The figure's data traces, without each panel's empty anchor trace."""
    return [t for t in fig.data if not (t.name or "").startswith("panel-")]


@pytest.fixture
def two_jobs() -> pd.DataFrame:
    return pd.concat([together_rows("ft-a", 50, 0.1), together_rows("ft-b", 50, 0.5)])


def test_panels_traces_and_names(two_jobs: pd.DataFrame) -> None:
    fig = prefnb.plot_metrics(
        two_jobs, smoothing=0.6, labels={"ft-a": "beta=0.1", "ft-b": "beta=0.5"}, theme="light"
    )
    assert isinstance(fig, go.FigureWidget)
    titles = [a.text for a in fig.layout.annotations if not (a.name or "").startswith("nodata")]
    assert titles[0] == "Loss"
    assert titles[1] == "Reward accuracy"
    assert titles[2].startswith("Approx. KL")
    names = sorted({t.name for t in fig.data if not t.name.startswith("panel-")})
    assert names == sorted(
        [
            "beta=0.1", "beta=0.1 (raw)", "beta=0.1 (eval)",
            "beta=0.1 · chosen (raw)", "beta=0.1 · rejected (raw)",
            "beta=0.5", "beta=0.5 (raw)", "beta=0.5 (eval)",
            "beta=0.5 · chosen (raw)", "beta=0.5 · rejected (raw)",
            "chosen (solid)", "rejected (dashed)",  # the KL panel's line-style key
        ]
    )  # fmt: skip
    # M4 caps each trace near the pixel width: SVG (see test_render_mode for WebGL)
    assert all(type(t) is go.Scatter for t in fig.data)
    # 2 jobs × (loss raw+smooth, eval loss, acc raw+smooth, kl 2×(raw+smooth)) = 2 × 9,
    # + 2 legend-only entries for solid/dashed
    assert len(fig.data) == 20
    legend = [t.name for t in fig.data if t.showlegend is not False]
    assert legend == ["beta=0.1", "beta=0.5", "chosen (solid)", "rejected (dashed)"]
    # one colour per job, shared by all of its traces
    drawn = [t for t in fig.data if t.legendgroup not in ("sides", None)]
    colors = {t.legendgroup: set() for t in drawn}
    for t in drawn:
        colors[t.legendgroup].add(t.line.color)
    assert all(len(c) == 1 for c in colors.values())
    assert len({next(iter(c)) for c in colors.values()}) == 2
    assert fig.layout.yaxis.title.text == "DPO loss (nats)"
    assert fig.layout.yaxis2.tickformat == ".0%"
    assert "Training step" in fig.layout.xaxis3.title.text


def test_smoothed_values_and_raw_faint(two_jobs: pd.DataFrame) -> None:
    fig = prefnb.plot_metrics(two_jobs, metrics=("loss",), smoothing=0.9, labels={})
    raw = next(t for t in fig.data if t.name == "ft-a (raw)")
    bold = next(t for t in fig.data if t.name == "ft-a")
    src = two_jobs[(two_jobs.job_id == "ft-a") & (two_jobs.metric == "loss")]
    src = src[src.split == "train"]
    np.testing.assert_allclose(raw.y, src["value"])
    np.testing.assert_allclose(bold.y, ema(src["value"].to_numpy(), 0.9))
    assert raw.opacity < 0.5
    assert bold.line.width > raw.line.width
    assert list(bold.x) == src["step"].tolist()
    ev = next(t for t in fig.data if t.name == "ft-a (eval)")
    assert ev.mode == "lines+markers"
    assert list(ev.x) == [10, 20, 30, 40, 50]
    assert "%{x}" in bold.hovertemplate
    assert "%{y" in bold.hovertemplate


def test_no_smoothing_means_one_bold_line(two_jobs: pd.DataFrame) -> None:
    fig = prefnb.plot_metrics(two_jobs, metrics=("loss",), smoothing=0.0, labels={})
    assert sorted(t.name for t in drawn(fig)) == ["ft-a", "ft-a (eval)", "ft-b", "ft-b (eval)"]


def test_missing_metric_panel_says_so(two_jobs: pd.DataFrame) -> None:
    fig = prefnb.plot_metrics(two_jobs, metrics=("loss", "margin"))
    notes = {a.name: a for a in fig.layout.annotations if (a.name or "").startswith("nodata")}
    assert notes["nodata-0"].visible is False
    assert notes["nodata-1"].visible is not False
    assert notes["nodata-1"].text == "no 'margin' logged yet"
    # an empty trace on the empty panel's axes makes plotly.js draw that panel's frame (the
    # note would otherwise land in another panel)
    (anchor,) = [t for t in fig.data if t.name == "panel-1"]
    assert (anchor.xaxis, anchor.yaxis, len(anchor.x)) == ("x2", "y2", 0)
    # the empty panel is a plain frame (no made-up scale); the loss panel has its scale
    assert fig.layout.yaxis2.showticklabels is False
    assert fig.layout.yaxis2.mirror is True
    assert fig.layout.yaxis.showticklabels is True


def test_long_series_is_downsampled_with_extremes() -> None:
    n = 100_000
    steps = np.arange(n)
    loss = np.full(n, 0.5)
    loss[54_321] = 9.0
    df = build_frame(series_from_wide(pd.DataFrame({"step": steps, "loss": loss}), "long"))
    fig = prefnb.plot_metrics(df, metrics=("loss",), max_points=2000)
    (t,) = drawn(fig)
    assert len(t.x) <= 2000
    assert max(t.y) == 9.0
    assert 54_321 in list(t.x)


def test_x_epoch_and_time_axes(tmp_path: Path) -> None:
    wide = pd.DataFrame(
        {
            "train/global_step": [1, 2, 3, 4],
            "train/epoch": [0.25, 0.5, 0.75, 1.0],
            "train/loss": [0.7, 0.6, 0.5, 0.4],
            "timestamp": [1.7e9, 1.7e9 + 60, 1.7e9 + 120, 1.7e9 + 180],
        }
    )
    df = build_frame(series_from_wide(wide, "j"))
    ep = prefnb.plot_metrics(df, metrics=("loss",), x="epoch")
    assert list(ep.data[0].x) == [0.25, 0.5, 0.75, 1.0]
    assert ep.layout.xaxis.title.text.startswith("Epoch")
    tm = prefnb.plot_metrics(df, metrics=("loss",), x="time")
    assert str(pd.Timestamp(tm.data[0].x[1])) == "2023-11-14 22:14:20"
    with pytest.raises(ValueError, match="x must be one of"):
        prefnb.plot_metrics(df, x="wall")  # type: ignore[arg-type]


def test_refresh_draws_only_new_points(tmp_path: Path) -> None:
    p = tmp_path / "run" / "trainer_state.json"
    p.parent.mkdir()
    import json
    import os

    p.write_text(json.dumps({"log_history": [{"step": s, "loss": 1 / s} for s in range(1, 11)]}))
    fig = prefnb.plot_metrics(p, metrics=("loss",), smoothing=0.5)
    assert isinstance(fig, MetricsFigure)
    assert isinstance(fig.refresher, Refresher)
    assert fig.refresh() == 0
    p.write_text(json.dumps({"log_history": [{"step": s, "loss": 1 / s} for s in range(1, 16)]}))
    os.utime(p, (5, 5))
    assert fig.refresh() == 5
    bold = next(t for t in fig.data if t.name == "run")
    np.testing.assert_allclose(bold.y, ema([1 / s for s in range(1, 16)], 0.5))


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_themes_and_write_html(two_jobs: pd.DataFrame, theme: str, tmp_path: Path) -> None:
    fig = prefnb.plot_metrics(two_jobs, theme=theme)
    font = fig.layout.template.layout.font.color
    paper = fig.layout.template.layout.paper_bgcolor
    assert (font, paper) == (("#1f2328", "#ffffff") if theme == "light" else ("#e6edf3", "#111418"))
    assert fig.layout.title.text.startswith("Training metrics — 2 jobs")
    out = tmp_path / f"{theme}.html"
    fig.write_html(out, include_plotlyjs="cdn")
    html = out.read_text()
    assert "Training metrics" in html
    assert '"type":"scatter"' in html


def test_a_logged_nan_is_a_gap_in_both_lines() -> None:
    from prefnb.training_metrics.sources import _columns

    rows = [{"step": i, "loss": float("nan") if i == 5 else 1 / (i + 1)} for i in range(10)]
    cols, present = _columns(rows)
    df = build_frame(series_from_wide(cols, "r", present=present))
    fig = prefnb.plot_metrics(df, metrics=("loss",), smoothing=0.5, theme="light")
    raw, smooth = drawn(fig)
    assert np.isnan(raw.y[5])
    assert np.isnan(smooth.y[5])
    assert np.isfinite(np.delete(smooth.y, 5)).all()  # the EMA goes on after it


def test_render_mode(two_jobs: pd.DataFrame) -> None:
    def kinds(**kw: Any) -> set[type]:
        return {type(t) for t in prefnb.plot_metrics(two_jobs, theme="light", **kw).data}

    assert kinds() == {go.Scatter}
    assert kinds(render="webgl") == {go.Scattergl}
    # auto: WebGL once a trace may hold more points than SVG handles well
    assert kinds(max_points=WEBGL_ABOVE_POINTS) == {go.Scatter}
    assert kinds(max_points=WEBGL_ABOVE_POINTS + 1) == {go.Scattergl}
    assert kinds(max_points=10**6, render="svg") == {go.Scatter}
    with pytest.raises(ValueError, match="render must be"):
        prefnb.plot_metrics(two_jobs, render="canvas")  # type: ignore[arg-type]


def test_hostile_key_names_are_escaped_in_hover() -> None:
    wide = pd.DataFrame({"step": [1, 2], "<img src=x onerror=alert(1)>": [1.0, 2.0]})
    df = build_frame(series_from_wide(wide, "j<b>"))
    fig = prefnb.plot_metrics(df, metrics=["<img src=x onerror=alert(1)>"], labels={"j<b>": "j"})
    assert "<img" not in fig.data[0].hovertemplate
    assert "&lt;img" in fig.data[0].hovertemplate
