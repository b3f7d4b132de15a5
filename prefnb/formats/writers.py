"""Low-level writers: pair table → DPO JSONL, TRL JSONL/Parquet, SFT JSONL, pair-table files.

Every writer is atomic (:func:`prefnb.atomic.atomic_write`): the file appears whole or not at
all, and an existing file is untouched when anything fails. Preference writers keep only
rows labeled ``a``/``b`` (``edited_preferred`` replaces the preferred text) and return how
many rows they wrote. They do not validate: :func:`prefnb.export_dpo` does that and calls
them.

Example:
    >>> import tempfile, pathlib
    >>> from prefnb.pairs import pairs_frame
    >>> df = pairs_frame([{"prompt": "2+2?", "response_a": "4", "response_b": "5", "label": "b"},
    ...                   {"prompt": "1+1?", "response_a": "2", "response_b": "3"}])
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "train.jsonl"
    >>> write_dpo_jsonl(df, out)
    1
    >>> out.read_text()[:60]
    '{"input":{"messages":[{"role":"user","content":"2+2?"}]},"pr'
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from prefnb import _json
from prefnb.atomic import atomic_write
from prefnb.pairs import is_missing
from prefnb.records import pair_to_dpo, pair_to_sft, preferred_and_rejected

__all__ = ["write_dpo_jsonl", "write_pairs", "write_sft_jsonl", "write_trl"]

_PARQUET = (".parquet", ".pq")


def _rows(df: pd.DataFrame) -> Iterator[tuple[Any, dict[str, Any]]]:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a pair-table DataFrame, got {type(df).__name__}")
    for column in ("prompt", "response_a", "response_b", "label"):
        if column not in df.columns:
            raise ValueError(f"pair table has no {column!r} column; see prefnb.check_pairs")
    for idx, rec in zip(df.index, df.to_dict("records"), strict=True):
        yield idx, {str(k): v for k, v in rec.items()}


def _prompt(rec: Mapping[str, Any]) -> list[dict[str, Any]]:
    from prefnb.formats.sources import plain

    prompt = plain(rec["prompt"])
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return [{"role": m["role"], "content": m["content"]} for m in prompt]


def _write_jsonl(path: str | os.PathLike[str], lines: Iterable[Any]) -> int:
    n = 0
    with atomic_write(path) as f:
        for obj in lines:
            f.write(_json.dumps(obj) + b"\n")
            n += 1
    return n


def _write_parquet(path: str | os.PathLike[str], records: list[dict[str, Any]]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(records)
    with atomic_write(path) as f:
        pq.write_table(table, f)
    return len(records)


def write_dpo_jsonl(df: pd.DataFrame, path: str | os.PathLike[str]) -> int:
    """Together/OpenAI preference JSONL; returns the number of lines written."""

    def lines() -> Iterator[Any]:
        for _, rec in _rows(df):
            rec["prompt"] = _prompt(rec)
            line = pair_to_dpo(rec)
            if line is not None:
                yield line

    return _write_jsonl(path, lines())


def write_sft_jsonl(df: pd.DataFrame, path: str | os.PathLike[str]) -> int:
    """SFT JSONL, ``{"messages": prompt + [preferred]}``; returns the number written."""

    def lines() -> Iterator[Any]:
        for _, rec in _rows(df):
            rec["prompt"] = _prompt(rec)
            line = pair_to_sft(rec)
            if line is not None:
                yield line

    return _write_jsonl(path, lines())


def write_trl(
    df: pd.DataFrame, path: str | os.PathLike[str], *, conversational: bool = True
) -> int:
    """TRL preference rows, JSONL or Parquet by suffix; returns the number written.

    Conversational rows are ``{"prompt": [messages], "chosen": [assistant message],
    "rejected": [...]}``. Standard rows (``conversational=False``) hold strings, so each
    prompt must be a single user message.
    """
    records: list[dict[str, Any]] = []
    for idx, rec in _rows(df):
        both = preferred_and_rejected(rec)
        if both is None:
            continue
        prompt = _prompt(rec)
        if conversational:
            records.append(
                {
                    "prompt": prompt,
                    "chosen": [{"role": "assistant", "content": both[0]}],
                    "rejected": [{"role": "assistant", "content": both[1]}],
                }
            )
        else:
            if len(prompt) != 1 or prompt[0]["role"] != "user":
                roles = ", ".join(m["role"] for m in prompt)
                raise ValueError(
                    f"row {idx!r}: a standard (string) TRL prompt must be one user message, "
                    f"got {roles}; use conversational=True"
                )
            records.append({"prompt": prompt[0]["content"], "chosen": both[0], "rejected": both[1]})
    if Path(path).suffix.lower() in _PARQUET:
        return _write_parquet(path, records)
    return _write_jsonl(path, records)


def write_pairs(df: pd.DataFrame, path: str | os.PathLike[str]) -> int:
    """The whole pair table (every row and column), JSONL or Parquet by suffix.

    Missing values are written as null; :func:`prefnb.read_pairs` reads the file back as
    format ``pairs`` with the same ids and labels.
    """
    from prefnb.formats.sources import plain

    records = []
    for _, rec in _rows(df):
        rec = {k: (None if is_missing(v) else plain(v)) for k, v in rec.items()}
        records.append(rec)
    if Path(path).suffix.lower() in _PARQUET:
        return _write_parquet(path, records)
    return _write_jsonl(path, records)
