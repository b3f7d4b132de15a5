"""plot_metrics(live=True) in a real JupyterLab: the FigureWidget renders, grows while a
LocalTogether job (started by this test) runs, and stops at the terminal status while the
kernel stays responsive."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from lab_support import (
    kernel_eval,
    kernel_id,
    lab_notebook,
    run_all,
    wait_ready,
    wait_until,
    write_notebook,
)

from prefnb.testing import SIMULATED_KEY, LocalTogether
from prefnb.training_metrics.sources import job_status

pytestmark = [pytest.mark.jupyterlab, pytest.mark.browser, pytest.mark.slow]

SAMPLE = Path(__file__).resolve().parents[2] / "prefnb" / "data" / "sample_dpo.jsonl"
NAME = "metrics_live.ipynb"
# The kernel reaches the test's LocalTogether through the SDK's own environment variables.
CELLS = [
    """\
import os, json
cfg = json.load(open("metrics_live.json"))
os.environ["TOGETHER_BASE_URL"] = cfg["base_url"]
os.environ["TOGETHER_API_KEY"] = cfg["api_key"]
import prefnb""",
    """\
fig = prefnb.plot_metrics(cfg["job_id"], metrics=("loss", "accuracy"), live=True, interval=0.3,
                          theme="dark")
fig""",
]

N_POINTS = "() => { const gd = document.querySelector('.js-plotly-plot');" \
    " return gd && gd.data && gd.data.length ? (gd.data[0].x || []).length : -1; }"  # fmt: skip


@pytest.fixture
def api() -> Iterator[LocalTogether]:
    # speed 2: a 24-step job takes ~20 s, long enough to watch it grow in the page.
    with LocalTogether(speed=2) as server:
        yield server


def start_job(api: LocalTogether) -> str:
    client = api.client()
    f = client.files.upload(str(SAMPLE), purpose="fine-tune", check=False)
    while client.files.retrieve(f.id).processing_status != "COMPLETED":
        time.sleep(0.05)
    job = client.fine_tuning.create(
        training_file=f.id, model=api.models[0], training_method="dpo", dpo_beta=0.1,
        n_epochs=4, batch_size=8,
    )  # fmt: skip
    return str(job.id)


def test_live_figure_in_jupyterlab(jupyterlab: SimpleNamespace, browser: Any, api: Any) -> None:
    write_notebook(jupyterlab.root / NAME, CELLS)
    with lab_notebook(jupyterlab, browser, NAME) as page:
        wait_ready(page, run=False)
        # Start the job only once the kernel is up and has imported prefnb (slow on a busy
        # machine), so the page sees the job while it runs.
        kid = kernel_id(jupyterlab, NAME)
        assert kernel_eval(jupyterlab, kid, "__import__('prefnb.plots').__name__") == "'prefnb'"
        job_id = start_job(api)
        # Freeze the job a few steps into training, so that however slowly the page renders
        # on a busy machine it first sees a running job; released once it has.
        api.hold()
        api.advance(10)
        (jupyterlab.root / "metrics_live.json").write_text(
            json.dumps({"base_url": api.base_url, "api_key": SIMULATED_KEY, "job_id": job_id})
        )
        run_all(page)
        page.wait_for_function(f"() => ({N_POINTS})() > 0", timeout=90_000)
        first = page.evaluate(N_POINTS)
        total = int(api.client().fine_tuning.retrieve(job_id).total_steps)
        assert first < total, f"the figure only appeared after the job ended ({first} points)"
        t0 = time.monotonic()  # still running: the kernel answers while the figure polls
        assert kernel_eval(jupyterlab, kid, "fig.live") == "True"
        assert time.monotonic() - t0 < 10
        api.release()
        page.wait_for_function(f"() => ({N_POINTS})() === {total}", timeout=120_000)
        # After the last step the job still compresses and uploads; polling goes on until the
        # status is terminal, then stops by itself.
        wait_until(
            lambda: kernel_eval(jupyterlab, kid, "fig.live") == "False",
            "live updates did not stop at completion",
            timeout=120,
            every=0.3,
        )
        assert job_status(api.client(), job_id) == "completed"
        assert kernel_eval(jupyterlab, kid, "repr(fig.live_error)") == "'None'"
        # rendered, themed and labelled in the page itself
        title = page.evaluate("() => document.querySelector('.js-plotly-plot .gtitle').textContent")
        assert title.startswith("Training metrics — 1 job")
        assert page.locator(".js-plotly-plot .ytitle").first.text_content() == "DPO loss (nats)"
        assert SIMULATED_KEY not in page.content()
        assert not page.page_errors, page.page_errors


EXPLORER_CELL = """\
import prefnb
ex = prefnb.MetricsExplorer("explorer-run", smoothing=0.0, theme="light")
ex"""

POINT_XY = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  const i = gd._fullData.findIndex(t => t.name === 'explorer-run');
  const tr = gd._fullData[i], k = 4;                    // the 5th logged point: step 25
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const box = gd.getBoundingClientRect();
  return {x: box.left + xa._offset + xa.l2p(tr.x[k]),
          y: box.top + ya._offset + ya.l2p(tr.y[k]), step: tr.x[k]};
}"""


