"""The Labeler widget: side-by-side preference labeling backed by :mod:`prefnb.labels`.

Example:
    >>> from prefnb.labeler import Labeler  # doctest: +SKIP
"""

from __future__ import annotations

from prefnb.labeler.widget import Labeler

__all__ = ["Labeler"]
