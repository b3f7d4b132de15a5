"""Training curves: one panel per metric, one colour per job, live-updatable.

:func:`plot_metrics` returns a :class:`MetricsFigure`, a plotly ``FigureWidget`` that knows
its data source: ``fig.refresh()`` pulls only new steps, and ``live=True`` keeps doing so in
the background until every job reaches a terminal status. Raw values are drawn faint and the
TensorBoard-style EMA bold; eval points are markers; long series are M4-downsampled (extremes
kept, about two points per pixel column), incrementally, so a refresh costs the new points
rather than the run. Capped traces are drawn as SVG; traces allowed more than
:data:`WEBGL_ABOVE_POINTS` points (``max_points``) use WebGL (``render`` overrides).

Example:
    >>> import pandas as pd
    >>> from prefnb.training_metrics.tidy import build_frame, series_from_wide
    >>> wide = pd.DataFrame({"train/global_step": [1, 2, 3], "train/loss": [0.69, 0.5, 0.4]})
    >>> fig = plot_metrics(build_frame(series_from_wide(wide, "ft-a")), metrics=("loss",),
    ...                    smoothing=0.5, theme="light")
    >>> [t.name for t in fig.data]
    ['ft-a (raw)', 'ft-a']
    >>> fig.data[1].y.round(3).tolist()
    [0.69, 0.563, 0.47]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import plotly.graph_objects as go

from prefnb.plots.downsample import M4Cache
from prefnb.plots.layout import panel_grid
from prefnb.plots.live import LiveLoop
from prefnb.plots.responsive import responsive_esm
from prefnb.plots.smoothing import EmaState, check_weight
from prefnb.plots.theme import apply_theme
from prefnb.plots.theme import colors as _theme_colors
from prefnb.training_metrics.keys import CANONICAL, panel_metrics
from prefnb.training_metrics.refresh import GrowingSeries, Refresher
from prefnb.training_metrics.sources import job_hyperparameters, legend_labels

__all__ = [
    "AXIS_TITLES",
    "WEBGL_ABOVE_POINTS",
    "MetricsFigure",
    "RenderMode",
    "XAxis",
    "plot_metrics",
]

XAxis = Literal["step", "epoch", "time"]
RenderMode = Literal["auto", "svg", "webgl"]

#: y-axis titles with units, per canonical metric.
AXIS_TITLES: Final[dict[str, str]] = {
    "loss": "DPO loss (nats)",
    "accuracy": "Reward accuracy (share of pairs)",
    "kl": "Approx. KL (nats)",
    "kl_chosen": "Approx. KL (nats)",
    "kl_rejected": "Approx. KL (nats)",
    "margin": "Reward margin (β·nats)",
    "reward": "Implicit reward (β·nats)",
    "rewards": "Implicit reward (β·nats)",
    "reward_chosen": "Implicit reward (β·nats)",
    "reward_rejected": "Implicit reward (β·nats)",
    "logp": "Log-prob (nats, sum over tokens)",
    "logps": "Log-prob (nats, sum over tokens)",
    "logp_chosen": "Log-prob (nats, sum over tokens)",
    "logp_rejected": "Log-prob (nats, sum over tokens)",
    "nll_loss": "NLL loss (nats per token)",
    "learning_rate": "Learning rate (per step)",
    "grad_norm": "Gradient norm (L2)",
    "epoch": "Epoch (passes over the data)",
}
#: ``render="auto"`` draws with WebGL only when a trace may hold more points than this (the
#: threshold plotly express uses). Below it SVG is faster to set up — measured in headless
#: Chromium with software WebGL (bench/plots.py), a 3-point WebGL chart costs more than 90
#: M4-capped SVG traces — and takes none of the browser's WebGL contexts: Chromium keeps 16
#: per page and blanks the oldest figures beyond that, which a notebook of charts reaches.
WEBGL_ABOVE_POINTS: Final = 1000
#: Width a notebook output gives a figure without an explicit width (JupyterLab, ~1,100 px).
ASSUMED_WIDTH_PX: Final = 1100
X_TITLES: Final[dict[str, str]] = {
    "step": "Training step (optimizer steps)",
    "epoch": "Epoch (passes over the data)",
    "time": "Time logged (UTC)",
}
#: Panels that draw a chosen (solid) and a rejected (dashed) line per job; the legend says so.
PANEL_TITLES: Final[dict[str, str]] = {
    "kl": "Approx. KL",
    "reward": "Implicit rewards",
    "rewards": "Implicit rewards",
    "logp": "Log-probs",
    "logps": "Log-probs",
}
_SIDE_KEY: Final[tuple[str, ...]] = ("chosen (solid)", "rejected (dashed)")
#: Axes of a panel without data (a frame around its note) and of one with data.
_EMPTY_AXIS: Final = {"showticklabels": False, "showgrid": False, "zeroline": False,
                      "showline": True, "mirror": True}  # fmt: skip
_DRAWN_AXIS: Final = {"showticklabels": True, "showgrid": True, "zeroline": True,
                      "showline": False, "mirror": False}  # fmt: skip
#: Schedules, not noisy measurements: smoothing them only adds float noise to a flat line.
_NEVER_SMOOTHED: Final = frozenset({"learning_rate", "epoch"})
_DASH: Final[dict[str, str]] = {"rejected": "dash"}
_SIDE_NAMES: Final[tuple[str, ...]] = ("chosen", "rejected")


def _panel_title(name: str) -> str:
    return PANEL_TITLES.get(name) or CANONICAL.get(name) or name


@dataclass
class _TraceState:
    """Per-series drawing state: which traces, the running EMA and the M4 caches."""

    key: tuple[str, str, str, str]
    panel: int
    main: int  # trace index of the bold (smoothed, or raw when unsmoothed) line / eval markers
    raw: int | None  # trace index of the faint raw line, when smoothing
    ema: EmaState | None
    n_seen: int = 0
    smooth_buf: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty(0, np.float64))
    m4_main: M4Cache = field(default_factory=M4Cache)
    m4_raw: M4Cache = field(default_factory=M4Cache)


class MetricsFigure(go.FigureWidget):  # type: ignore[misc]
    """A ``FigureWidget`` of training curves bound to a :class:`Refresher`.

    Use :meth:`refresh` to pull new steps, :meth:`start_live` / :meth:`stop` for background
    updates, and :meth:`frame` for the data behind the chart.
    """

    def __init__(
        self,
        refresher: Refresher,
        metrics: Sequence[str] | None = ("loss", "accuracy", "kl"),
        *,
        smoothing: float = 0.0,
        x: XAxis = "step",
        theme: str = "auto",
        max_points: int | None = None,
        labels: dict[str, str] | None = None,
        title: str | None = None,
        render: RenderMode = "auto",
    ) -> None:
        if x not in X_TITLES:
            raise ValueError(f"x must be one of {sorted(X_TITLES)}, got {x!r}")
        if render not in ("auto", "svg", "webgl"):
            raise ValueError(f"render must be 'auto', 'svg' or 'webgl', got {render!r}")
        self._r = refresher
        self._smoothing = check_weight(smoothing)
        self._x = x
        self._labels = labels or {j: j for j in refresher.job_ids}
        self._colors: dict[str, str] = {}
        self._states: dict[tuple[str, str, str, str], _TraceState] = {}
        self._legend_shown: set[str] = set()
        self._live: LiveLoop | None = None
        if metrics is None:
            present = {g.metric for g in refresher.store.series.values()}
            metrics = [m for m in CANONICAL if m in present and m != "epoch"] or ["loss"]
        self._panels = list(dict.fromkeys(metrics))
        self._panel_of: dict[str, int] = {}
        for i, p in enumerate(self._panels):
            for m in panel_metrics(p):
                self._panel_of.setdefault(m, i)
        n = len(self._panels)
        # M4 needs about 2 points per pixel column of a panel to look like the full series;
        # more only costs bytes and drawing time.
        cols = 1 if n <= 2 else 2
        self._max_points = (
            int(max_points) if max_points is not None else 2 * int(ASSUMED_WIDTH_PX * 0.9 / cols)
        )
        webgl = render == "webgl" or (render == "auto" and self._max_points > WEBGL_ABOVE_POINTS)
        self._trace_type = "scattergl" if webgl else "scatter"
        jobs = len(self._labels)
        smooth_note = (
            f" · EMA smoothing {self._smoothing:g} (faint: raw)" if self._smoothing else ""
        )
        self._sided = any(p in PANEL_TITLES for p in self._panels)
        legend = [*self._labels.values(), *(_SIDE_KEY if self._sided else ())]
        grid = panel_grid(
            [_esc(_panel_title(p)) for p in self._panels],
            legend=legend,
            title=title or f"Training metrics — {jobs} job{'s' * (jobs != 1)}{smooth_note}",
            share_x=True,
        )
        self._grid = grid
        for i, p in enumerate(self._panels):
            xk, yk = grid.axis_keys(i)
            grid.layout[yk]["title"] = {"text": AXIS_TITLES.get(p, f"{_esc(p)} (as logged)")}
            if p == "accuracy":
                grid.layout[yk]["tickformat"] = ".0%"
            if p == "learning_rate":
                # from zero: a constant rate is then a flat line at its value, not ±1 of it
                grid.layout[yk].update(tickformat=".1e", rangemode="tozero")
            if grid.is_bottom(i):
                grid.layout[xk]["title"] = {"text": X_TITLES[x]}
            grid.layout["annotations"].append(
                grid.note(i, f"no '{_esc(p)}' logged yet", name=f"nodata-{i}", opacity=0.7)
            )
            # empty until data comes: a plain frame around the note, no made-up scale
            grid.layout[xk].update(_EMPTY_AXIS)
            grid.layout[yk].update(_EMPTY_AXIS)
        grid.layout.update(hovermode="closest", uirevision="prefnb")
        # plotly's view, wrapped to fill the output and follow its width (see responsive.py)
        type(self)._esm = responsive_esm()
        super().__init__(layout=grid.layout)
        # Fill the output's width and follow it when the window resizes.
        config: dict[str, Any] = dict(getattr(self, "_config", None) or {})
        self._config = {**config, "responsive": True}
        self._mode = apply_theme(self, theme)
        self._colorway = list(self.layout.template.layout.colorway)
        self.update_data()
        # Panels that have no data yet get an empty trace, so plotly.js draws their frame
        # (and their "no data" note in it); after the data, so a job's traces come first.
        drawn = {st.panel for st in self._states.values()}
        self.add_traces([grid.anchor(i, self._trace_type) for i in range(n) if i not in drawn])
        if self._sided:
            self._add_side_key()

    # --- layout helpers -----------------------------------------------------------------

    def _add_side_key(self) -> None:
        """Legend entries saying what solid and dashed mean (they hold no data)."""
        ink = _theme_colors(self._mode)["zero"]
        x, y = self._grid.axes(0)
        self.add_traces(
            [
                {
                    "type": self._trace_type,
                    "x": [None],
                    "y": [None],
                    "name": name,
                    "mode": "lines",
                    "line": {"color": ink, "width": 2.2, "dash": _DASH.get(side, "solid")},
                    "legendgroup": "sides",
                    "legendrank": 2000,  # after the jobs
                    "hoverinfo": "skip",
                    "xaxis": x,
                    "yaxis": y,
                }
                for side, name in zip(_SIDE_NAMES, _SIDE_KEY, strict=True)
            ]
        )

    def _color(self, job: str) -> str:
        if job not in self._colors:
            self._colors[job] = self._colorway[len(self._colors) % len(self._colorway)]
        return self._colors[job]

    # --- data -----------------------------------------------------------------------------

    def _x_values(self, g: GrowingSeries, idx: npt.NDArray[np.int64]) -> Any:
        if self._x == "step":
            return _compact_steps(g.step[idx])
        if self._x == "time":
            secs = g.time[idx]
            return pd.to_datetime(secs, unit="s", utc=True).tz_localize(None).to_numpy()
        ep = self._r.store.series.get((g.job_id, "train", "epoch", _epoch_key(self._r, g.job_id)))
        if ep is None or ep.n == 0:
            return np.full(len(idx), np.nan)
        return np.interp(g.step[idx], ep.step, ep.value)

    def _new_traces(self, g: GrowingSeries, panel: int) -> tuple[_TraceState, list[dict[str, Any]]]:
        """The drawing state and the trace properties (without data) of a new series."""
        job, split, metric = g.job_id, g.split, g.metric
        label = self._labels.get(job, job)
        side = next((s for s in _SIDE_NAMES if metric.endswith(s)), "")
        name = label + (f" · {side}" if side else "") + (" (eval)" if split == "eval" else "")
        color = self._color(job)
        dash = _DASH.get(side, "solid")
        yname = CANONICAL.get(metric, metric)
        hover = (
            f"<b>{_esc(name)}</b><br>{_esc(job)} · {_esc(g.raw_key)}<br>"
            + ("" if self._x == "step" else "step %{customdata}<br>")
            + f"{self._x} %{{x}}<br>{_esc(yname)} %{{y:.4g}}<extra></extra>"
        )
        show = job not in self._legend_shown and split == "train"
        if show:
            self._legend_shown.add(job)
        traces: list[dict[str, Any]] = []
        if split == "eval":
            traces.append(
                {
                    "name": name,
                    "mode": "lines+markers",
                    "marker": {"size": 7, "color": color, "symbol": "diamond"},
                    "line": {"color": color, "width": 1, "dash": "dot"},
                    "legendgroup": job,
                    "showlegend": False,
                    "hovertemplate": hover,
                }
            )
        else:
            if self._smoothing and metric not in _NEVER_SMOOTHED:
                traces.append(
                    {
                        "name": f"{name} (raw)",
                        "mode": "lines",
                        "line": {"color": color, "width": 1, "dash": dash},
                        "opacity": 0.25,
                        "legendgroup": job,
                        "showlegend": False,
                        "hovertemplate": hover.replace("<extra>", " (raw)<extra>"),
                    }
                )
            traces.append(
                {
                    "name": name if not side else label,
                    "mode": "lines",
                    "line": {"color": color, "width": 2.2, "dash": dash},
                    "legendgroup": job,
                    "showlegend": show,
                    "hovertemplate": hover,
                }
            )
        smooth = self._smoothing and split != "eval" and metric not in _NEVER_SMOOTHED
        ema = EmaState(self._smoothing) if smooth else None
        m = self._max_points
        # Trace indices are assigned when the traces are added (see update_data).
        st = _TraceState(g_key(g), panel, -1, None, ema, m4_main=M4Cache(m), m4_raw=M4Cache(m))
        return st, traces

    def update_data(self) -> int:
        """Push points that arrived in the store since the last call into the traces.

        Returns the number of new points drawn. Only new points are smoothed and bucketed;
        traces of series seen for the first time are added in one message, with their data.
        """
        store = self._r.store
        added = 0
        fresh: list[tuple[_TraceState, list[Any]]] = []
        # One restyle for every changed trace: plotly_restyle writes the arrays straight into
        # the figure (setting trace.x / trace.y one by one re-validates each array) and sends
        # a single message.
        changes: dict[int, dict[str, Any]] = {}
        for key, g in store.series.items():
            panel = self._panel_of.get(g.metric)
            if panel is None or g.job_id not in self._labels:
                continue
            st = self._states.get(key)
            if st is None:
                st, specs = self._new_traces(g, panel)
                self._states[key] = st
                added += g.n
                main, raw = self._fill(st, g)
                specs[-1].update(main)
                if raw is not None:
                    specs[0].update(raw)
                # Plain dicts with their data: add_traces builds (and validates) each trace once;
                # a trace object would be built here and copied there.
                x_ax, y_ax = self._grid.axes(panel)
                fresh.append(
                    (
                        st,
                        [
                            {"type": self._trace_type, "xaxis": x_ax, "yaxis": y_ax, **spec}
                            for spec in specs
                        ],
                    )
                )
                continue
            if g.n == st.n_seen:
                continue
            added += g.n - st.n_seen
            main, raw = self._fill(st, g)
            changes[st.main] = main
            if raw is not None and st.raw is not None:
                changes[st.raw] = raw
        if changes:
            idx = list(changes)
            keys = sorted({k for c in changes.values() for k in c})
            self.plotly_restyle({k: [changes[i].get(k) for i in idx] for k in keys}, idx)
        if fresh:
            first = len(self.data)
            flat: list[Any] = []
            for st, traces in fresh:
                if len(traces) == 2:
                    st.raw = first + len(flat)
                st.main = first + len(flat) + len(traces) - 1
                flat.extend(traces)
            self.add_traces(flat)
        if added:
            has = {st.panel for st in self._states.values() if st.n_seen}
            with self.batch_update():
                for ann in self.layout.annotations:
                    if ann.name and ann.name.startswith("nodata-"):
                        panel = int(ann.name[7:])
                        visible = panel not in has
                        if ann.visible is not visible:
                            ann.visible = visible
                            for axis in self._grid.axis_keys(panel):
                                self.layout[axis].update(_EMPTY_AXIS if visible else _DRAWN_AXIS)
        return added

    def _fill(
        self, st: _TraceState, g: GrowingSeries
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Smooth the new points and re-bucket the tail; returns the (main, raw) trace data."""
        y = g.value
        if st.ema is not None:
            # Over-allocated like the store's arrays: a refresh appends without copying history.
            if len(st.smooth_buf) < g.n:
                grown = np.empty(max(g.n, 2 * len(st.smooth_buf), 256), np.float64)
                grown[: st.n_seen] = st.smooth_buf[: st.n_seen]
                st.smooth_buf = grown
            st.smooth_buf[st.n_seen : g.n] = st.ema.extend(y[st.n_seen :])
            ys = st.smooth_buf[: g.n]
        else:
            ys = y
        idx = st.m4_main.indices(ys)
        main: dict[str, Any] = {"x": self._x_values(g, idx), "y": ys[idx]}
        if self._x != "step":  # keep the step for clicks and hover
            main["customdata"] = _compact_steps(g.step[idx])
        raw: dict[str, Any] | None = None
        if st.ema is not None:
            ridx = st.m4_raw.indices(y)
            raw = {"x": self._x_values(g, ridx), "y": y[ridx]}
            if self._x != "step":
                raw["customdata"] = _compact_steps(g.step[ridx])
        st.n_seen = g.n
        return main, raw

    # --- public API -----------------------------------------------------------------------

    @property
    def refresher(self) -> Refresher:
        """The :class:`~prefnb.training_metrics.Refresher` feeding this figure."""
        return self._r

    @property
    def theme(self) -> str:
        """The resolved theme, ``light`` or ``dark``."""
        return self._mode

    def frame(self) -> pd.DataFrame:
        """The tidy metrics table behind the figure."""
        return self._r.store.frame()

    def refresh(self) -> int:
        """Fetch new steps from every source and draw them; returns the new point count."""
        self._r.refresh()
        return self.update_data()

    @property
    def live(self) -> bool:
        """True while a background refresh loop is running."""
        return self._live is not None and self._live.running

    @property
    def live_error(self) -> BaseException | None:
        """The error that stopped the live loop, if any."""
        return self._live.error if self._live is not None else None

    def start_live(self, interval: float = 5.0) -> None:
        """Refresh every ``interval`` seconds in the background until all jobs are terminal."""
        if self.live:
            return

        def fetch() -> bool:
            done = self._r.done()  # status first: the last fetch after it catches final steps
            self._r.refresh()
            return done

        def apply(done: bool) -> bool:
            self.update_data()
            return not done

        self._live = LiveLoop(fetch, apply, interval)
        self._live.start()

    def stop(self) -> None:
        """Stop live updates."""
        if self._live is not None:
            self._live.stop()


