"""The tidy metrics table and the vectorised wide → tidy conversion.

Every source (Together API rows, TRL ``trainer_state.json``, W&B CSV) first becomes a *wide*
frame — one row per log call, one column per raw key — and :func:`series_from_wide` cuts it into
per-(split, metric, raw key) numeric series. :func:`build_frame` stacks series into the tidy
table:

==============  ============================  =============================================
column          dtype                         meaning
==============  ============================  =============================================
``job_id``      category                      Together job id, or the run name of a file
``step``        int64                         optimizer step (``train/global_step``, ``step``)
``split``       category (``train``/``eval``) where the value was measured
``metric``      category                      canonical name (``loss``, ``accuracy``, …) or
                                              the raw key when no rule knows it
``raw_key``     category                      the key exactly as the source logged it
``value``       float64                       the logged number (±inf kept)
``logged_at``   datetime64[ns, UTC]           when it was logged; NaT if the source has no time
==============  ============================  =============================================

Missing cells (a key absent from a row, e.g. eval keys on train steps, or ``null``) produce no
row; a logged NaN (a loss that diverged) is a row whose value is NaN, so it can be found and is
drawn as a gap rather than silently dropped. A DataFrame cannot tell the two apart, so a NaN
cell of a float column given as a frame counts as missing.

Example:
    >>> import pandas as pd
    >>> wide = pd.DataFrame({"train/global_step": [1, 2], "train/loss": [0.69, 0.6],
    ...                      "eval/loss": [None, 0.65]})
    >>> df = build_frame(series_from_wide(wide, "ft-1"))
    >>> df[["step", "split", "metric", "value"]].values.tolist()
    [[1, 'train', 'loss', 0.69], [2, 'train', 'loss', 0.6], [2, 'eval', 'loss', 0.65]]
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from prefnb.training_metrics.keys import classify

__all__ = [
    "TIDY_COLUMNS",
    "MetricsSourceError",
    "Series",
    "build_frame",
    "empty_frame",
    "rows_columns",
    "series_from_wide",
    "to_epoch_seconds",
]

TIDY_COLUMNS: Final[tuple[str, ...]] = (
    "job_id",
    "step",
    "split",
    "metric",
    "raw_key",
    "value",
    "logged_at",
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class MetricsSourceError(ValueError):
    """A metrics source (file, API response, frame) is not in the expected shape."""


@dataclass
class Series:
    """One numeric series of one job: steps ascending, values and log times (epoch seconds)."""

    job_id: str
    split: str
    metric: str
    raw_key: str
    step: IntArray
    value: FloatArray
    time: FloatArray  # epoch seconds, NaN when unknown
    #: the arrays belong to nobody else: a store may keep them instead of copying
    owned: bool = False

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.job_id, self.split, self.metric, self.raw_key)


def to_epoch_seconds(col: pd.Series | Sequence[object]) -> FloatArray:
    """Log times as float epoch seconds (NaN when missing).

    Numbers above 1e11 are taken as milliseconds; strings are parsed as ISO-8601 (UTC if naive).

    >>> to_epoch_seconds([1_700_000_000, 1_700_000_000_500, "2023-11-14T22:13:20Z", None]).tolist()
    [1700000000.0, 1700000000.5, 1700000000.0, nan]
    """
    s = col if isinstance(col, pd.Series) else pd.Series(list(col), dtype=object)
    num = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    num = np.where(num > 1e11, num / 1000.0, num)
    if pd.api.types.is_numeric_dtype(s):  # cannot hold ISO strings: skip the per-cell check
        return num.astype(np.float64)
    text = s.map(lambda v: isinstance(v, str))
    if bool(text.any()):
        parsed = pd.to_datetime(s[text], utc=True, errors="coerce", format="ISO8601")
        secs = (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(np.float64)
        num[text.to_numpy(dtype=bool)] = secs
    return num.astype(np.float64)


#: Values per block :func:`rows_columns` reads at once (2 MiB of float64).
_BLOCK_VALUES: Final = 1 << 18


def rows_columns(
    rows: Sequence[Mapping[str, Any]], present: dict[str, BoolArray] | None = None
) -> dict[str, FloatArray]:
    """Metric rows (dicts) as float columns in row order, NaN where a row lacks a key.

    ``present``, when given, receives for each key that some rows lack a mask of the rows
    that have it (keys every row has get none), so a logged NaN stays told apart from a gap.

    Consecutive rows logged by the same call share their keys (train rows, eval rows), so rows
    are cut into runs of one key tuple and each key tuple's rows are read as one flat float
    array, then scattered back to their row positions — several times faster than
    ``pd.DataFrame(rows)``; the per-row work left is what reading a dict costs. Raises
    ``ValueError`` or ``TypeError`` if a value is not a number.

    >>> has = {}
    >>> {k: v.tolist() for k, v in rows_columns([{"s": 1, "a": 0.5}, {"s": 2, "b": 1.0},
    ...                                          {"s": 3, "a": float("nan")}], has).items()}
    {'s': [1.0, 2.0, 3.0], 'a': [0.5, nan, nan], 'b': [nan, 1.0, nan]}
    >>> has["a"].tolist()
    [True, False, True]
    """
    # key tuple -> (its rows, run starts, run lengths)
    groups: dict[tuple[str, ...], tuple[list[Mapping[str, Any]], list[int], list[int]]] = {}
    pos = 0
    for keys, run_iter in itertools.groupby(rows, key=tuple):
        g = groups.get(keys)
        if g is None:
            g = groups[keys] = ([], [], [])
        members, starts, lengths = g
        before = len(members)
        members.extend(run_iter)
        m = len(members) - before
        starts.append(pos)
        lengths.append(m)
        pos += m
    n = pos
    out: dict[str, FloatArray] = {}
    for keys, (members, starts, lengths) in groups.items():
        width = len(keys)
        where: slice | IntArray
        if len(starts) == 1:
            where = slice(starts[0], starts[0] + lengths[0])
        else:
            # Row position of each member: run start + offset inside the run.
            lens = np.asarray(lengths, np.int64)
            shift = np.asarray(starts, np.int64) - (np.cumsum(lens) - lens)
            where = np.arange(len(members), dtype=np.int64) + np.repeat(shift, lens)
        cols: list[FloatArray] = []
        for key in keys:
            col = out.get(key)
            if col is None:
                # every row has this key: no gaps to fill with NaN
                col = out[key] = np.empty(n) if len(groups) == 1 else np.full(n, np.nan)
                if present is not None and len(groups) > 1:
                    present[key] = np.zeros(n, np.bool_)
            cols.append(col)
            if present is not None and len(groups) > 1:
                present[key][where] = True
        # Read the rows in blocks under 4 MiB: numpy asks the OS for transparent huge pages
        # for larger arrays, and a kernel that compacts memory for them on first touch made
        # a one-shot read of 100k rows ~1.6× slower.
        step = max(1, _BLOCK_VALUES // width)
        for lo in range(0, len(members), step):
            chunk = members[lo : lo + step]
            block = np.fromiter(
                itertools.chain.from_iterable(r.values() for r in chunk),
                np.float64,
                len(chunk) * width,
            ).reshape(len(chunk), width)
            at = (
                slice(where.start + lo, where.start + lo + len(chunk))
                if isinstance(where, slice)
                else where[lo : lo + len(chunk)]
            )
            for j, col in enumerate(cols):
                col[at] = block[:, j]
    if present is not None:
        for key in [k for k, m in present.items() if m.all()]:
            del present[key]
    return out


def _pick_step_column(columns: Sequence[str]) -> str | None:
    steps = [c for c in columns if classify(c).role == "step"]
    for preferred in ("global_step", "step"):
        for c in steps:
            if c.lower().endswith(preferred) and not c.startswith("_"):
                return c
    return steps[0] if steps else None


def _numeric(col: Any) -> FloatArray:
    """A column (pandas Series or numpy array) as float64, non-numbers as NaN."""
    if isinstance(col, np.ndarray) and col.dtype.kind in "fiu":
        return col.astype(np.float64, copy=False)
    return np.asarray(
        pd.to_numeric(pd.Series(col), errors="coerce").to_numpy(np.float64, na_value=np.nan),
        dtype=np.float64,
    )


def series_from_wide(
    wide: pd.DataFrame | Mapping[str, Any],
    job_id: str,
    *,
    step_column: str | None = None,
    source: str = "metrics",
    raw_metric_keys: Iterable[str] = (),
    present: Mapping[str, BoolArray] | None = None,
    owned: bool = False,
) -> list[Series]:
    """Cut a wide frame (one column per raw key) into per-key series.

    ``wide`` is a DataFrame or a mapping of column name → array (as :func:`rows_columns`
    gives; the fast path for API rows). ``step_column`` defaults to the best step-like key
    (``train/global_step`` over ``step`` over ``_step``); rows without a step are skipped.
    ``raw_metric_keys`` are kept under their raw name even if a rule would rename them.
    ``present`` masks which rows logged a key (see :func:`rows_columns`); without one, a key
    is present where its value is not NaN — except in a DataFrame's non-float columns, where
    a ``"NaN"`` text cell is a logged NaN and only an empty cell is missing. ``source`` names
    the origin in errors. ``owned=True`` says the column arrays are the caller's to give away
    (as :func:`rows_columns` makes them): the series are marked so a store keeps them uncopied.
    """
    # With masks from rows_columns, a key without one was in every row; otherwise NaN = gap.
    every_row_if_unmasked = present is not None and not isinstance(wide, pd.DataFrame)
    if isinstance(wide, pd.DataFrame):
        data: Mapping[str, Any] = {str(c): wide[c].to_numpy() for c in wide.columns}
        if present is None:
            present = {
                str(c): wide[c].notna().to_numpy(np.bool_)
                for c in wide.columns
                if not pd.api.types.is_float_dtype(wide[c].dtype)
            }
    else:
        data = wide
    has = present or {}
    cols = list(data)
    step_col = step_column or _pick_step_column(cols)
    if step_col is None or step_col not in data:
        raise MetricsSourceError(
            f"{source}: no step column found; expected one of 'train/global_step', 'step', "
            f"'global_step' or '_step' among the keys {cols[:20]}"
        )
    steps_f = _numeric(data[step_col])
    has_step = np.isfinite(steps_f)
    steps = steps_f[has_step].astype(np.int64)
    time_cols = [c for c in cols if classify(c).role == "time"]
    if time_cols:
        tcol = data[time_cols[0]]
        if isinstance(tcol, np.ndarray) and tcol.dtype.kind in "fiu":
            t = tcol.astype(np.float64)
            times = np.where(t > 1e11, t / 1000.0, t)[has_step]
        else:
            times = to_epoch_seconds(pd.Series(tcol))[has_step]
    else:
        times = np.full(len(steps), np.nan)
    raw_keep = set(raw_metric_keys)
    out: list[Series] = []
    # Sources log in step order; only sort (stable: a repeated step keeps its log order) if not.
    in_order = bool(np.all(steps[1:] >= steps[:-1]))
    order = None if in_order else np.argsort(steps, kind="stable")
    all_rows = bool(has_step.all())
    for c in cols:
        info = classify(c)
        if info.role != "value":
            continue
        vals = _numeric(data[c])
        mask = has.get(c)
        if not all_rows:
            vals = vals[has_step]
            mask = None if mask is None else mask[has_step]
        if mask is not None:
            logged = mask
        elif every_row_if_unmasked:
            logged = np.ones(len(vals), np.bool_)
        else:
            logged = ~np.isnan(vals)
        metric = c if c in raw_keep else info.metric
        if order is None and logged.all():
            # The common case (a train key on every row): no gather at all. Series share the
            # step and time arrays; MetricsStore and build_frame copy, never write into them.
            keep = owned or vals is not data[c]  # a caller's column is only kept when given
            out.append(Series(job_id, info.split, metric, c, steps, vals, times, keep))
            continue
        if not logged.any():
            continue
        idx = np.flatnonzero(logged) if order is None else order[logged[order]]
        out.append(
            Series(job_id, info.split, metric, c, steps[idx], vals[idx], times[idx], owned=True)
        )
    return out


def empty_frame() -> pd.DataFrame:
    """An empty tidy table with the right columns and dtypes."""
    return build_frame([])


def _categorical(labels: list[str], lengths: IntArray) -> Any:
    cats = sorted(set(labels))
    lookup = {c: i for i, c in enumerate(cats)}
    # The smallest code type pandas would pick anyway, so from_codes does not convert 4M codes.
    dtype = np.int8 if len(cats) < 127 else np.int16 if len(cats) < 32_767 else np.int32
    codes = np.repeat(np.array([lookup[x] for x in labels], dtype=dtype), lengths)
    return pd.Categorical.from_codes(codes, categories=pd.Index(cats), validate=False)


_UTC: Final = pd.DatetimeTZDtype("ns", "UTC")
_NAT: Final = np.iinfo(np.int64).min


def _utc_ns(secs: FloatArray, out: IntArray | None = None) -> IntArray:
    """Epoch seconds → int64 nanoseconds (NaT for NaN), rounded to the microsecond: float
    seconds carry ~0.2 µs of noise that would otherwise show as nanosecond digits.

    Written into ``out`` when given (one pass, no full-size temporaries beyond one float array).
    """
    ns = np.empty(len(secs), np.int64) if out is None else out
    missing = np.isnan(secs)
    if missing.all():
        ns[:] = _NAT
        return ns
    if missing.any():
        ns[:] = _NAT
        ok = ~missing
        ns[ok] = _utc_ns(secs[ok])
        return ns
    # Times are after 1970, so adding 0.5 then truncating rounds half up.
    us = secs * 1e6
    us += 0.5
    np.multiply(us.astype(np.int64), 1000, out=ns)
    return ns


def build_frame(series: Iterable[Series]) -> pd.DataFrame:
    """Stack series into the tidy table (vectorised: each column is written once, in place)."""
    items = [s for s in series if len(s.step)]
    lengths = np.array([len(s.step) for s in items], dtype=np.int64)
    total = int(lengths.sum())
    step = np.empty(total, np.int64)
    value = np.empty(total, np.float64)
    ns = np.empty(total, np.int64)
    at = 0
    for s, m in zip(items, lengths.tolist(), strict=True):
        step[at : at + m] = s.step
        value[at : at + m] = s.value
        _utc_ns(s.time, ns[at : at + m])
        at += m
    # pd.array would copy the 8-byte-per-row times once more; wrap them in place when pandas
    # offers it (the ns array is fresh, nothing else holds it).
    wrap = getattr(pd.arrays.DatetimeArray, "_simple_new", None)
    view = ns.view("datetime64[ns]")
    logged = wrap(view, dtype=_UTC) if wrap is not None else pd.array(view, dtype=_UTC)
    return pd.DataFrame(
        {
            "job_id": _categorical([s.job_id for s in items], lengths),
            "step": step,
            "split": _categorical([s.split for s in items], lengths),
            "metric": _categorical([s.metric for s in items], lengths),
            "raw_key": _categorical([s.raw_key for s in items], lengths),
            "value": value,
            "logged_at": logged,
        },
        columns=list(TIDY_COLUMNS),
        copy=False,  # the arrays above are fresh; skip pandas' block-consolidation copy
    )
