"""Where metrics come from: the Together API, TRL ``trainer_state.json`` and W&B CSV exports.

Each reader returns :class:`~prefnb.training_metrics.tidy.Series` lists, so a local TRL run
and a Together job land in the same tidy table. :func:`resolve` turns whatever the user passed
(job ids, launcher ``Job`` objects, paths, tidy frames) into :class:`Source` objects.

Example:
    >>> import json, pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp()) / "run-a"
    >>> d.mkdir()
    >>> _ = (d / "trainer_state.json").write_text(json.dumps({"log_history": [
    ...     {"step": 10, "loss": 0.69, "rewards/accuracies": 0.5},
    ...     {"step": 10, "eval_loss": 0.68}]}))
    >>> [(s.job_id, s.split, s.metric) for s in read_trainer_state(d)]
    [('run-a', 'train', 'loss'), ('run-a', 'train', 'accuracy'), ('run-a', 'eval', 'loss')]
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from prefnb.training_metrics.tidy import (
    TIDY_COLUMNS,
    BoolArray,
    MetricsSourceError,
    Series,
    rows_columns,
    series_from_wide,
)

__all__ = [
    "TERMINAL_STATUSES",
    "Source",
    "api_series",
    "checkpoint_steps",
    "default_client",
    "job_hyperparameters",
    "legend_labels",
    "read_trainer_state",
    "read_trainer_state_progress",
    "read_wandb_csv",
    "resolve",
    "rows_frame",
]

#: Job statuses after which no more metrics arrive (the SDK's ``COMPLETED_STATUSES``).
TERMINAL_STATUSES: Final[frozenset[str]] = frozenset(
    {"completed", "error", "user_error", "cancelled"}
)

SourceKind = Literal["api", "trainer_state", "wandb_csv", "frame"]


@dataclass
class Source:
    """One thing to read metrics from. ``job_id`` is the name used in the tidy table."""

    kind: SourceKind
    job_id: str
    client: Any = None
    path: Path | None = None
    frame: pd.DataFrame | None = None
    mtime: float = field(default=-1.0, compare=False)
    #: (global_step, max_steps) of a TRL run, from its trainer_state.json; None if unknown
    progress: tuple[int, int] | None = field(default=None, compare=False)


def default_client() -> Any:
    """A ``together.Together`` client configured from the environment.

    ``TOGETHER_API_KEY`` (and ``TOGETHER_BASE_URL`` for LocalTogether) are read by the SDK;
    the key is never printed or stored by prefnb.
    """
    import together

    if not os.environ.get("TOGETHER_API_KEY"):
        raise MetricsSourceError(
            "reading metrics of a Together job needs a client: pass client=together.Together(...) "
            "or set TOGETHER_API_KEY (and TOGETHER_BASE_URL for a local stand-in)"
        )
    return together.Together()


def _job_like(obj: object) -> bool:
    return isinstance(getattr(obj, "id", None), str) and not isinstance(obj, (str, Path))


def resolve(jobs: object, client: Any = None) -> list[Source]:
    """Turn ``jobs`` (one item or a list) into sources.

    Items may be a job id string, an object with ``.id`` (and optionally ``.client``, like the
    launcher's ``Job``), a path to ``trainer_state.json`` / its run directory / a W&B ``.csv``,
    a tidy DataFrame, or a job list with a ``job_id`` column (such as ``prefnb.jobs()``).
    """
    items: Sequence[object]
    if isinstance(jobs, (str, Path, pd.DataFrame)) or _job_like(jobs):
        items = [jobs]
    elif isinstance(jobs, Iterable):
        items = list(jobs)
    else:
        raise TypeError(f"expected job ids, Job objects or paths, got {type(jobs).__name__}")
    out: list[Source] = []
    for item in items:
        if (
            isinstance(item, pd.DataFrame)
            and "job_id" in item.columns
            and not ({"step", "metric", "value"} & set(item.columns))
        ):
            # a job list such as prefnb.jobs(): one Together job per distinct id
            for jid in dict.fromkeys(item["job_id"].astype(str)):
                out.append(Source("api", jid, client=client))
        elif isinstance(item, pd.DataFrame):
            missing = [c for c in TIDY_COLUMNS if c not in item.columns]
            if missing:
                raise MetricsSourceError(f"metrics frame is missing the columns {missing}")
            for jid in item["job_id"].astype(str).unique():
                out.append(Source("frame", jid, frame=item[item["job_id"].astype(str) == jid]))
        elif _job_like(item):
            out.append(Source("api", str(item.id), client=getattr(item, "client", None) or client))  # type: ignore[attr-defined]
        elif isinstance(item, (str, Path)):
            out.append(_path_or_id(item, client))
        else:
            raise TypeError(
                f"cannot read metrics from {type(item).__name__}: expected a job id, a Job, "
                "a path to trainer_state.json or a W&B .csv, or a tidy DataFrame"
            )
    return out


def _path_or_id(item: str | Path, client: Any) -> Source:
    p = Path(item)
    if p.is_dir():
        state = p / "trainer_state.json"
        if not state.exists():
            ckpts = sorted(p.glob("checkpoint-*/trainer_state.json"), key=_ckpt_step)
            if not ckpts:
                raise MetricsSourceError(f"{p}: directory has no trainer_state.json")
            state = ckpts[-1]
        return Source("trainer_state", _run_name(state), path=state)
    if p.suffix.lower() in {".json", ".csv"} or os.sep in str(item):
        if not p.exists():
            raise MetricsSourceError(f"{p}: no such file (expected trainer_state.json or a .csv)")
        kind: SourceKind = "wandb_csv" if p.suffix.lower() == ".csv" else "trainer_state"
        return Source(kind, _run_name(p), path=p)
    return Source("api", str(item), client=client)


def _ckpt_step(p: Path) -> int:
    m = re.search(r"checkpoint-(\d+)", str(p))
    return int(m.group(1)) if m else -1


def _run_name(p: Path) -> str:
    parent = p.parent
    if parent.name.startswith("checkpoint-"):
        parent = parent.parent
    if p.suffix.lower() == ".csv" or not parent.name:
        return p.stem
    return parent.name


# --- Together API -------------------------------------------------------------------------


def api_rows(
    client: Any,
    job_id: str,
    *,
    step_from: int | None = None,
    step_to: int | None = None,
    logged_from: str | None = None,
    logged_to: str | None = None,
    resolution: int | None = None,
) -> list[dict[str, Any]]:
    """Raw metric rows of one job from ``GET /v1/fine-tunes/{id}/metrics``."""
    kwargs: dict[str, Any] = {}
    if step_from is not None:
        kwargs["global_step_from"] = int(step_from)
    if step_to is not None:
        kwargs["global_step_to"] = int(step_to)
    if logged_from is not None:
        kwargs["logged_at_from"] = logged_from
    if logged_to is not None:
        kwargs["logged_at_to"] = logged_to
    if resolution is not None:
        kwargs["resolution"] = int(resolution)
    resp = client.fine_tuning.list_metrics(job_id, **kwargs)
    rows = getattr(resp, "metrics", None)
    if rows is None and isinstance(resp, Mapping):
        rows = resp.get("metrics")
    return [dict(r) for r in rows or []]


def rows_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """A wide frame from metric rows (dicts); see :func:`~.tidy.rows_columns`.

    Rows holding anything but numbers (e.g. an ISO time string) go through pandas instead.

    >>> rows_frame([{"s": 1, "a": 0.5}, {"s": 2, "b": 1.0}]).to_dict("list")
    {'s': [1.0, 2.0], 'a': [0.5, nan], 'b': [nan, 1.0]}
    """
    return pd.DataFrame(_columns(rows)[0])


def _columns(
    rows: Sequence[Mapping[str, Any]],
) -> tuple[Mapping[str, Any], dict[str, BoolArray]]:
    """Columns of metric rows and, for keys some rows lack (or hold ``null`` in), which rows
    logged them: a NaN logged by the trainer is kept, a gap is not a value."""
    present: dict[str, BoolArray] = {}
    try:
        return rows_columns(rows, present), present
    except (TypeError, ValueError):
        frame = pd.DataFrame(list(rows))
        cols = {str(c): frame[c].to_numpy() for c in frame.columns}
        present = {
            str(c): np.fromiter((r.get(c) is not None for r in rows), np.bool_, len(rows))
            for c in frame.columns
        }
        return cols, {c: m for c, m in present.items() if not m.all()}


def api_series(client: Any, job_id: str, **kwargs: Any) -> list[Series]:
    """Series of one Together job (keyword arguments as :func:`api_rows`)."""
    rows = api_rows(client, job_id, **kwargs)
    if not rows:
        return []
    cols, present = _columns(rows)
    return series_from_wide(cols, job_id, source=f"job {job_id}", present=present, owned=True)


def job_status(client: Any, job_id: str) -> str:
    """The job's status string, lower-case (``running``, ``completed`` …)."""
    status = getattr(client.fine_tuning.retrieve(job_id), "status", "")
    return str(getattr(status, "value", status)).lower()


def job_hyperparameters(client: Any, job_id: str) -> dict[str, Any]:
    """The hyperparameters worth comparing across jobs (beta, lr, epochs, …)."""
    job = client.fine_tuning.retrieve(job_id)
    d: dict[str, Any] = job.model_dump() if hasattr(job, "model_dump") else dict(job)
    method = d.get("training_method") or {}
    ttype = d.get("training_type") or {}
    out = {
        "beta": method.get("dpo_beta"),
        "rpo_alpha": method.get("rpo_alpha") or None,
        "simpo_gamma": method.get("simpo_gamma") or None,
        "norm": method.get("dpo_normalize_logratios_by_length") or None,
        "lr": d.get("learning_rate"),
        "epochs": d.get("n_epochs"),
        "batch": d.get("batch_size"),
        "lora_r": ttype.get("lora_r"),
        "model": d.get("model"),
        "suffix": d.get("suffix"),
    }
    return {k: v for k, v in out.items() if v is not None}


def legend_labels(params: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Legend names that say what differs between jobs.

    >>> legend_labels({"ft-1": {"beta": 0.1, "lr": 1e-5}, "ft-2": {"beta": 0.5, "lr": 1e-5}})
    {'ft-1': 'beta=0.1', 'ft-2': 'beta=0.5'}
    >>> legend_labels({"ft-1": {"beta": 0.1}, "run-a": {}})
    {'ft-1': 'ft-1', 'run-a': 'run-a'}
    """
    jobs = list(params)
    keys: list[str] = []
    for p in params.values():
        keys.extend(k for k in p if k not in keys)
    differing = [
        k
        for k in keys
        if all(k in params[j] for j in jobs) and len({repr(params[j][k]) for j in jobs}) > 1
    ]
    labels: dict[str, str] = {}
    for j in jobs:
        text = ", ".join(f"{k}={_fmt(params[j][k])}" for k in differing)
        labels[j] = text or j
    if len(set(labels.values())) < len(labels):
        labels = {j: f"{j} ({t})" if t != j else j for j, t in labels.items()}
    return labels


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def checkpoint_steps(source: Source) -> list[int]:
    """Steps with a saved checkpoint: the API's list for jobs, ``checkpoint-N`` dirs for TRL."""
    if source.kind == "api" and source.client is not None:
        resp = source.client.fine_tuning.list_checkpoints(source.job_id)
        return sorted(int(c.step) for c in getattr(resp, "data", None) or [])
    if source.kind == "trainer_state" and source.path is not None:
        run = source.path.parent
        if run.name.startswith("checkpoint-"):
            run = run.parent
        return sorted(_ckpt_step(p) for p in run.glob("checkpoint-*") if _ckpt_step(p) >= 0)
    return []


# --- files ---------------------------------------------------------------------------------


def read_trainer_state(path: str | Path, job_id: str | None = None) -> list[Series]:
    """Series from a TRL / Hugging Face ``trainer_state.json`` (its ``log_history``).

    Eval entries (``eval_*`` keys) become the eval split. The closing summary entry
    (``train_runtime``, ``train_loss`` averaged over the run, …) keeps its raw keys so it never
    mixes into the per-step ``loss`` curve.
    """
    return read_trainer_state_progress(path, job_id)[0]


def read_trainer_state_progress(
    path: str | Path, job_id: str | None = None
) -> tuple[list[Series], tuple[int, int] | None]:
    """:func:`read_trainer_state` plus ``(global_step, max_steps)`` when the file has them."""
    p = Path(path)
    if p.is_dir():
        p = p / "trainer_state.json"
    try:
        state = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MetricsSourceError(f"{p}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise MetricsSourceError(f"{p}: not valid JSON ({e})") from None
    history = state.get("log_history") if isinstance(state, dict) else None
    if not isinstance(history, list):
        raise MetricsSourceError(f"{p}: expected a JSON object with a 'log_history' list")
    summary_keys: set[str] = set()
    for i, entry in enumerate(history):
        if not isinstance(entry, dict):
            raise MetricsSourceError(f"{p}: log_history[{i}] is not an object")
        if "step" not in entry:
            raise MetricsSourceError(f"{p}: log_history[{i}] has no 'step'")
        if "train_runtime" in entry:
            summary_keys.update(entry)
    gs, ms = state.get("global_step"), state.get("max_steps")
    progress = (int(gs), int(ms)) if isinstance(gs, int) and isinstance(ms, int) else None
    if not history:
        return [], progress
    cols, present = _columns(history)
    series = series_from_wide(
        cols,
        job_id or _run_name(p),
        step_column="step",
        source=str(p),
        raw_metric_keys=summary_keys - {"step", "epoch"},
        present=present,
        owned=True,
    )
    return series, progress


_CHART_COL = re.compile(r"^(?P<run>.+?) - (?P<key>.+?)(?P<agg>__MIN|__MAX)?$")


def read_wandb_csv(path: str | Path, job_id: str | None = None) -> list[Series]:
    """Series from a W&B CSV export.

    Two shapes are understood: a run-history export (one column per key, plus ``_step``,
    ``_timestamp``) whose job id is the file name, and a chart-panel export (``Step`` plus
    ``<run name> - <key>`` columns, with ``__MIN``/``__MAX`` band columns that are skipped)
    whose job ids are the run names.
    """
    p = Path(path)
    try:
        with p.open(encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh), None)
    except FileNotFoundError:
        raise MetricsSourceError(f"{p}: no such file") from None
    except UnicodeDecodeError as e:
        raise MetricsSourceError(f"{p}: not UTF-8 text ({e})") from None
    if not header:
        raise MetricsSourceError(f"{p}: empty CSV (expected a header row)")
    # Only an empty cell is missing: a "NaN" W&B wrote is a logged value (a diverged loss).
    wide = pd.read_csv(p, keep_default_na=False, na_values=[""])
    chart_cols = [c for c in header[1:] if _CHART_COL.match(c)]
    if header[0] == "Step" and chart_cols and len(chart_cols) == len(header) - 1:
        out: list[Series] = []
        runs: dict[str, dict[str, str]] = {}
        for c in chart_cols:
            m = _CHART_COL.match(c)
            assert m is not None
            if m.group("agg"):
                continue
            runs.setdefault(m.group("run"), {})[c] = m.group("key")
        for run, cols in runs.items():
            sub = wide[["Step", *cols]].rename(columns={"Step": "_step", **cols})
            out.extend(series_from_wide(sub, run, step_column="_step", source=str(p)))
        return out
    return series_from_wide(wide, job_id or _run_name(p), source=str(p))
