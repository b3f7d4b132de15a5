"""Incremental metrics: a store of growable per-series arrays and a refresher that only fetches
new steps.

A full tidy frame of 10 jobs × 100,000 steps holds millions of rows; concatenating it on every
poll would dominate a live chart. :class:`MetricsStore` keeps each (job, split, metric, key)
series in its own over-allocated numpy arrays, so appending 100 steps costs microseconds, and
builds the tidy frame only on request. :class:`Refresher` asks the API only for steps at or
after the last one seen (the last step is re-read because eval rows for it may arrive later)
and re-reads files only when their modification time changed.

Example:
    >>> import pandas as pd
    >>> from prefnb.training_metrics.tidy import series_from_wide
    >>> store = MetricsStore()
    >>> wide = pd.DataFrame({"step": [1, 2], "loss": [0.7, 0.6]})
    >>> store.add(series_from_wide(wide, "run"))
    2
    >>> store.add(series_from_wide(pd.DataFrame({"step": [2, 3], "loss": [0.6, 0.5]}), "run"))
    1
    >>> store.frame()["step"].tolist()
    [1, 2, 3]
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from prefnb.training_metrics.sources import (
    TERMINAL_STATUSES,
    Source,
    api_series,
    default_client,
    job_status,
    read_trainer_state_progress,
    read_wandb_csv,
    resolve,
)
from prefnb.training_metrics.tidy import FloatArray, IntArray, Series, build_frame

__all__ = ["GrowingSeries", "MetricsStore", "Refresher"]

SeriesKey = tuple[str, str, str, str]


@dataclass
class GrowingSeries:
    """Append-only arrays for one series; ``n`` values are valid, the rest is spare capacity."""

    job_id: str
    split: str
    metric: str
    raw_key: str
    n: int = 0
    _step: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
    _value: FloatArray = field(default_factory=lambda: np.empty(0, np.float64))
    _time: FloatArray = field(default_factory=lambda: np.empty(0, np.float64))
    #: step and time arrays are shared with other series of the same job (copy before writing)
    _shared: bool = False

    @property
    def step(self) -> IntArray:
        return self._step[: self.n]

    @property
    def value(self) -> FloatArray:
        return self._value[: self.n]

    @property
    def time(self) -> FloatArray:
        return self._time[: self.n]

    def adopt(
        self, step: IntArray, value: FloatArray, time: FloatArray, *, shared: bool = False
    ) -> int:
        """Start an empty series from arrays it may keep without copying (the caller hands them
        over). ``shared`` step/time arrays are copied before this series ever writes to them."""
        if self.n:
            return self.append(step, value, time)
        self._step, self._value, self._time = step, value, time
        self._shared = shared
        self.n = len(step)
        return self.n

    def _own(self) -> None:
        if self._shared:
            self._step, self._time = self._step.copy(), self._time.copy()
            self._shared = False

    def append(self, step: IntArray, value: FloatArray, time: FloatArray) -> int:
        """Append points with steps after the last one; a repeated last step is overwritten."""
        if self.n and len(step):
            last = self._step[self.n - 1]
            if step[0] <= last:
                same = step == last
                if same.any():
                    i = int(np.flatnonzero(same)[-1])
                    self._own()
                    self._value[self.n - 1] = value[i]
                    self._time[self.n - 1] = time[i]
                keep = step > last
                step, value, time = step[keep], value[keep], time[keep]
        m = len(step)
        if not m:
            return 0
        need = self.n + m
        if need > len(self._step):
            cap = max(need, 2 * len(self._step), 256)
            self._step = _grow(self._step, cap)
            self._value = _grow(self._value, cap)
            self._time = _grow(self._time, cap)
            self._shared = False
        else:
            self._own()
        self._step[self.n : need] = step
        self._value[self.n : need] = value
        self._time[self.n : need] = time
        self.n = need
        return m

    def as_series(self) -> Series:
        return Series(
            self.job_id, self.split, self.metric, self.raw_key, self.step, self.value, self.time
        )


def _grow(a: Any, cap: int) -> Any:
    out = np.empty(cap, a.dtype)
    out[: len(a)] = a
    return out


class MetricsStore:
    """All series of all jobs, appendable; :meth:`frame` gives the tidy table."""

    def __init__(self) -> None:
        self.series: dict[SeriesKey, GrowingSeries] = {}
        self.version = 0

    def add(self, series: Iterable[Series]) -> int:
        """Append series (new keys are created); returns how many points were new.

        New series copy their arrays once; series that arrive sharing one step and time array
        (every train key of a job, as :func:`~.tidy.series_from_wide` gives them) keep sharing
        one copy, so a job's axes are stored once rather than once per metric.
        """
        items = list(series)
        holders = Counter((id(s.step), id(s.time)) for s in items)
        copies: dict[tuple[int, int], tuple[IntArray, FloatArray]] = {}
        added = 0
        for s in items:
            g = self.series.get(s.key)
            if g is None:
                g = self.series[s.key] = GrowingSeries(s.job_id, s.split, s.metric, s.raw_key)
            if g.n:
                added += g.append(s.step, s.value, s.time)
                continue
            ids = (id(s.step), id(s.time))
            if ids not in copies:
                # Arrays a source made for us are kept as they are; any others are copied,
                # so nothing outside (a user's DataFrame) can change the store.
                copy = not s.owned
                copies[ids] = (
                    s.step.astype(np.int64, copy=copy),
                    s.time.astype(np.float64, copy=copy),
                )
            step, time = copies[ids]
            value = s.value.astype(np.float64, copy=not s.owned)
            added += g.adopt(step, value, time, shared=holders[ids] > 1)
        if added:
            self.version += 1
        return added

    def last_step(self, job_id: str) -> int | None:
        """The highest step stored for a job (any split), or None."""
        steps = [int(g.step[-1]) for g in self.series.values() if g.job_id == job_id and g.n]
        return max(steps) if steps else None

    def frame(self) -> pd.DataFrame:
        """The tidy table (see :mod:`prefnb.training_metrics.tidy`), sorted by job then key."""
        keys = sorted(self.series)
        return build_frame(self.series[k].as_series() for k in keys)


class Refresher:
    """Reads sources into a :class:`MetricsStore`, fetching only what is new on each call.

    ``resolution`` and ``step_range`` are passed to the API for the first fetch of long runs;
    later refreshes ask for steps from the last one seen. ``store`` lets several refreshers
    (or data fed by hand) share one :class:`MetricsStore`.
    """

    def __init__(
        self,
        jobs: object,
        client: Any = None,
        *,
        resolution: int | None = None,
        step_range: tuple[int | None, int | None] = (None, None),
        store: MetricsStore | None = None,
    ) -> None:
        self.sources: list[Source] = resolve(jobs, client)
        for s in self.sources:
            if s.kind == "api" and s.client is None:
                s.client = client if client is not None else default_client()
        self.store = store if store is not None else MetricsStore()
        self.resolution = resolution
        self.step_range = step_range
        self.statuses: dict[str, str] = {}

    @property
    def job_ids(self) -> list[str]:
        return [s.job_id for s in self.sources]

    def refresh(self) -> int:
        """Fetch new points from every source; returns the number of new points."""
        added = 0
        for src in self.sources:
            added += self.store.add(self._read(src))
        return added

    def _read(self, src: Source) -> list[Series]:
        if src.kind == "api":
            last = self.store.last_step(src.job_id)
            lo, hi = self.step_range
            if last is None:
                return api_series(
                    src.client, src.job_id, step_from=lo, step_to=hi, resolution=self.resolution
                )
            return api_series(src.client, src.job_id, step_from=max(last, lo or 0), step_to=hi)
        if src.kind == "frame":
            if src.mtime >= 0 or src.frame is None:
                return []
            src.mtime = 0.0
            return _frame_series(src.frame)
        assert src.path is not None
        mtime = os.stat(src.path).st_mtime
        if mtime == src.mtime:
            return []
        src.mtime = mtime
        if src.kind == "wandb_csv":
            return read_wandb_csv(src.path)
        series, src.progress = read_trainer_state_progress(src.path, src.job_id)
        return series

    def status(self) -> dict[str, str]:
        """Status per source: the API job status; for a TRL ``trainer_state.json``, ``running``
        until its ``global_step`` reaches ``max_steps``; ``completed`` for other files/frames."""
        for src in self.sources:
            if src.kind == "api":
                if self.statuses.get(src.job_id) not in TERMINAL_STATUSES:
                    self.statuses[src.job_id] = job_status(src.client, src.job_id)
            elif src.progress is not None and src.progress[0] < src.progress[1]:
                self.statuses[src.job_id] = "running"
            else:
                self.statuses[src.job_id] = "completed"
        return dict(self.statuses)

    def done(self) -> bool:
        """True when every job reached a terminal status."""
        return all(v in TERMINAL_STATUSES for v in self.status().values())


def _frame_series(df: pd.DataFrame) -> list[Series]:
    out: list[Series] = []
    for (job, split, metric, raw), g in df.groupby(
        ["job_id", "split", "metric", "raw_key"], observed=True, sort=False
    ):
        g = g.sort_values("step", kind="stable")
        t = pd.to_datetime(g["logged_at"], utc=True)
        secs = (
            (t - pd.Timestamp(0, tz="UTC"))
            .dt.total_seconds()
            .to_numpy(np.float64)
            .astype(np.float64)
        )
        out.append(
            Series(
                str(job),
                str(split),
                str(metric),
                str(raw),
                g["step"].to_numpy(np.int64),
                g["value"].to_numpy(np.float64),
                secs,
            )
        )
    return out
