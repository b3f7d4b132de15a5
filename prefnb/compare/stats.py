"""Win-rate statistics for a pairwise model comparison: Wilson / bootstrap CIs and the
length-controlled win rate.

A pair's score is the mean over the judged orders of 1 (A preferred), 0 (B) or ½ (tie), so a
pair whose two orders disagree counts as a tie. The win rate of A is the mean score.

The length-controlled (LC) win rate follows AlpacaEval 2 (Dubois, Galambosi, Liang and
Hashimoto, "Length-Controlled AlpacaEval: A Simple Way to Debias Automatic Evaluators",
arXiv:2404.04475, 2024): fit a logistic regression of the preference on the normalised length
difference, ``P(A preferred) = σ(θ + φ·tanh((len_A − len_B) / sd))``, and report the win rate
with the length term set to zero, ``σ(θ)``: the win rate A would have if its answers were as
long as B's. (AlpacaEval's GLM also has an instruction-difficulty term, which needs a
leaderboard of many models; with two models it is dropped.) A small ridge on φ keeps the fit
finite when the length difference alone separates the verdicts, the case of a pure length
bias, where the LC win rate comes out near 50 %.

Example:
    >>> lo, hi = wilson(0.7, 100)
    >>> round(lo, 3), round(hi, 3)
    (0.599, 0.785)
    >>> round(lc_win_rate([1, 1, 0, 0], [10, 12, -10, -12]), 2)
    0.5
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["WinStats", "bootstrap_ci", "lc_win_rate", "pair_scores", "wilson", "win_stats"]

Z95 = NormalDist().inv_cdf(0.975)
_RIDGE = 1e-2


def wilson(p: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval with continuity correction (Newcombe 1998, method 4) for a
    proportion ``p`` over ``n`` trials. The correction makes it conservative: its coverage
    stays at or above the nominal 95 % where the plain Wilson interval dips below it."""
    if n <= 0:
        return (math.nan, math.nan)
    a, zz = 2 * n * p + z * z, z * z
    denom = 2 * (n + zz)
    lo_rad = zz - 2 - 1 / n + 4 * p * (n * (1 - p) + 1)
    hi_rad = zz + 2 - 1 / n + 4 * p * (n * (1 - p) - 1)
    lo = 0.0 if p <= 0 else (a - 1 - z * math.sqrt(max(lo_rad, 0.0))) / denom
    hi = 1.0 if p >= 1 else (a + 1 + z * math.sqrt(max(hi_rad, 0.0))) / denom
    return (max(0.0, lo), min(1.0, hi))


def bootstrap_ci(
    scores: ArrayLike, reps: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean score (pairs resampled)."""
    x = np.asarray(scores, dtype=float)
    if len(x) == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(reps, len(x)))].mean(axis=1)
    a = (1 - level) / 2
    return (float(np.quantile(means, a)), float(np.quantile(means, 1 - a)))


def pair_scores(
    verdicts_ab: Sequence[str | None], verdicts_ba: Sequence[str | None]
) -> list[float | None]:
    """Each pair's score for A from its two orders' DataFrame verdicts (a / b / tie)."""
    value = {"a": 1.0, "b": 0.0, "tie": 0.5}
    out: list[float | None] = []
    for ab, ba in zip(verdicts_ab, verdicts_ba, strict=True):
        got = [value[v] for v in (ab, ba) if v in value]
        out.append(sum(got) / len(got) if got else None)
    return out


def _fit(y: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """(θ, φ) of the logistic regression y ~ σ(θ + φx) (y may be ½), ridge on φ; Newton."""
    theta = phi = 0.0
    for _ in range(100):
        eta = np.clip(theta + phi * x, -30, 30)
        p = 1 / (1 + np.exp(-eta))
        w = p * (1 - p)
        g = np.array([np.sum(y - p), np.sum((y - p) * x) - _RIDGE * phi])
        h = np.array(
            [[np.sum(w) + 1e-9, np.sum(w * x)], [np.sum(w * x), np.sum(w * x * x) + _RIDGE]]
        )
        step = np.linalg.solve(h, g)
        theta, phi = theta + float(step[0]), phi + float(step[1])
        if float(np.max(np.abs(step))) < 1e-9:
            break
    return theta, phi


def lc_win_rate(scores: ArrayLike, length_diff: ArrayLike) -> float:
    """AlpacaEval 2's length-controlled win rate: σ(θ) of the fit described above."""
    y = np.asarray(scores, dtype=float)
    d = np.asarray(length_diff, dtype=float)
    if len(y) == 0:
        return math.nan
    sd = float(np.std(d))
    x = np.tanh(d / sd) if sd > 0 else np.zeros_like(d)
    theta, _ = _fit(y, x)
    return float(1 / (1 + math.exp(-theta)))


@dataclass(frozen=True)
class WinStats:
    """Win rate of A with its CI, tie rate and the LC win rate with a bootstrap CI."""

    n: int
    wins: int
    losses: int
    ties: int
    win_rate: float
    ci_low: float
    ci_high: float
    tie_rate: float
    lc_win_rate: float
    lc_ci_low: float
    lc_ci_high: float
    ci_method: str


def win_stats(
    scores: ArrayLike,
    length_diff: ArrayLike,
    *,
    ci: str = "wilson",
    reps: int = 1000,
    seed: int = 0,
) -> WinStats:
    """Statistics of judged pairs (``scores`` in {0, ½, 1}; ``length_diff`` = len A − len B)."""
    y = np.asarray(scores, dtype=float)
    d = np.asarray(length_diff, dtype=float)
    n = len(y)
    rate = float(y.mean()) if n else math.nan
    if ci == "wilson":
        lo, hi = wilson(rate, n)
    elif ci == "bootstrap":
        lo, hi = bootstrap_ci(y, reps=reps, seed=seed)
    else:
        raise ValueError(f"ci must be 'wilson' or 'bootstrap', got {ci!r}")
    lc = lc_win_rate(y, d)
    if n:
        rng = np.random.default_rng(seed)
        boots = []
        for _ in range(min(reps, 300)):
            idx = rng.integers(0, n, size=n)
            boots.append(lc_win_rate(y[idx], d[idx]))
        lc_lo, lc_hi = float(np.quantile(boots, 0.025)), float(np.quantile(boots, 0.975))
    else:
        lc_lo = lc_hi = math.nan
    return WinStats(
        n=n,
        wins=int((y == 1).sum()),
        losses=int((y == 0).sum()),
        ties=int(((y > 0) & (y < 1)).sum()),
        win_rate=rate,
        ci_low=lo,
        ci_high=hi,
        tie_rate=float(((y > 0) & (y < 1)).mean()) if n else math.nan,
        lc_win_rate=lc,
        lc_ci_low=lc_lo,
        lc_ci_high=lc_hi,
        ci_method=ci,
    )
