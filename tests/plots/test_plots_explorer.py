"""MetricsExplorer: controls redraw from the store; a click finds the nearest checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

from plotly.callbacks import Points

from prefnb.plots.explorer import MetricsExplorer


def trl_run(root: Path, name: str, checkpoints: list[int]) -> Path:
    run = root / name
    run.mkdir()
    hist = [
        {"step": s, "epoch": s / 40, "loss": 0.7 - s / 200, "rewards/accuracies": 0.5 + s / 100}
        for s in range(5, 45, 5)
    ]
    hist.append({"step": 20, "epoch": 0.5, "eval_loss": 0.62})
    (run / "trainer_state.json").write_text(json.dumps({"log_history": hist}))
    for c in checkpoints:
        (run / f"checkpoint-{c}").mkdir()
    return run


def test_controls_and_click(tmp_path: Path) -> None:
    a = trl_run(tmp_path, "run-a", [10, 30])
    b = trl_run(tmp_path, "run-b", [])
    ex = MetricsExplorer([a, b], theme="light", smoothing=0.5)
    assert ex.jobs_select.value == ("run-a", "run-b")
    assert ex.metrics_select.value == ("loss", "accuracy")
    names = {t.name for t in ex.figure.data}
    assert {"run-a", "run-a (raw)", "run-a (eval)", "run-b"} <= names

    ex.jobs_select.value = ("run-b",)
    ex.smoothing_slider.value = 0.0
    assert {t.name for t in ex.figure.data} == {"run-b", "run-b (eval)"}
    assert ex.children[1] is ex.figure

    ex.jobs_select.value = ("run-a", "run-b")
    ex.x_dropdown.value = "epoch"
    trace = next(t for t in ex.figure.data if t.name == "run-a")
    assert trace.x[0] == 5 / 40
    i = list(trace.customdata).index(25)
    ex._on_click(trace, Points([i], [trace.x[i]], [trace.y[i]], trace.name, 0), None)
    assert ex.last_click == {"job_id": "run-a", "step": 25, "value": trace.y[i], "checkpoint": 30}
    assert "nearest checkpoint: step 30" in ex.info.value
    assert "run-a:30" in ex.info.value

    other = next(t for t in ex.figure.data if t.name == "run-b")
    ex._on_click(other, Points([0], [other.x[0]], [other.y[0]], other.name, 1), None)
    assert "no checkpoints saved" in ex.info.value


def test_nearest_checkpoint_ties_go_earlier(tmp_path: Path) -> None:
    ex = MetricsExplorer(trl_run(tmp_path, "r", [10, 30]))
    assert [ex.nearest_checkpoint("r", s) for s in (0, 19, 20, 21, 99)] == [10, 10, 10, 30, 30]


def test_refresh_button_pulls_new_steps(tmp_path: Path) -> None:
    run = trl_run(tmp_path, "r", [])
    ex = MetricsExplorer(run)
    state = run / "trainer_state.json"
    data = json.loads(state.read_text())
    data["log_history"].append({"step": 45, "loss": 0.1, "grad_norm": 2.0})
    state.write_text(json.dumps(data))
    import os

    os.utime(state, (9, 9))
    ex._on_refresh()
    assert "2 new points" in ex.info.value
    assert "grad_norm" in ex.metrics_select.options
    bold = next(t for t in ex.figure.data if t.name == "r")
    assert bold.x[-1] == 45
