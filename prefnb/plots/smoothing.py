"""TensorBoard-style exponential moving average with debiasing.

TensorBoard smooths with ``last = last * w + (1 - w) * y`` and divides by ``1 - w**n`` (``n`` =
finite points so far), so the curve starts at the first value instead of being dragged towards
zero. That equals a weighted mean with weights ``w**age``, which pandas'
``ewm(adjust=True)`` computes in C — :func:`ema` uses it. :class:`EmaState` continues the
same sum for points that arrive later, so a live chart never re-smooths the whole history.
Non-finite values pass through unchanged and do not move the average (as in TensorBoard).

Example:
    >>> ema([1.0, 0.0, 0.0], 0.5).round(4).tolist()   # 1, (0.5*1)/(1.5), (0.25*1)/(1.75)
    [1.0, 0.3333, 0.1429]
    >>> state = EmaState(0.5)
    >>> state.extend([1.0, 0.0]).round(4).tolist(), state.extend([0.0]).round(4).tolist()
    ([1.0, 0.3333], [0.1429])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["EmaState", "check_weight", "ema"]

FloatArray = npt.NDArray[np.float64]


def check_weight(weight: float) -> float:
    """Validate a smoothing weight: a number in [0, 1)."""
    w = float(weight)
    if not 0.0 <= w < 1.0:
        raise ValueError(f"smoothing must be in [0, 1), got {weight!r}")
    return w


def ema(values: Sequence[float] | FloatArray, weight: float) -> FloatArray:
    """Debiased EMA of ``values`` with smoothing ``weight`` in [0, 1); 0 returns a copy."""
    w = check_weight(weight)
    y = np.asarray(values, dtype=np.float64)
    if w == 0.0 or len(y) == 0:
        return y.copy()
    finite = np.isfinite(y)
    out = y.copy()
    if finite.any():
        out[finite] = (
            pd.Series(y[finite]).ewm(alpha=1.0 - w, adjust=True).mean().to_numpy(np.float64)
        )
    return out


class EmaState:
    """A running debiased EMA: ``extend`` smooths new values as if appended to the old ones."""

    def __init__(self, weight: float) -> None:
        self.weight = check_weight(weight)
        self.num = 0.0  # sum of w**age * y
        self.den = 0.0  # sum of w**age

    def extend(self, values: Sequence[float] | FloatArray) -> FloatArray:
        y = np.asarray(values, dtype=np.float64)
        w = self.weight
        out = y.copy()
        if w == 0.0:
            return out
        num, den = self.num, self.den
        if len(y) > 1024:
            # Closed form per chunk: weights w**(m-1-i) for the chunk plus the decayed carry.
            return self._extend_vector(y)
        for i, v in enumerate(y.tolist()):
            if v == v and v not in (float("inf"), float("-inf")):
                num = num * w + v
                den = den * w + 1.0
                out[i] = num / den
        self.num, self.den = num, den
        return out

    def _extend_vector(self, y: FloatArray) -> FloatArray:
        w = self.weight
        finite = np.isfinite(y)
        if finite.all():
            # The usual case: no mask, no gather, no scatter; results go straight out.
            return self._extend_finite(y)
        out = y.copy()
        f = y[finite]
        if len(f) and self.den == 0.0:
            # Nothing carried yet: the chunk's own debiased EMA is the answer.
            sm = pd.Series(f).ewm(alpha=1.0 - w, adjust=True).mean().to_numpy(np.float64)
            out[finite] = sm
            m = len(f)
            self.den = float((1.0 - w**m) / (1.0 - w))
            self.num = float(sm[-1] * self.den)
        elif len(f):
            sm = pd.Series(f).ewm(alpha=1.0 - w, adjust=True).mean().to_numpy(np.float64)
            k = np.arange(1, len(f) + 1, dtype=np.float64)
            decay = w**k
            own_den = (1.0 - decay) / (1.0 - w)
            # Combine the chunk's own weighted mean with the carried state.
            num = sm * own_den + self.num * decay
            den = own_den + self.den * decay
            out[finite] = num / den
            self.num, self.den = float(num[-1]), float(den[-1])
        return out

    def _extend_finite(self, f: FloatArray) -> FloatArray:
        w = self.weight
        sm = pd.Series(f, copy=False).ewm(alpha=1.0 - w, adjust=True).mean().to_numpy(np.float64)
        m = len(f)
        if self.den == 0.0:
            self.den = float((1.0 - w**m) / (1.0 - w))
            self.num = float(sm[-1] * self.den)
            return sm
        decay = w ** np.arange(1, m + 1, dtype=np.float64)
        own_den = (1.0 - decay) / (1.0 - w)
        num = sm * own_den + self.num * decay
        den = own_den + self.den * decay
        self.num, self.den = float(num[-1]), float(den[-1])
        return np.asarray(num / den, dtype=np.float64)