def test_explorer_click_shows_nearest_checkpoint(jupyterlab: SimpleNamespace, browser: Any) -> None:
    run = jupyterlab.root / "explorer-run"
    run.mkdir()
    hist = [{"step": s, "loss": 0.7 - s / 100, "rewards/accuracies": 0.5 + s / 100}
            for s in range(5, 45, 5)]  # fmt: skip
    (run / "trainer_state.json").write_text(json.dumps({"log_history": hist}))
    for c in (10, 30):
        (run / f"checkpoint-{c}").mkdir()
    name = "explorer_click.ipynb"
    write_notebook(jupyterlab.root / name, [EXPLORER_CELL])
    with lab_notebook(jupyterlab, browser, name, viewport=(1300, 1100)) as page:
        run_all(page)
        page.wait_for_function(
            "() => { const gd = document.querySelector('.js-plotly-plot');"
            " return gd && gd._fullData && gd._fullData.length > 0; }"
        )
        info = page.get_by_text("Click a point to see its step and nearest checkpoint.")
        info.wait_for()
        pt = page.evaluate(POINT_XY)
        assert pt["step"] == 25
        page.mouse.move(pt["x"] - 3, pt["y"] - 3)
        page.mouse.move(pt["x"], pt["y"])
        page.wait_for_timeout(300)
        page.mouse.click(pt["x"], pt["y"])
        shown = page.get_by_text("nearest checkpoint: step 30")
        shown.wait_for(timeout=30_000)
        text = shown.inner_text()
        assert "step 25" in text
        assert "explorer-run:30" in text
        assert not page.page_errors, page.page_errors


FILL_CELLS = [
    """\
import numpy as np, pandas as pd
import prefnb
from prefnb.training_metrics.tidy import build_frame, series_from_wide
s = np.arange(1, 301)
frame = build_frame([x for j in range(3) for x in series_from_wide(pd.DataFrame({
    "train/global_step": s, "train/loss": 0.69 * np.exp(-s / (60 + 30 * j)),
    "train/reward/accuracy": 0.5 + 0.4 * (1 - np.exp(-s / 50)),
    "train/approx. KL/chosen": s * 0.01, "train/approx. KL/rejected": s * 0.02,
    "train/learning_rate": 1e-5 * np.minimum(1, s / 30)}), f"ft-run-{j}")])
fig = prefnb.plot_metrics(frame, metrics=("loss", "accuracy", "kl", "learning_rate"),
                          smoothing=0.6, theme="light")
fig""",
    """\
prefnb.plot_dataset(prefnb.load_sample(), budget_tokens=400, theme="light")""",
]

# Width of each figure's SVG beside the width of the output area it sits in.
WIDTHS_JS = """() => [...document.querySelectorAll('.jp-OutputArea-output')]
  .filter(o => o.querySelector('.main-svg'))
  .map(o => ({out: o.clientWidth,
              fig: o.querySelector('.main-svg').getBoundingClientRect().width}))"""


def test_figures_fill_the_output_and_follow_it(jupyterlab: SimpleNamespace, browser: Any) -> None:
    name = "fill_width.ipynb"
    write_notebook(jupyterlab.root / name, FILL_CELLS)
    shots = Path(__file__).resolve().parents[2] / "bench" / "_work" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with lab_notebook(jupyterlab, browser, name, viewport=(1300, 1000)) as page:
        run_all(page)
        page.wait_for_function(f"() => ({WIDTHS_JS})().length === 2", timeout=90_000)
        # Collapse the side bar and widen the window: the output area changes width.
        for viewport in ((1300, 1000), (900, 1000), (1700, 1000)):
            page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
            wait_until(
                lambda: all(
                    abs(w["fig"] - w["out"]) <= 0.02 * w["out"] for w in page.evaluate(WIDTHS_JS)
                ),
                f"figures do not fill the output at {viewport[0]} px: {page.evaluate(WIDTHS_JS)}",
                timeout=20,
                every=0.3,
            )
        page.set_viewport_size({"width": 1300, "height": 1000})
        page.wait_for_timeout(500)
        figs = page.locator(".jp-OutputArea-output:has(.main-svg)")
        for i, what in enumerate(("plot_metrics", "plot_dataset")):
            figs.nth(i).screenshot(path=str(shots / f"lab-{what}.png"))
        assert not page.page_errors, page.page_errors
