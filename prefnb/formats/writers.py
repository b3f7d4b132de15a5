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
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from prefnb import _json
from prefnb.atomic import atomic_write
from prefnb.pairs import is_missing
from prefnb.records import preferred_and_rejected, prompt_messages

__all__ = ["write_dpo_jsonl", "write_pairs", "write_sft_jsonl", "write_trl"]

_PARQUET = (".parquet", ".pq")


def _rows_ok(df: pd.DataFrame) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a pair-table DataFrame, got {type(df).__name__}")
    for column in ("prompt", "response_a", "response_b", "label"):
        if column not in df.columns:
            raise ValueError(f"pair table has no {column!r} column; see prefnb.check_pairs")


def _rows(df: pd.DataFrame) -> Iterator[tuple[Any, dict[str, Any]]]:
    _rows_ok(df)
    for idx, rec in zip(df.index, df.to_dict("records"), strict=True):
        yield idx, {str(k): v for k, v in rec.items()}


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


def _write_checked(
    df: pd.DataFrame, path: str | os.PathLike[str], kind: str, profile: str, on_invalid: str
) -> int:
    # The same row check as export_dpo and stats: what is written is what they count.
    from prefnb.export import ExportError, _invalid_error, check_rows

    _rows_ok(df)
    check = check_rows(df, kind=kind, profile=profile)
    if on_invalid == "raise":
        if check.unwritable:
            raise ExportError(check.unwritable[0] + "; nothing was written")
        if check.bad:
            raise _invalid_error(check.candidates, check.bad, profile, kind)
    elif on_invalid != "drop":
        raise ValueError(f"on_invalid must be 'raise' or 'drop', got {on_invalid!r}")
    check.drop_bad()
    n = 0
    with atomic_write(path) as f:
        for c in check.candidates:
            f.write(c.line + b"\n")
            n += 1
    return n


def write_dpo_jsonl(
    df: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    profile: str = "together",
    on_invalid: str = "raise",
) -> int:
    """Together/OpenAI preference JSONL; returns the number of lines written.

    Rows are checked as :func:`prefnb.export_dpo` checks them (``profile``); an invalid row
    raises :class:`prefnb.export.ExportError` and nothing is written, unless
    ``on_invalid="drop"`` leaves it out.
    """
    return _write_checked(df, path, "dpo", profile, on_invalid)


def write_sft_jsonl(
    df: pd.DataFrame, path: str | os.PathLike[str], *, on_invalid: str = "raise"
) -> int:
    """SFT JSONL, ``{"messages": prompt + [preferred]}``; returns the number written."""
    return _write_checked(df, path, "sft", "together", on_invalid)


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
        prompt = prompt_messages(rec["prompt"])
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
