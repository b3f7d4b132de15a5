"""MetricsExplorer: pick jobs, metrics, smoothing and x-axis; click a point to see its checkpoint.

An ipywidgets composition around a :class:`~prefnb.plots.curves.MetricsFigure`. All jobs'
metrics are fetched once into one :class:`~prefnb.training_metrics.Refresher`; changing a
control redraws from that store (no refetch), and *Refresh* pulls only new steps. Clicking a
point shows its job, step and value and the nearest saved checkpoint — from the API's
checkpoint list for Together jobs, from ``checkpoint-N`` directories for TRL runs — as the
``from_checkpoint`` reference to continue from.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"job_id": ["a", "a"], "step": [1, 2], "split": ["train"] * 2,
    ...     "metric": ["loss"] * 2, "raw_key": ["loss"] * 2, "value": [0.7, 0.6],
    ...     "logged_at": pd.to_datetime([None, None], utc=True)})
    >>> ex = MetricsExplorer(df)
    >>> ex.metrics_select.value, [t.name for t in ex.figure.data]
    (('loss',), ['a (raw)', 'a'])
"""

from __future__ import annotations

import bisect
import html
from typing import Any

import ipywidgets as w

from prefnb.plots.curves import MetricsFigure, XAxis, _labels_for
from prefnb.training_metrics.keys import CANONICAL
from prefnb.training_metrics.refresh import Refresher
from prefnb.training_metrics.sources import checkpoint_steps

__all__ = ["MetricsExplorer"]

_DEFAULT_PANELS = ("loss", "accuracy", "kl")


class MetricsExplorer(w.VBox):  # type: ignore[misc]
    """Interactive comparison of training runs (see the module docstring)."""

    def __init__(
        self,
        jobs: object,
        client: Any = None,
        *,
        theme: str = "auto",
        smoothing: float = 0.6,
        x: XAxis = "step",
    ) -> None:
        self.refresher = jobs if isinstance(jobs, Refresher) else Refresher(jobs, client)
        if not self.refresher.store.series:
            self.refresher.refresh()
        self._theme = theme
        self._labels = _labels_for(self.refresher)
        self._checkpoints: dict[str, list[int]] = {}
        self.jobs_select = w.SelectMultiple(
            options=[(self._labels.get(j, j), j) for j in self.refresher.job_ids],
            value=tuple(self.refresher.job_ids),
            description="Jobs",
            rows=min(6, max(2, len(self.refresher.job_ids))),
        )
        options = self._metric_options()
        self.metrics_select = w.SelectMultiple(
            options=options,
            value=tuple(m for m in _DEFAULT_PANELS if m in options) or tuple(options[:1]),
            description="Metrics",
            rows=min(8, max(2, len(options))),
        )
        self.smoothing_slider = w.FloatSlider(
            value=smoothing, min=0.0, max=0.99, step=0.01, description="Smoothing",
            continuous_update=False, readout_format=".2f",
        )  # fmt: skip
        self.x_dropdown = w.Dropdown(
            options=[("step", "step"), ("epoch", "epoch"), ("time", "time")],
            value=x,
            description="x-axis",
        )
        self.refresh_button = w.Button(description="Refresh", icon="refresh")
        self.info = w.HTML(value="<i>Click a point to see its step and nearest checkpoint.</i>")
        self.figure = self._build()
        self.controls = w.HBox(
            [
                self.jobs_select,
                self.metrics_select,
                w.VBox([self.smoothing_slider, self.x_dropdown, self.refresh_button]),
            ]
        )
        super().__init__([self.controls, self.figure, self.info])
        for ctl in (self.jobs_select, self.metrics_select, self.smoothing_slider, self.x_dropdown):
            ctl.observe(self._on_control, names="value")
        self.refresh_button.on_click(self._on_refresh)

    def _metric_options(self) -> list[str]:
        present = {g.metric for g in self.refresher.store.series.values()}
        known = [m for m in CANONICAL if m in present and m != "epoch"]
        if {"kl_chosen", "kl_rejected"} & present:
            known = [m for m in known if m not in ("kl_chosen", "kl_rejected", "kl")]
            known.insert(min(2, len(known)), "kl")
        others = sorted(m for m in present if m not in CANONICAL)
        return known + others

    def _build(self) -> MetricsFigure:
        jobs = set(self.jobs_select.value)
        fig = MetricsFigure(
            self.refresher,
            list(self.metrics_select.value) or ["loss"],
            smoothing=float(self.smoothing_slider.value),
            x=self.x_dropdown.value,
            theme=self._theme,
            labels={j: t for j, t in self._labels.items() if j in jobs},
        )
        for trace in fig.data:
            trace.on_click(self._on_click)
        return fig

    def redraw(self) -> None:
        """Rebuild the figure from the current control values."""
        self.figure = self._build()
        self.children = [self.controls, self.figure, self.info]

    def _on_control(self, _change: dict[str, Any]) -> None:
        self.redraw()

    def _on_refresh(self, _button: Any = None) -> None:
        n = self.refresher.refresh()
        options = self._metric_options()
        if list(self.metrics_select.options) != options:
            self.metrics_select.options = options
        self.figure.update_data()
        for trace in self.figure.data:
            trace.on_click(self._on_click)
        self.info.value = f"<i>{n} new points.</i>"

    def nearest_checkpoint(self, job_id: str, step: int) -> int | None:
        """The saved checkpoint step closest to ``step`` (ties go to the earlier one)."""
        if job_id not in self._checkpoints:
            src = next(s for s in self.refresher.sources if s.job_id == job_id)
            self._checkpoints[job_id] = checkpoint_steps(src)
        steps = self._checkpoints[job_id]
        if not steps:
            return None
        i = bisect.bisect_left(steps, step)
        near = steps[max(0, i - 1) : i + 1]
        return min(near, key=lambda s: (abs(s - step), s))

    def _on_click(self, trace: Any, points: Any, _state: Any = None) -> None:
        if not points.point_inds:
            return
        i = points.point_inds[0]
        job = str(trace.legendgroup)
        step = int(trace.customdata[i]) if trace.customdata is not None else int(points.xs[0])
        value = float(points.ys[0])
        ck = self.nearest_checkpoint(job, step)
        where = (
            f"nearest checkpoint: step {ck} (<code>{html.escape(job)}:{ck}</code>)"
            if ck is not None
            else "no checkpoints saved"
        )
        self.info.value = (
            f"<b>{html.escape(str(trace.name))}</b> — job <code>{html.escape(job)}</code>, "
            f"step {step}, value {value:.4g}; {where}"
        )
        self.last_click = {"job_id": job, "step": step, "value": value, "checkpoint": ck}