def _compact_steps(steps: npt.NDArray[np.int64]) -> Any:
    # plotly's widget serializer sends int64 arrays as Python lists (slow, large); int32 and
    # float64 go as binary buffers.
    if len(steps) and (steps.max() >= 2**31 or steps.min() < -(2**31)):
        return steps.astype(np.float64)
    return steps.astype(np.int32)


def g_key(g: GrowingSeries) -> tuple[str, str, str, str]:
    return (g.job_id, g.split, g.metric, g.raw_key)


def _epoch_key(r: Refresher, job: str) -> str:
    for (j, split, metric, raw), _ in r.store.series.items():
        if j == job and split == "train" and metric == "epoch":
            return raw
    return "epoch"


def _esc(text: str) -> str:
    # Key names and labels come from files and servers; keep them from acting as markup.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _labels_for(r: Refresher) -> dict[str, str]:
    params: dict[str, dict[str, Any]] = {}
    for src in r.sources:
        p: dict[str, Any] = {}
        if src.kind == "api" and src.client is not None:
            try:
                p = job_hyperparameters(src.client, src.job_id)
            except Exception:  # labels are cosmetic; a failed lookup must not block plotting
                p = {}
        params[src.job_id] = p
    return legend_labels(params)


def plot_metrics(
    source: object,
    metrics: Sequence[str] | None = ("loss", "accuracy", "kl"),
    smoothing: float = 0.0,
    x: XAxis = "step",
    live: bool = False,
    *,
    client: Any = None,
    theme: str = "auto",
    interval: float = 5.0,
    max_points: int | None = None,
    resolution: int | None = None,
    labels: dict[str, str] | None = None,
    title: str | None = None,
    render: RenderMode = "auto",
) -> MetricsFigure:
    """Interactive training curves for one or more jobs or runs.

    ``source`` is anything :func:`prefnb.metrics` accepts (job ids, ``Job`` objects, paths to
    ``trainer_state.json`` or W&B CSVs, a tidy frame, or a list of them) or a
    :class:`~prefnb.training_metrics.Refresher`. ``metrics`` names panels: canonical names
    (``loss``, ``accuracy``, ``margin``, ``learning_rate`` …), ``kl`` (chosen + rejected),
    or raw keys; ``None`` shows every known metric present. ``smoothing`` is the EMA weight in
    [0, 1). ``x`` is ``step``, ``epoch`` or ``time``. ``live=True`` refreshes every
    ``interval`` seconds without blocking the kernel and stops when all jobs are finished.
    Legend names say what differs between jobs (``beta=0.1``) when hyperparameters are known.
    ``max_points`` caps the points drawn per trace (default: two per pixel column of a panel;
    extremes are always kept). ``render`` is ``auto`` (WebGL only for traces allowed more than
    :data:`WEBGL_ABOVE_POINTS` points), ``svg`` or ``webgl``.
    """
    r = (
        source
        if isinstance(source, Refresher)
        else Refresher(source, client, resolution=resolution)
    )
    if not r.store.series:
        r.refresh()
    fig = MetricsFigure(
        r,
        metrics,
        smoothing=smoothing,
        x=x,
        theme=theme,
        max_points=max_points,
        labels=labels or _labels_for(r),
        title=title,
        render=render,
    )
    if live:
        fig.start_live(interval)
    return fig
