"""EMA smoothing against hand-computed values and TensorBoard's loop; incremental == batch."""

from __future__ import annotations

import math

import numpy as np
import pytest

from prefnb.plots.smoothing import EmaState, ema


def tensorboard_smooth(ys: list[float], w: float) -> list[float]:
    """TensorBoard's line-chart smoothing, transcribed: debiased EMA, non-finite passed through."""
    last, n, out = 0.0, 0, []
    for y in ys:
        if not math.isfinite(y):
            out.append(y)
            continue
        last = last * w + (1 - w) * y
        n += 1
        out.append(last / (1 - w**n))
    return out


def test_hand_computed_values() -> None:
    # w = 0.6: s1 = 2; s2 = (0.6*2 + 4)/(1.6) = 3.25; s3 = (0.36*2 + 0.6*4 + 0)/(1.96)
    got = ema([2.0, 4.0, 0.0], 0.6)
    assert got.tolist() == pytest.approx([2.0, 3.25, 3.12 / 1.96])


def test_matches_tensorboard_with_gaps_and_inf() -> None:
    rng = np.random.default_rng(7)
    ys = rng.normal(size=500)
    ys[[10, 11, 300]] = np.nan
    ys[200] = np.inf
    for w in (0.0, 0.3, 0.9, 0.99):
        np.testing.assert_allclose(ema(ys, w), tensorboard_smooth(ys.tolist(), w), rtol=1e-12)


@pytest.mark.parametrize(
    "chunks", [[5, 5, 90], [1] * 30 + [170], [100, 100], [200], [3000, 2000], [10, 5000, 7]]
)
def test_incremental_equals_batch(chunks: list[int]) -> None:
    ys = np.random.default_rng(1).normal(size=sum(chunks))
    ys[17] = np.nan
    state = EmaState(0.8)
    parts, i = [], 0
    for c in chunks:
        parts.append(state.extend(ys[i : i + c]))
        i += c
    np.testing.assert_allclose(np.concatenate(parts), ema(ys, 0.8), rtol=1e-10)


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5])
def test_weight_out_of_range(bad: float) -> None:
    with pytest.raises(ValueError, match=r"smoothing must be in \[0, 1\)"):
        ema([1.0], bad)
