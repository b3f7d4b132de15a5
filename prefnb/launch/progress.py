"""A progress line that is a widget inside a Jupyter kernel and plain text elsewhere.

Example:
    >>> bar = ProgressLine("demo", total=4, enabled=False)
    >>> bar.update(2, "half way")
    >>> bar.close("done")
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["ProgressLine", "in_kernel"]


def in_kernel() -> bool:
    """True inside a running Jupyter/IPython kernel (where widgets can display)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class ProgressLine:
    """``update(value, text)`` a bar of ``total`` units; ``close(text)`` marks it finished."""

    def __init__(self, description: str, total: int, *, enabled: bool = True) -> None:
        self.description = description
        self.total = max(int(total), 1)
        self.enabled = enabled
        self._bar: Any = None
        self._label: Any = None
        self._last = ""
        if enabled and in_kernel():
            import ipywidgets as w
            from IPython.display import display

            self._bar = w.IntProgress(value=0, min=0, max=self.total, description=description)
            self._bar.bar_style = "info"
            self._label = w.Label(value="")
            display(w.HBox([self._bar, self._label]))  # type: ignore[no-untyped-call]

    def set_total(self, total: int) -> None:
        """Change the number of units (e.g. once a job reports its total steps)."""
        self.total = max(int(total), 1)
        if self._bar is not None:
            self._bar.max = self.total

    def update(self, value: int, text: str = "") -> None:
        """Show ``value`` of ``total`` done, with a short ``text``."""
        if not self.enabled:
            return
        value = max(0, min(int(value), self.total))
        if self._bar is not None:
            self._bar.value = value
            self._label.value = text
            return
        line = f"{self.description}: {100 * value // self.total:3d}% {text}"
        if line != self._last:
            sys.stderr.write("\r" + line.ljust(len(self._last)))
            sys.stderr.flush()
            self._last = line

    def close(self, text: str, *, ok: bool = True) -> None:
        """Mark the bar finished (green when ``ok``, red otherwise) with a final ``text``."""
        if not self.enabled:
            return
        if self._bar is not None:
            if ok:
                self._bar.value = self._bar.max
            self._bar.bar_style = "success" if ok else "danger"
            self._label.value = text
            return
        sys.stderr.write("\r" + f"{self.description}: {text}".ljust(len(self._last)) + "\n")
        sys.stderr.flush()
        self._last = ""
