"""``prefnb.plot_sweep``: which β won? Win rate against the swept parameter, with CIs, beside
each job's final reward accuracy and KL, in one chart.

Example:
    >>> t = sweep_table([{"job_id": "ft-1", "value": 0.1, "win_rate": 0.7, "ci_low": 0.6,
    ...                   "ci_high": 0.8, "lc_win_rate": 0.68, "accuracy": 0.9, "kl": 2.0}])
    >>> fig = sweep_figure(t, "beta")
    >>> [a.text for a in fig.layout.annotations][:3]
    ['Win rate vs baseline (95% CI)', 'Final reward accuracy', 'Final approx. KL']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from prefnb.plots.theme import apply_theme
from prefnb.training_metrics.sources import job_hyperparameters

__all__ = ["plot_sweep", "sweep_figure", "sweep_table"]

_TITLES = ("Win rate vs baseline (95% CI)", "Final reward accuracy", "Final approx. KL")


def sweep_table(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per job, sorted by the swept value."""
    cols = ["job_id", "value", "win_rate", "ci_low", "ci_high", "lc_win_rate", "accuracy", "kl"]
    return pd.DataFrame(list(rows), columns=cols).sort_values("value").reset_index(drop=True)


def _final(tidy: pd.DataFrame, job_id: str, names: Sequence[str]) -> float:
    """The last logged value of the first of ``names`` the job has (eval before train)."""
    mine = tidy[tidy["job_id"] == job_id]
    for split in ("eval", "train"):
        for name in names:
            rows = mine[(mine["split"] == split) & (mine["metric"] == name)]
            if len(rows):
                return float(rows.sort_values("step")["value"].iloc[-1])
    return math.nan


def sweep_figure(table: pd.DataFrame, param: str, theme: str = "auto") -> go.Figure:
    """The three panels from a :func:`sweep_table`."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=_TITLES, horizontal_spacing=0.08)
    x = table["value"]
    hover = [f"{param}={v:g}<br>{j}" for v, j in zip(x, table["job_id"], strict=True)]
    fig.add_trace(
        go.Scatter(
            x=x,
            y=table["win_rate"],
            mode="lines+markers",
            name="win rate",
            error_y={
                "type": "data",
                "symmetric": False,
                "array": table["ci_high"] - table["win_rate"],
                "arrayminus": table["win_rate"] - table["ci_low"],
            },
            text=hover,
            hovertemplate="%{text}<br>win rate %{y:.1%}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=table["lc_win_rate"],
            mode="markers",
            name="LC win rate",
            marker={"symbol": "circle-open", "size": 9},
            text=hover,
            hovertemplate="%{text}<br>LC win rate %{y:.1%}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_hline(y=0.5, line_dash="dot", line_color="#8c959f", row=1, col=1)
    for col, key, label in ((2, "accuracy", "accuracy"), (3, "kl", "KL")):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=table[key],
                mode="lines+markers",
                name=label,
                text=hover,
                hovertemplate=f"%{{text}}<br>{label} %{{y:.3g}}<extra></extra>",
            ),
            row=1,
            col=col,
        )
    positive = bool(len(x)) and bool((x > 0).all())
    log = positive and float(x.max()) / float(x.min()) >= 10
    for col in (1, 2, 3):
        # Tick exactly the swept values: a log axis's minor ticks would crowd them out.
        fig.update_xaxes(title_text=param, type="log" if log else "linear", row=1, col=col,
                         tickvals=list(x), ticktext=[f"{v:g}" for v in x])  # fmt: skip
    fig.update_yaxes(tickformat=".0%", range=[0, 1], row=1, col=1)
    fig.update_yaxes(tickformat=".0%", row=1, col=2)
    fig.update_layout(height=340, margin={"t": 64, "l": 50, "r": 20, "b": 50},
                      legend={"orientation": "h", "y": -0.25})  # fmt: skip
    apply_theme(fig, theme)
    return fig


def plot_sweep(
    jobs: Sequence[Any],
    evals: Sequence[Any],
    *,
    param: str = "beta",
    client: Any = None,
    theme: str = "auto",
) -> go.Figure:
    """Win rate against the swept hyperparameter (``param``, as :func:`prefnb.metrics` names it:
    ``beta``, ``lr``, ``rpo_alpha``…), with 95 % CIs and the LC win rate, beside each job's
    final reward accuracy and approx. KL.

    ``evals`` are :func:`prefnb.compare_models` results whose ``model_a`` is a job's output
    model (one per job, same baseline); jobs without one are drawn without a win rate.

    Example:
        >>> jobs = prefnb.sweep(df, model=base, dpo_beta=[0.03, 0.1, 0.3, 1.0])  # doctest: +SKIP
        >>> evals = [prefnb.compare_models(heldout, j, sft_job) for j in jobs]  # doctest: +SKIP
        >>> prefnb.plot_sweep(jobs, evals)                                     # doctest: +SKIP
    """
    from prefnb.launch.credentials import resolve_client
    from prefnb.training_metrics import metrics

    if not jobs:
        raise ValueError("plot_sweep: no jobs")
    client = resolve_client(client if client is not None else getattr(jobs[0], "client", None))
    by_model = {str(getattr(e, "model_a", "")): e for e in evals}
    tidy = metrics(list(jobs), client=client)
    rows = []
    for job in jobs:
        job_id = str(getattr(job, "id", job))
        params = job_hyperparameters(client, job_id)
        if param not in params:
            raise ValueError(f"plot_sweep: job {job_id} has no {param!r}; it has "
                             f"{', '.join(sorted(params))}")  # fmt: skip
        res = by_model.get(str(getattr(job, "model_output_name", "")))
        st = getattr(res, "stats", None)
        rows.append({
            "job_id": job_id, "value": float(params[param]),
            "win_rate": st.win_rate if st else math.nan,
            "ci_low": st.ci_low if st else math.nan, "ci_high": st.ci_high if st else math.nan,
            "lc_win_rate": st.lc_win_rate if st else math.nan,
            "accuracy": _final(tidy, job_id, ["accuracy"]),
            "kl": _final(tidy, job_id, ["kl", "kl_chosen"]),
        })  # fmt: skip
    return sweep_figure(sweep_table(rows), param, theme)
