"""M4 downsampling keeps every bucket's extremes, first and last point; incremental agrees."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from prefnb.plots.downsample import M4Cache, downsample, m4_indices


def test_spikes_survive() -> None:
    y = np.sin(np.linspace(0, 50, 100_000))
    y[31_337] = 40.0
    y[77_777] = -40.0
    x = np.arange(100_000)
    xs, ys = downsample(x, y, 2000)
    assert len(xs) <= 2000
    assert ys.max() == 40.0
    assert ys.min() == -40.0
    assert xs[0] == 0
    assert xs[-1] == 99_999
    assert np.all(np.diff(xs) > 0)


def test_short_series_untouched() -> None:
    y = np.arange(100.0)
    assert m4_indices(y, 50).tolist() == list(range(100))


def test_nan_never_hides_an_extreme() -> None:
    y = np.zeros(10_000)
    y[::7] = np.nan
    y[5001] = 3.0
    idx = m4_indices(y, 100)
    assert 5001 in idx


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=3000),
    st.integers(1, 50),
)
def test_every_bucket_keeps_its_extremes(values: list[float], buckets: int) -> None:
    y = np.array(values)
    idx = m4_indices(y, buckets)
    kept = set(idx.tolist())
    assert len(idx) <= max(len(y), 0)
    assert len(idx) <= max(4 * buckets + 4, len(y))
    n = len(y)
    if n > 4 * buckets:
        k = -(-n // buckets)
        for start in range(0, n, k):
            seg = y[start : start + k]
            assert seg.max() in y[list(kept & set(range(start, start + k)))]
            assert seg.min() in y[list(kept & set(range(start, start + k)))]
    assert 0 in kept
    assert n - 1 in kept


def test_incremental_cache_keeps_global_extremes_while_growing() -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(size=60_000)
    cache = M4Cache(max_points=800)
    for n in range(100, 60_000, 1234):
        idx = cache.indices(y[:n])
        assert idx[0] == 0
        assert idx[-1] == n - 1
        assert int(np.argmax(y[:n])) in idx
        assert int(np.argmin(y[:n])) in idx
        assert len(idx) <= 2 * 800 + 8
        assert np.all(np.diff(idx) > 0)
