"""plotly's FigureWidget front end, made to fill its output and follow its width.

plotly's anywidget view draws the figure when the view is rendered, before the notebook
attaches it to the page: plotly.js then measures a zero width and falls back to 700 px, and
it only resizes on a window ``resize`` event, so the figure stays 700 px wide in a 1,000 px
output and ignores a side panel opening. This module wraps the view's ``render`` (plotly's
own bundle, unchanged) with a ``ResizeObserver`` on the figure's element that asks plotly.js
to resize — through the handler plotly.js installs for ``config={"responsive": True}`` —
whenever the element's width changes, including when it is first attached.

Example:
    >>> esm = responsive_esm()
    >>> "ResizeObserver" in esm and "export default" in esm
    True
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Final

import plotly

__all__ = ["responsive_esm"]

# The bundle ends with one export statement naming the widget's factory as the default.
_EXPORT = re.compile(r"export\s*\{([^{}]*\bas\s+default\b[^{}]*)\}\s*;?\s*(?=(/\*|//|$))", re.S)

# ``base`` is plotly's factory: () => ({initialize, render}). Only render is wrapped.
_WRAPPER: Final = """
const __prefnbPlotly = %(default)s;
export default () => {
  const base = __prefnbPlotly();
  return {
    ...base,
    render(ctx) {
      const cleanup = base.render(ctx);
      const el = ctx.el;
      let width = 0;
      // A width change (attach, side panel, window) re-lays the figure out to the new width.
      const observer = new ResizeObserver(() => {
        const w = el.clientWidth;
        if (!w || w === width) return;
        width = w;
        if (typeof el._responsiveChartHandler === "function") el._responsiveChartHandler();
      });
      observer.observe(el);
      return () => {
        observer.disconnect();
        if (typeof cleanup === "function") cleanup();
      };
    },
  };
};
"""


@functools.cache
def responsive_esm() -> str:
    """plotly's widget bundle with a ``render`` that follows the output's width.

    Falls back to plotly's bundle unchanged if its export statement has an unknown shape
    (the figure then still works, at plotly's own width).
    """
    bundle = Path(plotly.__file__).parent / "package_data" / "widgetbundle.js"
    src = bundle.read_text(encoding="utf-8")
    matches = list(_EXPORT.finditer(src))
    if not matches:
        return src
    m = matches[-1]
    names = [part.strip() for part in m.group(1).split(",") if part.strip()]
    default = next(p.split()[0] for p in names if re.search(r"\bas\s+default$", p))
    others = [p for p in names if not re.search(r"\bas\s+default$", p)]
    exports = f"export {{{', '.join(others)}}};" if others else ""
    return src[: m.start()] + exports + _WRAPPER % {"default": default} + src[m.end() :]
