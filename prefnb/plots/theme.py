"""Readable light and dark defaults for every prefnb figure.

``theme="auto"`` follows JupyterLab's theme setting when the kernel can read it (the user's
``themes.jupyterlab-settings``), else ``PREFNB_THEME``, else light. Backgrounds are solid (so a
``write_html`` page of a dark figure is still readable); text, grid and the colour-blind-safe
palette (Okabe–Ito) are chosen for contrast in each mode.

Example:
    >>> resolve_theme("dark")
    'dark'
    >>> template("light").layout.font.color
    '#1f2328'
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Final, Literal

import plotly.graph_objects as go

__all__ = ["PALETTE", "Theme", "apply_theme", "resolve_theme", "template"]

Theme = Literal["light", "dark", "auto"]

#: Okabe–Ito, reordered so the first colours stay distinct on white and on near-black.
PALETTE: Final[tuple[str, ...]] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#999999",
)
PALETTE_DARK: Final[tuple[str, ...]] = (
    "#56B4E9",
    "#E69F00",
    "#2FD3A0",
    "#E79BC8",
    "#4E9BFF",
    "#FF7F3F",
    "#F0E442",
    "#BBBBBB",
)

_COLORS: Final[dict[str, dict[str, str]]] = {
    "light": {"font": "#1f2328", "grid": "#d8dde3", "zero": "#9aa4ae", "paper": "#ffffff"},
    "dark": {"font": "#e6edf3", "grid": "#3a424b", "zero": "#6e7781", "paper": "#111418"},
}


def _lab_theme() -> str | None:
    base = os.environ.get("JUPYTERLAB_SETTINGS_DIR") or str(
        Path.home() / ".jupyter" / "lab" / "user-settings"
    )
    f = Path(base) / "@jupyterlab" / "apputils-extension" / "themes.jupyterlab-settings"
    try:
        text = f.read_text(encoding="utf-8")
    except OSError:
        return None
    # The settings file is JSON5-ish (comments allowed); strip line comments before parsing.
    try:
        name = json.loads(re.sub(r"^\s*//.*$", "", text, flags=re.MULTILINE)).get("theme", "")
    except (json.JSONDecodeError, AttributeError):
        return None
    return "dark" if "dark" in str(name).lower() else "light"


def resolve_theme(theme: str = "auto") -> Literal["light", "dark"]:
    """``light`` or ``dark`` for a requested theme (see the module docstring for ``auto``)."""
    if theme == "light":
        return "light"
    if theme == "dark":
        return "dark"
    if theme != "auto":
        raise ValueError(f"theme must be 'light', 'dark' or 'auto', got {theme!r}")
    lab = _lab_theme()
    if lab:
        return "dark" if lab == "dark" else "light"
    return "dark" if os.environ.get("PREFNB_THEME", "").lower() == "dark" else "light"


def template(theme: str = "auto") -> go.layout.Template:
    """A plotly template with prefnb's readable defaults."""
    mode = resolve_theme(theme)
    c = _COLORS[mode]
    axis = {
        "gridcolor": c["grid"],
        "zerolinecolor": c["zero"],
        "linecolor": c["zero"],
        "title": {"font": {"size": 13}},
        "automargin": True,
    }
    return go.layout.Template(
        layout={
            "font": {"family": "system-ui, sans-serif", "size": 12, "color": c["font"]},
            "paper_bgcolor": c["paper"],
            "plot_bgcolor": c["paper"],
            "colorway": list(PALETTE_DARK if mode == "dark" else PALETTE),
            "xaxis": axis,
            "yaxis": axis,
            "title": {"font": {"size": 16}, "x": 0.01, "xanchor": "left"},
            "legend": {"bgcolor": "rgba(0,0,0,0)", "font": {"size": 12}},
            "hoverlabel": {"font": {"size": 12}},
            "margin": {"l": 60, "r": 20, "t": 70, "b": 50},
        }
    )


def apply_theme(fig: go.Figure, theme: str = "auto") -> Literal["light", "dark"]:
    """Apply the template to ``fig`` in place and return the resolved mode."""
    mode = resolve_theme(theme)
    fig.update_layout(template=template(mode))
    for ann in fig.layout.annotations or ():
        ann.font.color = _COLORS[mode]["font"]
    return mode


def colors(mode: str) -> dict[str, str]:
    """Text, grid, zero-line and paper colours of ``mode`` (``light`` or ``dark``)."""
    return dict(_COLORS["dark" if mode == "dark" else "light"])


def paper_color(mode: str) -> str:
    """The solid background colour for a standalone HTML export in ``mode``."""
    return _COLORS["dark" if mode == "dark" else "light"]["paper"]
