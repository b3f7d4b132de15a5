"""Charts: training curves (live), a metrics explorer and dataset/annotation charts.

Example:
    >>> import pandas as pd
    >>> from prefnb.plots import plot_metrics
    >>> df = pd.DataFrame({"job_id": ["a"], "step": [1], "split": ["train"], "metric": ["loss"],
    ...                    "raw_key": ["loss"], "value": [0.69],
    ...                    "logged_at": pd.to_datetime([None], utc=True)})
    >>> plot_metrics(df, metrics=("loss",)).data[0].name
    'a'
"""

from __future__ import annotations

from prefnb.plots.curves import MetricsFigure, plot_metrics
from prefnb.plots.dataset import dataset_summary, plot_dataset
from prefnb.plots.downsample import M4Cache, downsample, m4_indices
from prefnb.plots.explorer import MetricsExplorer
from prefnb.plots.smoothing import EmaState, ema
from prefnb.plots.theme import resolve_theme, template

__all__ = [
    "EmaState",
    "M4Cache",
    "MetricsExplorer",
    "MetricsFigure",
    "dataset_summary",
    "downsample",
    "ema",
    "m4_indices",
    "plot_dataset",
    "plot_metrics",
    "resolve_theme",
    "template",
]
