"""Min/max-preserving downsampling (M4) for long series, full and incremental.

A 100,000-step curve drawn into ~1,000 pixels needs ~4,000 points: per bucket of consecutive
points keep the first, last, minimum and maximum (M4, Jugel et al. 2014). Spikes survive —
a loss blow-up at one step is still visible — which plain striding would lose.
:class:`M4Cache` keeps the result for completed buckets, so a live chart only re-buckets the
tail; the bucket size doubles when the series outgrows the budget.

Example:
    >>> import numpy as np
    >>> y = np.zeros(10_000); y[1234] = 9.0; y[8765] = -9.0
    >>> idx = m4_indices(y, 100)
    >>> len(idx) <= 400, 1234 in idx, 8765 in idx, int(idx[0]), int(idx[-1])
    (True, True, True, 0, 9999)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["M4Cache", "downsample", "m4_indices"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def _m4_fixed(y: FloatArray, k: int, offset: int = 0) -> IntArray:
    """M4 indices over buckets of ``k`` consecutive points (the last bucket may be shorter)."""
    n = len(y)
    if n == 0:
        return np.empty(0, np.int64)
    full = n // k
    parts: list[IntArray] = []
    if full:
        block = y[: full * k].reshape(full, k)
        base = np.arange(full, dtype=np.int64) * k
        if np.isnan(block).any():
            # NaN would win argmin/argmax; mask it out so a gap never hides a real extreme.
            lo = base + np.argmin(np.where(np.isnan(block), np.inf, block), axis=1)
            hi = base + np.argmax(np.where(np.isnan(block), -np.inf, block), axis=1)
        else:
            lo = base + np.argmin(block, axis=1)
            hi = base + np.argmax(block, axis=1)
        parts += [base, base + (k - 1), lo, hi]
    if n > full * k:
        start = full * k
        tail = y[start:]
        lo_t = int(np.argmin(np.where(np.isnan(tail), np.inf, tail)))
        hi_t = int(np.argmax(np.where(np.isnan(tail), -np.inf, tail)))
        parts.append(np.array([start, n - 1, start + lo_t, start + hi_t], np.int64))
    idx = np.unique(np.concatenate(parts))
    return (idx + offset).astype(np.int64)


def m4_indices(y: FloatArray, buckets: int) -> IntArray:
    """Sorted indices of the points M4 keeps when cutting ``y`` into ``buckets`` buckets."""
    n = len(y)
    if n <= 4 * buckets:
        return np.arange(n, dtype=np.int64)
    k = -(-n // buckets)
    return _m4_fixed(np.asarray(y, np.float64), k)


def downsample(
    x: npt.NDArray[np.generic], y: FloatArray, max_points: int = 4000
) -> tuple[npt.NDArray[np.generic], FloatArray]:
    """``(x, y)`` reduced to at most about ``max_points`` points, extremes kept."""
    idx = m4_indices(y, max(1, max_points // 4))
    if len(idx) == len(y):
        return x, y
    return x[idx], y[idx]


class M4Cache:
    """Incremental M4 for an append-only series: cost per update ~ the new points only."""

    def __init__(self, max_points: int = 4000) -> None:
        self.buckets = max(1, max_points // 4)
        self.k = 1
        self.done_n = 0  # points covered by completed buckets
        self.done_idx: IntArray = np.empty(0, np.int64)

    def indices(self, y: FloatArray) -> IntArray:
        """Indices to draw for the current series ``y`` (which only ever grows)."""
        n = len(y)
        if n <= 4 * self.buckets and self.k == 1:
            return np.arange(n, dtype=np.int64)
        if self.k == 1 or n > 2 * self.buckets * self.k:
            # (Re)start with a power-of-two bucket size so doubling keeps bucket edges aligned.
            k = 1
            while n > self.buckets * k:
                k *= 2
            self.k = k
            self.done_n = 0
            self.done_idx = np.empty(0, np.int64)
        k = self.k
        full_end = (n // k) * k
        if full_end > self.done_n:
            new = _m4_fixed(np.asarray(y[self.done_n : full_end], np.float64), k, self.done_n)
            self.done_idx = np.concatenate([self.done_idx, new])
            self.done_n = full_end
        if n > self.done_n:
            tail = _m4_fixed(np.asarray(y[self.done_n :], np.float64), k, self.done_n)
            return np.concatenate([self.done_idx, tail])
        return self.done_idx
