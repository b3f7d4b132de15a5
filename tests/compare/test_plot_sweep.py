"""plot_sweep over a real β sweep trained and compared at LocalTogether."""

from __future__ import annotations

import math
from pathlib import Path

import prefnb
from prefnb.plots.sweep import sweep_figure, sweep_table
from prefnb.testing import LocalTogether

from .conftest import BASE, JUDGE, heldout, sft_and_dpo


def test_beta_sweep_chart_has_win_rates_with_cis_beside_accuracy_and_kl(
    api: LocalTogether, tmp_path: Path
) -> None:
    client = api.client()
    sft, _ = sft_and_dpo(api)
    betas = [0.05, 0.1, 0.9]
    jobs = [
        prefnb.launch_dpo(
            prefnb.load_sample(),
            dpo_beta=b,
            from_checkpoint=sft.id,
            base_model=BASE,
            client=client,
            progress=False,
        )
        for b in betas
    ]
    for j in jobs:
        j.wait(progress=False)
    evals = [
        prefnb.compare_models(
            heldout(200),
            model_a=j,
            model_b=sft,
            judge=JUDGE,
            store=tmp_path / "l.sqlite",
            cache=tmp_path / "g.sqlite",
            client=client,
            progress=False,
        )
        for j in jobs
    ]
    fig = prefnb.plot_sweep(jobs, evals, client=client)
    win, lc, acc, kl = fig.data
    assert list(win.x) == betas
    rates = list(win.y)
    assert rates[1] == max(rates)  # the simulator's best β is 0.1, and the chart shows it
    assert all(lo > 0 for lo in win.error_y.arrayminus)
    assert all(hi > 0 for hi in win.error_y.array)
    assert all(not math.isnan(v) for v in [*lc.y, *acc.y, *kl.y])
    assert fig.layout.xaxis.type == "log"
    html = fig.to_html(include_plotlyjs=False)
    assert "Win rate vs baseline (95% CI)" in html


def test_sweep_figure_without_a_win_rate_for_a_job() -> None:
    table = sweep_table([
        {"job_id": "ft-1", "value": 0.1, "win_rate": 0.6, "ci_low": 0.5, "ci_high": 0.7,
         "lc_win_rate": 0.6, "accuracy": 0.8, "kl": 1.0},
        {"job_id": "ft-2", "value": 0.2, "win_rate": math.nan, "ci_low": math.nan,
         "ci_high": math.nan, "lc_win_rate": math.nan, "accuracy": 0.7, "kl": 2.0},
    ])  # fmt: skip
    fig = sweep_figure(table, "beta")
    assert fig.layout.xaxis.type == "linear"
    assert len(fig.data) == 4
