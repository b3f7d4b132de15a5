"""Panel grids that fit any output width from 700 px up, with nothing overlapping.

plotly's ``make_subplots`` spaces panels in fractions of the figure, so a y-axis title of the
right-hand column runs into the left-hand panel on a narrow output and leaves a wide gap on a
wide one. Here every vertical distance is laid out in pixels (the figure's height is fixed)
and the horizontal ones need no room between columns: the left column carries its y axes on
the left, the right column on the right, where plotly's ``automargin`` makes room for them.
Titles, the legend and the notes of empty panels each get a band of their own, sized for the
narrowest output (:data:`MIN_WIDTH_PX`); wider outputs only add room.

Example:
    >>> g = panel_grid(["Loss", "Accuracy", "KL"], legend=["beta=0.1"], title="Training")
    >>> g.rows, g.cols, g.axes(2)
    (2, 2, ('x3', 'y3'))
    >>> g.layout["yaxis2"]["side"], g.layout["height"]
    ('right', 740)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["MIN_WIDTH_PX", "PanelGrid", "legend_rows", "panel_grid"]

#: The narrowest output the layout is made for (a notebook beside a side panel).
MIN_WIDTH_PX: Final = 700
PANEL_PX: Final = 250  # plot area of one panel
TITLE_PX: Final = 44  # the figure title band
PANEL_TITLE_PX: Final = 28  # a panel's title, above its frame
TICKS_PX: Final = 24  # x tick labels under every panel
X_TITLE_PX: Final = 26  # the x-axis title under the lowest panel of a column
LEGEND_ROW_PX: Final = 22
COL_GAP: Final = 0.05  # between the two columns' frames (their axes are on the outer sides)
MARGIN_SIDE_PX: Final = 70  # y tick labels + title; automargin adds more when needed
FONT_CHAR_PX: Final = 7.2  # average advance of a 12 px system-ui glyph, rounded up
LEGEND_ITEM_PX: Final = 48  # symbol, its gap and the item's padding


def legend_rows(labels: Sequence[str], width: int = MIN_WIDTH_PX - 2 * MARGIN_SIDE_PX) -> int:
    """Rows a horizontal legend of ``labels`` takes in ``width`` px (an upper estimate).

    plotly wraps a horizontal legend at the width of the plot area (inside the margins).

    >>> legend_rows(["a"] * 3), legend_rows(["a long legend entry name"] * 12)
    (1, 6)
    """
    if not labels:
        return 0
    usable = width - 10
    rows, x = 1, 0.0
    for label in labels:
        w = LEGEND_ITEM_PX + FONT_CHAR_PX * len(label)
        if x and x + w > usable:
            rows, x = rows + 1, 0.0
        x += w
    return rows


@dataclass
class PanelGrid:
    """A grid of ``n`` panels: the plotly layout and which axes each panel uses."""

    n: int
    rows: int
    cols: int
    layout: dict[str, Any] = field(default_factory=dict)

    def cell(self, i: int) -> tuple[int, int]:
        """1-based (row, col) of panel ``i``."""
        return i // self.cols + 1, i % self.cols + 1

    def axes(self, i: int) -> tuple[str, str]:
        """The (x, y) axis ids of panel ``i``, as traces name them (``x``, ``y2`` …)."""
        k = "" if i == 0 else str(i + 1)
        return f"x{k}", f"y{k}"

    def axis_keys(self, i: int) -> tuple[str, str]:
        """The layout keys of panel ``i``'s axes (``xaxis``, ``yaxis2`` …)."""
        k = "" if i == 0 else str(i + 1)
        return f"xaxis{k}", f"yaxis{k}"

    def legend_of(self, i: int) -> str:
        """The layout key of panel ``i``'s own legend (``legend2`` for the first panel …)."""
        return f"legend{i + 2}"

    def is_bottom(self, i: int) -> bool:
        """True when panel ``i`` is the lowest of its column (it carries the x title)."""
        return i + self.cols >= self.n

    def anchor(self, i: int, kind: str = "scatter") -> dict[str, Any]:
        """An empty trace on panel ``i``'s axes.

        plotly.js draws no frame for axes that no trace uses, and then places a note meant
        for that panel in another one; every panel gets one of these so it always exists.
        """
        x, y = self.axes(i)
        return {"type": kind, "x": [], "y": [], "xaxis": x, "yaxis": y, "name": f"panel-{i}",
                "showlegend": False, "hoverinfo": "skip"}  # fmt: skip

    def note(self, i: int, text: str, **extra: Any) -> dict[str, Any]:
        """An annotation centred in panel ``i``'s own frame (e.g. "no data yet")."""
        x, y = self.axes(i)
        return {
            "text": text,
            "xref": f"{x} domain",
            "yref": f"{y} domain",
            "x": 0.5,
            "y": 0.5,
            "showarrow": False,
            "font": {"size": 13},
            **extra,
        }


