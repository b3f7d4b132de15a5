"""Model comparison: :func:`compare_models` (win rate, CI, LC win rate) and its statistics."""

from __future__ import annotations

from prefnb.compare.run import CompareResult, compare_models
from prefnb.compare.stats import WinStats, lc_win_rate, wilson, win_stats

__all__ = ["CompareResult", "WinStats", "compare_models", "lc_win_rate", "wilson", "win_stats"]
