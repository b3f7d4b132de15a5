"""Live updates without a server: a TRL run being written, transient failures, theme detection."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

import prefnb
from prefnb.plots.live import LiveLoop
from prefnb.plots.theme import resolve_theme


def write_state(path: Path, steps: int, max_steps: int) -> None:
    hist = [{"step": s, "loss": 1 / s} for s in range(1, steps + 1)]
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"log_history": hist, "global_step": steps, "max_steps": max_steps}))
    os.replace(tmp, path)  # as the Trainer does: readers never see half a file
    os.utime(path, (steps, steps))


def test_live_follows_a_trl_run_until_max_steps(tmp_path: Path) -> None:
    run = tmp_path / "trl-run"
    run.mkdir()
    state = run / "trainer_state.json"
    write_state(state, 5, 30)
    fig = prefnb.plot_metrics(run, metrics=("loss",), live=True, interval=0.05)
    assert fig.refresher.status() == {"trl-run": "running"}

    def trainer() -> None:
        for steps in range(10, 31, 5):
            time.sleep(0.15)
            write_state(state, steps, 30)

    t = threading.Thread(target=trainer)
    t.start()
    t.join()
    deadline = time.monotonic() + 60
    while fig.live and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not fig.live
    assert fig.live_error is None
    assert list(fig.data[0].x) == list(range(1, 31))
    assert fig.refresher.status() == {"trl-run": "completed"}


def test_transient_fetch_failures_are_retried_then_give_up() -> None:
    calls: list[int] = []

    def flaky() -> int:
        calls.append(1)
        if len(calls) in (1, 2):
            raise ConnectionError("blip")
        return len(calls)

    loop = LiveLoop(flaky, lambda n: n < 4, interval=0.01)
    loop.start()
    loop.join(60)
    assert len(calls) == 4  # two failures retried, then ran until apply said stop
    assert isinstance(loop.error, ConnectionError)

    def down() -> None:
        raise ConnectionError("down")

    dead = LiveLoop(down, lambda _: True, interval=0.01, max_failures=3)
    dead.start()
    dead.join(60)
    assert not dead.running
    assert dead.failures == 3


def test_apply_error_stops_the_loop() -> None:
    def boom(_: object) -> bool:
        raise RuntimeError("bad figure")

    loop = LiveLoop(lambda: 1, boom, interval=0.01)
    loop.start()
    loop.join(60)
    assert not loop.running
    assert str(loop.error) == "bad figure"


@pytest.mark.parametrize(
    ("lab_theme", "expected"), [("JupyterLab Dark", "dark"), ("JupyterLab Light", "light")]
)
def test_auto_theme_follows_jupyterlab_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lab_theme: str, expected: str
) -> None:
    f = tmp_path / "@jupyterlab" / "apputils-extension" / "themes.jupyterlab-settings"
    f.parent.mkdir(parents=True)
    comment = "  // a comment, as JupyterLab writes them\n"
    f.write_text("{\n" + comment + f'  "theme": "{lab_theme}"\n}}')
    monkeypatch.setenv("JUPYTERLAB_SETTINGS_DIR", str(tmp_path))
    assert resolve_theme("auto") == expected
    monkeypatch.setenv("JUPYTERLAB_SETTINGS_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("PREFNB_THEME", "dark")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_theme("auto") == "dark"
    with pytest.raises(ValueError, match="theme must be"):
        resolve_theme("sepia")
