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
from itertools import combinations
from typing import Any, TypedDict

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from prefnb.labels import LabelStore, audit_stats, cohen_kappa, krippendorff_alpha
from prefnb.pairs import LABELS, is_missing
from prefnb.plots.theme import apply_theme
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


def _note(fig: go.Figure, text: str, row: int, col: int) -> None:
    fig.add_annotation(
        text=text,
        xref="x domain",
        yref="y domain",
        x=0.5,
        y=0.5,
        showarrow=False,
        row=row,
        col=col,
        opacity=0.8,
    )


def _fmt(v: float, pct: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v:.0%}" if pct else f"{v:.2f}"


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
       (prompt + longer response, characters / 4) against ``budget_tokens``.
    """
    s = dataset_summary(df, store, budget_tokens)
    lb = s["length_bias"]
    judges = _judge_rows(store)
    agree_title = "Inter-annotator agreement"
    if s["agreement_name"]:
        agree_title += f" — {s['agreement_name']} = {_fmt(s['agreement'])}"
    fig = make_subplots(
        rows=4 if judges is not None else 3,
        cols=2,
        subplot_titles=[
            "Response length — preferred vs non-preferred",
            "Label distribution",
            "Labels per annotator over time",
            agree_title,
            "Left/right bias and swap-audit consistency",
            "Estimated tokens per pair"
            + (f" vs budget ({budget_tokens:,})" if budget_tokens else ""),
            *(_JUDGE_TITLES if judges is not None else ()),
        ],
        vertical_spacing=0.09 if judges is not None else 0.12,
        horizontal_spacing=0.12,
    )
    mode = apply_theme(fig, theme)
    colors = list(fig.layout.template.layout.colorway)

    # 1. length bias
    pref, rej = _preferred_sides(df)
    if pref:
        # Shared bins up to the 98th percentile: one 10× outlier would otherwise squash every
        # bin into the first; the outliers stay countable in the hover of the last bin.
        both = np.asarray(pref + rej, dtype=float)
        top = float(np.percentile(both, 98)) or 1.0
        edges = np.linspace(0.0, top, 41)
        for name, vals, color in (
            ("preferred", pref, colors[0]),
            ("non-preferred", rej, colors[1]),
        ):
            counts_, _ = np.histogram(np.minimum(vals, top), bins=edges)
            fig.add_trace(
                go.Scatter(
                    x=edges[:-1],
                    y=counts_,
                    name=name,
                    mode="lines",
                    line={"shape": "hv", "color": color, "width": 2},
                    fill="tozeroy",
                    opacity=0.75,
                    legendgroup="length",
                    customdata=edges[1:],
                    hovertemplate=f"{name}<br>%{{x:.0f}}–%{{customdata:.0f}} chars: "
                    "%{y} pairs<extra></extra>",
                ),
                row=1,
                col=1,
            )
        fig.add_annotation(
            text=(
                f"preferred longer in {_fmt(lb.share_preferred_longer, True)} of {lb.n} pairs"
                f"<br>rank-biserial r = {_fmt(lb.rank_biserial)}, Cohen's d = {_fmt(lb.cohens_d)}"
            ),
            xref="x domain",
            yref="y domain",
            x=0.98,
            y=0.98,
            xanchor="right",
            yanchor="top",
            showarrow=False,
            align="right",
            row=1,
            col=1,
        )
    else:
        _note(fig, "no a/b labels yet", 1, 1)
    fig.update_xaxes(
        title_text="Response length (characters; last bin = 98th pct. and up)", row=1, col=1
    )
    fig.update_yaxes(title_text="Pairs (count)", row=1, col=1)

    # 2. label distribution
    counts = s["label_counts"]
    fig.add_trace(
        go.Bar(
            x=list(counts),
            y=list(counts.values()),
            marker_color=colors[2],
            showlegend=False,
            name="labels",
            hovertemplate="%{x}: %{y} pairs<extra></extra>",
        ),
        row=1,
        col=2,
    )
    fig.update_xaxes(title_text="Label", row=1, col=2)
    fig.update_yaxes(title_text="Pairs (count)", row=1, col=2)

    # 3. labels per annotator over time
    events = store.events() if store is not None else pd.DataFrame()
    labels_ev = events[events["kind"] == "label"] if len(events) else events
    if len(labels_ev):
        for i, (who, g) in enumerate(labels_ev.groupby("annotator", sort=True)):
            g = g.sort_values("created_at")
            fig.add_trace(
                go.Scatter(
                    x=g["created_at"].dt.tz_convert(None),
                    y=np.arange(1, len(g) + 1),
                    mode="lines+markers",
                    line_shape="hv",
                    name=str(who),
                    legendgroup="annotators",
                    marker={"size": 4, "color": colors[(i + 3) % len(colors)]},
                    line={"color": colors[(i + 3) % len(colors)]},
                    hovertemplate=f"{who}<br>%{{x}}<br>%{{y}} labels<extra></extra>",
                ),
                row=2,
                col=1,
            )
    else:
        _note(fig, "needs a label store" if store is None else "no labels yet", 2, 1)
    fig.update_xaxes(title_text="Time labeled (UTC)", row=2, col=1)
    fig.update_yaxes(title_text="Labels (cumulative count)", row=2, col=1)

    # 4. agreement heatmap of pairwise κ
    ann = s["annotators"]
    if len(ann) >= 2:
        z = [[1.0 if a == b else math.nan for b in ann] for a in ann]
        for (a, b), k in s["pairwise_kappa"].items():
            i, j = ann.index(a), ann.index(b)
            z[i][j] = z[j][i] = k
        fig.add_trace(
            go.Heatmap(
                z=z,
                x=ann,
                y=ann,
                zmin=-1,
                zmax=1,
                colorscale="RdBu",
                showscale=False,
                text=[[_fmt(v) for v in row] for row in z],
                texttemplate="%{text}",
                hovertemplate="%{y} × %{x}: κ = %{z:.3f}<extra></extra>",
                name="agreement",
            ),
            row=2,
            col=2,
        )
    else:
        _note(fig, "needs two or more annotators in a label store", 2, 2)
    fig.update_xaxes(title_text="Annotator", row=2, col=2)
    fig.update_yaxes(title_text="Annotator (pairwise Cohen's κ)", row=2, col=2)

    # 5. left/right bias and swap-audit consistency
    audit = s["audit"]
    if len(audit):
        names = audit["annotator"].astype(str).tolist()
        left = audit["left_share"].to_numpy(float)
        fig.add_trace(
            go.Bar(
                x=names,
                y=left,
                name="picked left",
                marker_color=colors[4 % len(colors)],
                error_y={
                    "type": "data",
                    "color": fig.layout.template.layout.font.color,
                    "symmetric": False,
                    "array": np.nan_to_num(audit["left_ci_high"].to_numpy(float) - left),
                    "arrayminus": np.nan_to_num(left - audit["left_ci_low"].to_numpy(float)),
                },
                hovertemplate="%{x}: picked left %{y:.0%}<extra>95% Wilson CI</extra>",
            ),
            row=3,
            col=1,
        )
        fig.add_trace(
            go.Bar(
                x=names,
                y=audit["self_consistency"].to_numpy(float),
                name="swap-audit agreement",
                marker_color=colors[5 % len(colors)],
                hovertemplate="%{x}: agrees with itself on %{y:.0%} of swapped replays"
                "<extra></extra>",
            ),
            row=3,
            col=1,
        )
        fig.add_hline(y=0.5, line_dash="dot", line_width=1, row=3, col=1)
    else:
        _note(fig, "needs a label store", 3, 1)
    fig.update_xaxes(title_text="Annotator", row=3, col=1)
    fig.update_yaxes(title_text="Share of verdicts", tickformat=".0%", range=[0, 1], row=3, col=1)

    # 6. tokens vs budget
    fig.add_trace(
        go.Histogram(
            x=s["tokens"],
            name="tokens",
            marker_color=colors[0],
            showlegend=False,
            hovertemplate="%{x} tokens: %{y} pairs<extra></extra>",
        ),
        row=3,
        col=2,
    )
    if budget_tokens:
        fig.add_vline(x=budget_tokens, line_dash="dash", line_color=colors[5], row=3, col=2)
        share = s["over_budget"] / max(s["n_pairs"], 1)
        fig.add_annotation(
            text=f"{s['over_budget']} pairs ({share:.0%}) over {budget_tokens:,} tokens",
            xref="x6 domain",
            yref="y6 domain",
            x=0.98,
            y=0.98,
            xanchor="right",
            yanchor="top",
            showarrow=False,
        )
    fig.update_xaxes(title_text="Prompt + longer response (tokens, est. chars/4)", row=3, col=2)
    fig.update_yaxes(title_text="Pairs (count)", row=3, col=2)

    if judges is not None:
        _judge_panels(fig, *judges, colors)

    fig.update_layout(
        title={"text": title or f"Dataset — {s['n_pairs']} pairs"},
        height=1050 if judges is None else 1400,
        barmode="group",
        legend={"orientation": "h", "y": -0.08},
    )
    apply_theme(fig, mode)  # recolour the annotations added above
    return fig


_JUDGE_TITLES = ("LLM judges — agreement with people and biases", "LLM judges — routing")
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


def _judge_panels(
    fig: go.Figure, report: pd.DataFrame, routes: pd.DataFrame, colors: list[str]
) -> None:
    """Panels 7–8: each judge's agreement and biases, and where its routing sent pairs."""
    names = [m for _, m in _JUDGE_METRICS]
    for i, row in enumerate(report.to_dict("records")):
        who = str(row["judge"]).removeprefix("judge:")
        values = [float(row[k]) for k, _ in _JUDGE_METRICS]
        fig.add_trace(
            go.Bar(
                x=names,
                y=values,
                name=who,
                legendgroup="judges",
                marker_color=colors[(i + 6) % len(colors)],
                text=[_fmt(v) for v in values],
                textposition="outside",
                hovertemplate=f"{who}<br>%{{x}}: %{{y:.3f}}<extra></extra>",
            ),
            row=4,
            col=1,
        )
    fig.add_hline(y=0.5, line_dash="dot", line_width=1, row=4, col=1)
    fig.update_yaxes(title_text="Share (κ for the first bar)", range=[-0.1, 1.1], row=4, col=1)
    if len(routes):
        counts = routes.groupby(["annotator", "route"]).size().unstack(fill_value=0)
        judges = [str(j).removeprefix("judge:") for j in counts.index]
        for i, route in enumerate(("auto", "audit", "human")):
            y = counts[route].tolist() if route in counts.columns else [0] * len(counts)
            fig.add_trace(
                go.Bar(
                    x=judges,
                    y=y,
                    name=route,
                    legendgroup="routes",
                    marker_color=colors[(i + 2) % len(colors)],
                    hovertemplate=f"%{{x}}: %{{y}} pairs {route}<extra></extra>",
                ),
                row=4,
                col=2,
            )
        fig.update_xaxes(title_text="Judge", row=4, col=2)
        fig.update_yaxes(title_text="Pairs (count)", row=4, col=2)
    else:
        _note(fig, "run prefnb.route to route pairs", 4, 2)