def panel_grid(
    titles: Sequence[str],
    *,
    legend: Sequence[str] = (),
    panel_legends: Sequence[Sequence[str]] = (),
    title: str = "",
    cols: int | None = None,
    share_x: bool = False,
    every_x_title: bool = False,
    panel_px: int = PANEL_PX,
) -> PanelGrid:
    """Lay out one panel per title (1 or 2 columns) with bands for titles, legends and labels.

    ``legend`` is the entries of one figure-wide legend under the title; ``panel_legends``
    gives panels their own legend (``legend2`` … in plotly), in a band between the panel's
    title and its frame — for charts whose colours mean different things in each panel.
    Entries size the bands at the narrowest width. ``share_x`` links every panel's x range
    (zooming one zooms all); ``every_x_title`` leaves room for an x title under every panel
    (panels that measure different things), else only under the lowest of each column.
    Panel titles are annotations named ``panel-title-<i>``; a panel's legend is
    ``grid.legend_of(i)``.
    """
    n = len(titles)
    if n < 1:
        raise ValueError("a grid needs at least one panel")
    ncols = cols if cols is not None else (1 if n <= 2 else 2)
    rows = math.ceil(n / ncols)
    lrows = legend_rows(legend)
    usable = MIN_WIDTH_PX - 2 * MARGIN_SIDE_PX
    panel_w = int(usable * (1 - COL_GAP * (ncols - 1)) / ncols)
    own = [legend_rows(panel_legends[i], panel_w) if i < len(panel_legends) else 0
           for i in range(n)]  # fmt: skip
    # Every row of panels gets the same band for its panels' legends.
    band = [max(own[r * ncols : (r + 1) * ncols]) * LEGEND_ROW_PX for r in range(rows)]
    top = TITLE_PX + lrows * LEGEND_ROW_PX + PANEL_TITLE_PX + band[0]
    bottom = TICKS_PX + X_TITLE_PX + 10
    x_title = X_TITLE_PX if every_x_title else 0
    gaps = [TICKS_PX + x_title + PANEL_TITLE_PX + 8 + band[r] for r in range(1, rows)]
    if ncols == 2 and n % 2 and rows > 1 and not every_x_title:
        # the right column ends a row early: its x title sits in the last gap
        gaps[-1] += X_TITLE_PX
    plot_h = rows * panel_px + sum(gaps)
    height = top + plot_h + bottom
    layout: dict[str, Any] = {
        "height": height,
        "autosize": True,
        "margin": {
            "l": MARGIN_SIDE_PX,
            "r": MARGIN_SIDE_PX if ncols == 2 else 24,
            "t": top,
            "b": bottom,
            "autoexpand": True,
        },
        "title": {
            "text": title,
            "x": 0.01,
            "xanchor": "left",
            "xref": "container",
            "y": 1 - 10 / height,
            "yanchor": "top",
            "yref": "container",
        },
        "legend": {
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "xref": "container",
            "y": 1 - TITLE_PX / height,
            "yanchor": "top",
            "yref": "container",
            "title": {"text": ""},
            # one row of entries (legend groups would each stack in a column of their own)
            "traceorder": "normal",
        },
        "showlegend": bool(legend),
        "annotations": [],
    }
    grid = PanelGrid(n, rows, ncols, layout)
    col_w = (1 - COL_GAP * (ncols - 1)) / ncols
    for i in range(n):
        r, c = grid.cell(i)
        xk, yk = grid.axis_keys(i)
        x, y = grid.axes(i)
        x0 = (c - 1) * (col_w + COL_GAP)
        y1 = 1 - ((r - 1) * panel_px + sum(gaps[: r - 1])) / plot_h
        y0 = y1 - panel_px / plot_h
        if own[i]:
            layout[grid.legend_of(i)] = {
                "orientation": "h",
                "x": x0,
                "xanchor": "left",
                "y": y1 + 2 / plot_h,
                "yanchor": "bottom",
                "title": {"text": ""},
                "traceorder": "normal",
                "bgcolor": "rgba(0,0,0,0)",
                "font": {"size": 12},
            }
        layout[xk] = {
            "domain": [x0, min(1.0, x0 + col_w)],
            "anchor": y,
            "automargin": True,
            "showticklabels": True,
            # a label centred on the frame's edge would run into the y labels beside it
            "ticklabeloverflow": "hide past domain",
        }
        if share_x and i:
            layout[xk]["matches"] = "x"
        layout[yk] = {
            "domain": [max(0.0, y0), min(1.0, y1)],
            "anchor": x,
            "automargin": True,
            "side": "right" if c == 2 else "left",
        }
        layout["annotations"].append(
            {
                "text": titles[i],
                "name": f"panel-title-{i}",
                "xref": f"{x} domain",
                "yref": f"{y} domain",
                "x": 0.5,
                "y": 1,
                "yshift": 4 + band[r - 1],
                "xanchor": "center",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 14},
            }
        )
    return grid
