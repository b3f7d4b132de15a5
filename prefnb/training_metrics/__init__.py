"""Training metrics as data: one tidy table for Together jobs, TRL runs and W&B exports.

Example:
    >>> import json, pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "trainer_state.json"
    >>> _ = p.write_text(json.dumps({"log_history": [{"step": 1, "loss": 0.69}]}))
    >>> metrics(p)[["step", "split", "metric", "raw_key", "value"]].values.tolist()
    [[1, 'train', 'loss', 'loss', 0.69]]
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from prefnb.training_metrics.keys import CANONICAL, KeyInfo, classify, panel_metrics
from prefnb.training_metrics.refresh import MetricsStore, Refresher
from prefnb.training_metrics.sources import (
    TERMINAL_STATUSES,
    read_trainer_state,
    read_wandb_csv,
)
from prefnb.training_metrics.tidy import TIDY_COLUMNS, MetricsSourceError

__all__ = [
    "CANONICAL",
    "TERMINAL_STATUSES",
    "TIDY_COLUMNS",
    "KeyInfo",
    "MetricsSourceError",
    "MetricsStore",
    "Refresher",
    "classify",
    "metrics",
    "panel_metrics",
    "read_trainer_state",
    "read_wandb_csv",
]


def metrics(
    jobs: object,
    client: Any = None,
    *,
    resolution: int | None = None,
    step_range: tuple[int | None, int | None] = (None, None),
) -> pd.DataFrame:
    """Metrics of one or more jobs or runs as a tidy DataFrame.

    ``jobs`` is a job id, a launcher ``Job``, a path to a TRL ``trainer_state.json`` (or its run
    directory) or a W&B CSV export, a tidy frame, or a list mixing these. ``client`` is the
    ``together.Together`` client for job ids (default: one built from the environment).
    ``resolution`` asks the API for that many uniformly sampled train points and
    ``step_range=(from, to)`` limits steps (inclusive) — both for long runs. For repeated polling
    use :class:`Refresher`, which fetches only new steps.

    Columns: ``job_id, step, split, metric, raw_key, value, logged_at``.
    """
    r = Refresher(jobs, client, resolution=resolution, step_range=step_range)
    r.refresh()
    return r.store.frame()
