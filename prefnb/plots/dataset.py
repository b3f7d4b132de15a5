"""Dataset and annotation charts: length bias, labels, annotators, agreement, audits, tokens.

:func:`plot_dataset` draws six panels from a pair table (and optionally a
:class:`~prefnb.labels.LabelStore`); :func:`dataset_summary` returns the numbers written on
them, so they can be checked and reused. Statistics come from :mod:`prefnb.labels`
(Cohen's κ, Krippendorff's α, audit stats) and :func:`prefnb.validation.warnings.length_bias`.

Example:
    >>> from prefnb.pairs import pairs_frame
    >>> df = pairs_frame([
    ...     {"prompt": "Q1", "response_a": "long answer here", "response_b": "short", "label": "a"},
    ...     {"prompt": "Q2", "response_a": "no", "response_b": "a longer one", "label": "b"},
    ...     {"prompt": "Q3", "response_a": "x", "response_b": "y"}])
    >>> s = dataset_summary(df, budget_tokens=4)
    >>> s["n_pairs"], s["label_counts"]["unlabeled"], s["length_bias"].share_preferred_longer
    (3, 1, 1.0)
    >>> s["over_budget"]
    1
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, TypedDict

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from prefnb.labels import LabelStore, audit_stats, cohen_kappa, krippendorff_alpha
from prefnb.pairs import LABELS, is_missing
from prefnb.plots.layout import panel_grid
from prefnb.plots.theme import apply_theme, resolve_theme, template
from prefnb.plots.theme import colors as theme_colors
from prefnb.validation.warnings import LengthBias, length_bias, text_of

__all__ = ["DatasetSummary", "dataset_summary", "estimate_tokens", "plot_dataset"]


class DatasetSummary(TypedDict):
    """The numbers :func:`plot_dataset` writes on its panels."""

    n_pairs: int
    label_counts: dict[str, int]
    length_bias: LengthBias
    annotators: list[str]
    agreement_name: str  # "Cohen's κ", "Krippendorff's α" or "" (fewer than two annotators)
    agreement: float
    pairwise_kappa: dict[tuple[str, str], float]
    audit: pd.DataFrame
    tokens: list[int]
    budget_tokens: int | None
    over_budget: int


def estimate_tokens(text: str) -> int:
    """Token estimate used across prefnb without a tokenizer: characters / 4, rounded up.

    >>> estimate_tokens("abcdefgh"), estimate_tokens("")
    (2, 0)
    """
    return (len(text) + 3) // 4


def _prompt_text(prompt: Any) -> str:
    if isinstance(prompt, str):
        return prompt
    try:
        return "\n".join(text_of(m.get("content")) for m in prompt)
    except (TypeError, AttributeError):
        return ""


def _labels(df: pd.DataFrame) -> list[Any]:
    return df["label"].tolist() if "label" in df.columns else [None] * len(df)


def _preferred_sides(df: pd.DataFrame) -> tuple[list[int], list[int]]:
    """Character lengths of (preferred, non-preferred) responses over a/b-labeled pairs."""
    pref: list[int] = []
    rej: list[int] = []
    for a, b, lab in zip(df["response_a"], df["response_b"], _labels(df), strict=True):
        if lab == "a":
            pref.append(len(str(a)))
            rej.append(len(str(b)))
        elif lab == "b":
            pref.append(len(str(b)))
            rej.append(len(str(a)))
    return pref, rej


def dataset_summary(
    df: pd.DataFrame,
    store: LabelStore | None = None,
    budget_tokens: int | None = None,
) -> DatasetSummary:
    """The statistics behind :func:`plot_dataset` (see :class:`DatasetSummary`)."""
    labels = _labels(df)
    counts = {k: labels.count(k) for k in LABELS}
    counts["unlabeled"] = sum(1 for v in labels if is_missing(v))
    pref, rej = _preferred_sides(df)
    current = store.current() if store is not None else pd.DataFrame()
    annotators = sorted(set(current["annotator"])) if len(current) else []
    pairwise: dict[tuple[str, str], float] = {}
    name, value = "", math.nan
    if len(annotators) >= 2:
        wide = current.pivot_table(
            index="pair_id", columns="annotator", values="label", aggfunc="last"
        )
        for x, y in combinations(annotators, 2):
            both = wide[[x, y]].dropna()
            pairwise[(x, y)] = cohen_kappa(both[x], both[y]) if len(both) else math.nan
        if len(annotators) == 2:
            name, value = "Cohen's κ", pairwise[(annotators[0], annotators[1])]
        else:
            name, value = "Krippendorff's α", krippendorff_alpha(current)
    tokens = [
        estimate_tokens(_prompt_text(p)) + max(estimate_tokens(str(a)), estimate_tokens(str(b)))
        for p, a, b in zip(df["prompt"], df["response_a"], df["response_b"], strict=True)
    ]
    over = sum(t > budget_tokens for t in tokens) if budget_tokens else 0
    return DatasetSummary(
        n_pairs=len(df),
        label_counts=counts,
        length_bias=length_bias(pref, rej),
        annotators=annotators,
        agreement_name=name,
        agreement=value,
        pairwise_kappa=pairwise,
        audit=audit_stats(store) if store is not None else pd.DataFrame(),
        tokens=tokens,
        budget_tokens=budget_tokens,
        over_budget=int(over),
    )


@dataclass
class _Panel:
    """One panel of :func:`plot_dataset`: what it draws, before it knows where."""

    title: str
    x: dict[str, Any]
    y: dict[str, Any]
    traces: list[dict[str, Any]] = field(default_factory=list)
    #: texts placed in the panel's own frame (x, y in 0–1 of the frame)
    notes: list[dict[str, Any]] = field(default_factory=list)
    shapes: list[dict[str, Any]] = field(default_factory=list)
    #: what the panel says in its frame when it has nothing to draw
    empty: str | None = None

    @property
    def legend(self) -> list[str]:
        return [str(t["name"]) for t in self.traces if t.get("showlegend")]


def _fmt(v: float, pct: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v:.0%}" if pct else f"{v:.2f}"


def _length_panel(df: pd.DataFrame, s: DatasetSummary, colors: list[str]) -> _Panel:
    """1. Response length, preferred vs non-preferred, with the length-bias statistics."""
    panel = _Panel(
        "Length: preferred vs not",
        {"title": {"text": "Length (characters; top 2% in last bin)"}},
        {"title": {"text": "Pairs (count)"}},
    )
    pref, rej = _preferred_sides(df)
    if not pref:
        panel.empty = "no a/b labels yet"
        return panel
    # Shared bins up to the 98th percentile: one 10× outlier would otherwise squash every
    # bin into the first; the outliers stay countable in the hover of the last bin.
    both = np.asarray(pref + rej, dtype=float)
    top = float(np.percentile(both, 98)) or 1.0
    edges = np.linspace(0.0, top, 41)
    for name, vals, color in (("preferred", pref, colors[0]), ("non-preferred", rej, colors[1])):
        counts, _ = np.histogram(np.minimum(vals, top), bins=edges)
        panel.traces.append(
            {
                "type": "scatter",
                "x": edges[:-1],
                "y": counts,
                "name": name,
                "mode": "lines",
                "line": {"shape": "hv", "color": color, "width": 2},
                "fill": "tozeroy",
                "opacity": 0.75,
                "showlegend": True,
                "customdata": edges[1:],
                "hovertemplate": f"{name}<br>%{{x:.0f}}–%{{customdata:.0f}} chars: "
                "%{y} pairs<extra></extra>",
            }
        )
    lb = s["length_bias"]
    panel.notes.append(
        {
            "text": f"preferred longer in {_fmt(lb.share_preferred_longer, True)} of {lb.n} pairs"
            f"<br>rank-biserial r = {_fmt(lb.rank_biserial)}, Cohen's d = {_fmt(lb.cohens_d)}",
            "x": 0.98,
            "y": 0.98,
            "xanchor": "right",
            "yanchor": "top",
            "align": "right",
        }
    )
    return panel


def _labels_panel(s: DatasetSummary, colors: list[str]) -> _Panel:
    """2. How many pairs carry each label (and how many none)."""
    counts = s["label_counts"]
    return _Panel(
        "Label distribution",
        {"title": {"text": "Label"}},
        {"title": {"text": "Pairs (count)"}},
        traces=[
            {
                "type": "bar",
                "x": list(counts),
                "y": list(counts.values()),
                "marker": {"color": colors[2]},
                "name": "labels",
                "showlegend": False,
                "hovertemplate": "%{x}: %{y} pairs<extra></extra>",
            }
        ],
    )


#: The shortest span the time axis shows: labels made within a second (a script, an import)
#: would otherwise get sub-millisecond ticks.
_MIN_TIME_SPAN = pd.Timedelta(minutes=10)


_DAY_MS: int = 86_400_000


def _date_ticks(start: pd.Timestamp, end: pd.Timestamp) -> dict[str, Any]:
    """One-line ticks for a date axis from ``start`` to ``end``: about five, each naming a
    distinct time at the coarsest unit the span needs (the title gives the rest).

    >>> t = pd.Timestamp("2026-12-06 08:00")
    >>> _date_ticks(t, t + pd.Timedelta(hours=9))
    {'tickformat': '%H:%M'}
    >>> _date_ticks(t, t + pd.Timedelta(days=3)), _date_ticks(t, t + pd.Timedelta(days=80))
    ({'tickformat': '%b %-d', 'dtick': 86400000}, {'tickformat': '%b %Y', 'dtick': 'M1'})
    """
    days = (end - start) / pd.Timedelta(days=1)
    if days <= 1:
        return {"tickformat": "%H:%M"}
    if days <= 62:
        return {"tickformat": "%b %-d", "dtick": _DAY_MS * max(1, math.ceil(days / 6))}
    months = days / 30.44
    if months <= 30:
        return {"tickformat": "%b %Y", "dtick": f"M{max(1, math.ceil(months / 6))}"}
    return {"tickformat": "%Y", "dtick": f"M{12 * max(1, math.ceil(months / 12 / 6))}"}


def _date_range(start: pd.Timestamp, end: pd.Timestamp) -> str:
    """The dates an axis from ``start`` to ``end`` spans, as its title gives them.

    >>> t = pd.Timestamp("2026-12-06 23:55")
    >>> _date_range(t, t + pd.Timedelta(minutes=4)), _date_range(t, t + pd.Timedelta(minutes=10))
    ('Dec 6, 2026', 'Dec 6 – Dec 7, 2026')
    >>> _date_range(t, t + pd.Timedelta(days=40))
    'Dec 6, 2026 – Jan 15, 2027'
    """
    if start.normalize() == end.normalize():
        return f"{start:%b %-d, %Y}"
    if start.year == end.year:
        return f"{start:%b %-d} – {end:%b %-d, %Y}"
    return f"{start:%b %-d, %Y} – {end:%b %-d, %Y}"


def _timeline_panel(events: pd.DataFrame, has_store: bool, colors: list[str]) -> _Panel:
    """3. Cumulative labels per annotator over time, one colour (and legend entry) each."""
    panel = _Panel(
        "Labels per annotator over time",
        {"title": {"text": "Time labeled (UTC)"}, "type": "date"},
        {"title": {"text": "Labels (cumulative count)"}, "rangemode": "tozero"},
    )
    labels = events[events["kind"] == "label"] if len(events) else events
    if not len(labels):
        panel.empty = "no labels yet" if has_store else "needs a label store"
        return panel
    times = labels["created_at"].dt.tz_convert(None)
    first, last = times.min(), times.max()
    pad = max((_MIN_TIME_SPAN - (last - first)) / 2, (last - first) * 0.03)
    panel.x["range"] = [first - pad, last + pad]
    if last - first < _MIN_TIME_SPAN:
        # ticks every 2 minutes: plotly's own choice for a short span may leave one tick
        panel.x["dtick"] = int((_MIN_TIME_SPAN / 5).total_seconds() * 1000)
    panel.x["hoverformat"] = "%Y-%m-%d %H:%M:%S"
    # plotly's own date ticks put the day (or year) under the first tick and under every
    # change of day as a second line, which pushes the axis title into the panel below (seen
    # at 700 px, and only when the labels' range crossed midnight): ticks stay one line, with
    # at the unit the span needs, and the title carries the date range the ticks leave out.
    panel.x.update(_date_ticks(first - pad, last + pad))
    panel.x["title"] = {"text": f"Time labeled ({_date_range(first - pad, last + pad)}, UTC)"}
    for i, (who, g) in enumerate(labels.groupby("annotator", sort=True)):
        g = g.sort_values("created_at")
        color = colors[(i + 3) % len(colors)]
        panel.traces.append(
            {
                "type": "scatter",
                "x": g["created_at"].dt.tz_convert(None),
                "y": np.arange(1, len(g) + 1),
                "mode": "lines+markers",
                "name": str(who),
                "showlegend": True,
                "marker": {"size": 4, "color": color},
                "line": {"color": color, "shape": "hv"},
                "hovertemplate": f"{_esc(str(who))}<br>%{{x}}<br>%{{y}} labels<extra></extra>",
            }
        )
    return panel


def _agreement_panel(s: DatasetSummary) -> _Panel:
    """4. Pairwise Cohen's κ between annotators (the title gives κ or Krippendorff's α)."""
    title = "Inter-annotator agreement"
    if s["agreement_name"]:
        title = f"Agreement: {s['agreement_name']} = {_fmt(s['agreement'])}"
    panel = _Panel(
        title,
        {"title": {"text": "Annotator"}},
        {"title": {"text": "Annotator (pairwise Cohen's κ)"}},
    )
    ann = s["annotators"]
    if len(ann) < 2:
        panel.empty = "needs two or more annotators<br>in a label store"
        return panel
    z = [[1.0 if a == b else math.nan for b in ann] for a in ann]
    for (a, b), k in s["pairwise_kappa"].items():
        i, j = ann.index(a), ann.index(b)
        z[i][j] = z[j][i] = k
    panel.traces.append(
        {
            "type": "heatmap",
            "z": z,
            "x": ann,
            "y": ann,
            "zmin": -1,
            "zmax": 1,
            "colorscale": "RdBu",
            "showscale": False,
            "text": [[_fmt(v) for v in row] for row in z],
            "texttemplate": "%{text}",
            "hovertemplate": "%{y} × %{x}: κ = %{z:.3f}<extra></extra>",
            "name": "agreement",
            "showlegend": False,
        }
    )
    return panel


def _audit_panel(s: DatasetSummary, colors: list[str], ink: str) -> _Panel:
    """5. Left/right bias (with 95% Wilson intervals) and swap-audit self-consistency."""
    panel = _Panel(
        "Left/right bias, swap audits",
        {"title": {"text": "Annotator"}},
        {"title": {"text": "Share of verdicts"}, "tickformat": ".0%", "range": [0, 1]},
    )
    audit = s["audit"]
    if not len(audit):
        panel.empty = "needs a label store"
        return panel
    names = audit["annotator"].astype(str).tolist()
    left = audit["left_share"].to_numpy(float)
    panel.traces += [
        {
            "type": "bar",
            "x": names,
            "y": left,
            "name": "picked left",
            "showlegend": True,
            "marker": {"color": colors[4 % len(colors)]},
            "error_y": {
                "type": "data",
                "color": ink,
                "symmetric": False,
                "array": np.nan_to_num(audit["left_ci_high"].to_numpy(float) - left),
                "arrayminus": np.nan_to_num(left - audit["left_ci_low"].to_numpy(float)),
            },
            "hovertemplate": "%{x}: picked left %{y:.0%}<extra>95% Wilson CI</extra>",
        },
        {
            "type": "bar",
            "x": names,
            "y": audit["self_consistency"].to_numpy(float),
            "name": "swap-audit agreement",
            "showlegend": True,
            "marker": {"color": colors[5 % len(colors)]},
            "hovertemplate": "%{x}: agrees with itself on %{y:.0%} of swapped replays"
            "<extra></extra>",
        },
    ]
    # no position bias: half the sided verdicts on the left
    panel.shapes.append({"type": "line", "x0": 0, "x1": 1, "y0": 0.5, "y1": 0.5,
                         "line": {"dash": "dot", "width": 1, "color": ink}})  # fmt: skip
    return panel


def _tokens_panel(s: DatasetSummary, colors: list[str]) -> _Panel:
    """6. Estimated tokens per pair against the budget."""
    budget = s["budget_tokens"]
    panel = _Panel(
        f"Tokens per pair vs budget ({budget:,})" if budget else "Tokens per pair",
        {"title": {"text": "Prompt + longer response (est. tokens)"}},
        {"title": {"text": "Pairs (count)"}},
        traces=[
            {
                "type": "histogram",
                "x": s["tokens"],
                "name": "tokens",
                "showlegend": False,
                "marker": {"color": colors[0]},
                "hovertemplate": "%{x} tokens: %{y} pairs<extra></extra>",
            }
        ],
    )
    if budget:
        over = s["over_budget"]
        share = over / max(s["n_pairs"], 1)
        panel.notes.append(
            {
                "text": f"{over} pair{'s' * (over != 1)} ({share:.0%}) over {budget:,} tokens",
                "x": 0.98,
                "y": 0.98,
                "xanchor": "right",
                "yanchor": "top",
            }
        )
        panel.shapes.append({"type": "line", "x0": budget, "x1": budget, "y0": 0, "y1": 1,
                             "xref": "data", "yref": "domain",
                             "line": {"dash": "dash", "color": colors[5]}})  # fmt: skip
    return panel


def _esc(text: str) -> str:
    # Annotator names come from the label store; keep them from acting as markup.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plot_dataset(
    df: pd.DataFrame,
    store: LabelStore | None = None,
    budget_tokens: int | None = None,
    *,
    theme: str = "auto",
    title: str | None = None,
) -> go.Figure:
    """Six panels about a pair table and its labels.

    1. response length, preferred vs non-preferred (share where the preferred is longer and
       the effect sizes written on the chart); 2. label distribution; 3. labels per annotator
       over time (from ``store``); 4. inter-annotator agreement (pairwise Cohen's κ heatmap; the
       title gives κ for two annotators, Krippendorff's α for more); 5. left/right bias and
       swap-audit self-consistency per annotator (from ``store``); 6. estimated tokens per pair
       (prompt + longer response, characters / 4) against ``budget_tokens``; 7–8. when
       ``store`` holds LLM-judge verdicts, each judge's agreement and biases, and its routing.
       Panels whose colours mean something of their own (sides, annotators, audit measures)
       carry their own legend; a panel without data says so in its frame.
    """
    s = dataset_summary(df, store, budget_tokens)
    mode = resolve_theme(theme)
    colors = list(template(mode).layout.colorway)
    ink = theme_colors(mode)["font"]
    events = store.events() if store is not None else pd.DataFrame()
    panels = [
        _length_panel(df, s, colors),
        _labels_panel(s, colors),
        _timeline_panel(events, store is not None, colors),
        _agreement_panel(s),
        _audit_panel(s, colors, ink),
        _tokens_panel(s, colors),
    ]
    judges = _judge_rows(store)
    if judges is not None:
        panels += [_judge_panel(judges[0], colors, ink), _routes_panel(judges[1], colors)]
    grid = panel_grid(
        [p.title for p in panels],
        panel_legends=[p.legend for p in panels],
        title=title or f"Dataset — {s['n_pairs']} pairs",
        cols=2,
        every_x_title=True,
    )
    layout = grid.layout
    layout.update(barmode="group", showlegend=True, shapes=[])
    data: list[dict[str, Any]] = [grid.anchor(i) for i in range(len(panels))]
    for i, p in enumerate(panels):
        xa, ya = grid.axes(i)
        xk, yk = grid.axis_keys(i)
        layout[xk].update(p.x)
        layout[yk].update(p.y)
        legend = grid.legend_of(i) if p.legend else "legend"
        data += [{**t, "xaxis": xa, "yaxis": ya, "legend": legend} for t in p.traces]
        notes = [*p.notes, *([{"text": p.empty, "opacity": 0.8}] if p.empty else [])]
        if p.empty:
            # nothing to measure: an empty frame with its note, not a made-up scale (plotly's
            # default 0-6, or the year 2000)
            bare = {"showticklabels": False, "showgrid": False, "zeroline": False,
                    "showline": True, "mirror": True}  # fmt: skip
            layout[xk].update(bare)
            layout[yk].update(bare)
        for note in notes:
            layout["annotations"].append(grid.note(i, **{"x": 0.5, "y": 0.5, **note}))
        for shape in p.shapes:
            layout["shapes"].append(
                {"xref": f"{xa} domain", "yref": ya, **shape}
                | ({"xref": xa, "yref": f"{ya} domain"} if shape.get("xref") == "data" else {})
            )
    fig = go.Figure(data=data, layout=layout)
    apply_theme(fig, mode)  # also colours the annotations
    return fig


_JUDGE_METRICS = (
    ("kappa", "κ with people"),
    ("consistency", "both orders agree"),
    ("p_first", "prefers first shown"),
    ("p_longer", "prefers longer"),
    ("human_share", "sent to people"),
)


def _judge_rows(store: LabelStore | None) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """(judge_report, routes) when ``store`` holds LLM-judge verdicts, else None."""
    if store is None or store.judge_verdicts().empty:
        return None
    from prefnb.judge.report import judge_report

    return judge_report(store, n_boot=200), store.judge_routes()


def _judge_panel(report: pd.DataFrame, colors: list[str], ink: str) -> _Panel:
    """7. Each LLM judge's agreement with people and its biases (one bar group per judge)."""
    panel = _Panel(
        "LLM judges: agreement, biases",
        {"title": {"text": "Measure"}},
        {"title": {"text": "Share (κ for the first)"}, "range": [-0.1, 1.1]},
    )
    names = [m for _, m in _JUDGE_METRICS]
    for i, row in enumerate(report.to_dict("records")):
        who = str(row["judge"]).removeprefix("judge:")
        values = [float(row[k]) for k, _ in _JUDGE_METRICS]
        panel.traces.append(
            {
                "type": "bar",
                "x": names,
                "y": values,
                "name": who,
                "legendgroup": "judges",
                "showlegend": True,
                "marker": {"color": colors[(i + 6) % len(colors)]},
                "text": [_fmt(v) for v in values],
                "textposition": "outside",
                "hovertemplate": f"{who}<br>%{{x}}: %{{y:.3f}}<extra></extra>",
            }
        )
    # an unbiased judge prefers the first shown (and the longer) half the time
    panel.shapes.append({"type": "line", "x0": 0, "x1": 1, "y0": 0.5, "y1": 0.5,
                         "line": {"dash": "dot", "width": 1, "color": ink}})  # fmt: skip
    return panel


def _routes_panel(routes: pd.DataFrame, colors: list[str]) -> _Panel:
    """8. Where each judge's routing sent the pairs: auto, audit, human."""
    panel = _Panel("LLM judges: routing", {"title": {"text": "Judge"}},
                   {"title": {"text": "Pairs (count)"}})  # fmt: skip
    if not len(routes):
        panel.empty = "run prefnb.route to route pairs"
        return panel
    counts = routes.groupby(["annotator", "route"]).size().unstack(fill_value=0)
    judges = [str(j).removeprefix("judge:") for j in counts.index]
    for i, route in enumerate(("auto", "audit", "human")):
        y = counts[route].tolist() if route in counts.columns else [0] * len(counts)
        panel.traces.append(
            {
                "type": "bar",
                "x": judges,
                "y": y,
                "name": route,
                "legendgroup": "routes",
                "showlegend": True,
                "marker": {"color": colors[(i + 2) % len(colors)]},
                "hovertemplate": f"%{{x}}: %{{y}} pairs {route}<extra></extra>",
            }
        )
    return panel
