"""Load rows from wherever preference data lives, remembering where each row came from.

A source is a path (JSONL, JSON array or JSON lines, CSV, Parquet; text formats may be
gzipped, ``train.jsonl.gz``), a pandas DataFrame, a list of dicts, or a Hugging Face
``datasets.Dataset`` (used only if already in memory; nothing is ever downloaded). Every
row becomes a plain ``dict`` of plain Python values (numpy arrays and scalars become lists
and numbers, NaN becomes None), and :class:`Rows` can say where a row came from
(``train.jsonl line 12``, ``data.csv row 3``) so errors can point at it.

Files are tolerant of what editors and other tools leave behind: a UTF-8 byte-order mark,
CRLF line ends and blank lines.

Example:
    >>> rows = load_rows([{"prompt": "q", "chosen": "x", "rejected": "y"}])
    >>> rows.records[0]["chosen"], rows.where(0)
    ('x', 'record 0')
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from prefnb import _json

__all__ = ["FormatError", "Rows", "Source", "load_rows", "plain"]

#: What :func:`load_rows` accepts.
Source = str | os.PathLike[str] | pd.DataFrame | Iterable[Mapping[str, Any]] | Any

_BOM = b"\xef\xbb\xbf"
_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonlines")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_CSV_SUFFIXES = (".csv", ".tsv")


class FormatError(ValueError):
    """Input that prefnb cannot read: an unknown shape, or a row with a bad field.

    The message says where (file and line or row, and field) and what was expected.
    ``keys`` holds the keys seen when the shape itself was not recognized.
    """

    def __init__(self, message: str, *, keys: Iterable[str] = ()) -> None:
        self.keys = list(keys)
        super().__init__(message)


@dataclass
class Rows:
    """Rows of a source as plain dicts, with a way to name where each came from."""

    records: list[dict[str, Any]]
    name: str
    #: ``"line"`` (JSON lines: ``positions`` are 1-based line numbers), ``"item"`` (JSON
    #: array, 0-based), ``"row"`` (CSV/Parquet 1-based data rows, DataFrame index labels)
    #: or ``"record"`` (list of dicts, 0-based).
    unit: str = "record"
    positions: list[Any] = field(default_factory=list)

    def where(self, i: int) -> str:
        """Human-readable location of row ``i`` (position in :attr:`records`)."""
        pos = self.positions[i] if self.positions else i
        prefix = f"{self.name} " if self.name else ""
        return f"{prefix}{self.unit} {pos}"


def plain(value: Any) -> Any:
    """``value`` as plain Python: numpy arrays → lists, numpy scalars → Python, NaN → None.

    >>> import numpy as np
    >>> plain({"a": np.array([1, 2]), "b": float("nan"), "c": np.int64(3)})
    {'a': [1, 2], 'b': None, 'c': 3}
    """
    if isinstance(value, str | bool | int) or value is None:
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return plain(value.tolist())
    return value


def load_rows(source: Source) -> Rows:
    """Read ``source`` into :class:`Rows`. Raises :class:`FormatError` on unreadable input."""
    if isinstance(source, pd.DataFrame):
        return _from_frame(source, name="")
    if isinstance(source, str | os.PathLike):
        return _from_path(Path(source).expanduser())
    if _is_hf_dataset(source):
        dataset: Any = source
        return Rows([plain(r) for r in dataset.to_list()], name="", unit="row")
    if _is_hf_dataset_dict(source):
        names = [repr(k) for k in source]
        raise FormatError(
            f"got a DatasetDict with splits {', '.join(names)}; pass one split, e.g. ds[{names[0]}]"
        )
    if isinstance(source, Mapping):
        raise FormatError(
            "got a single dict; pass a list of dicts (one per row), a DataFrame or a path"
        )
    if isinstance(source, bytes):
        raise FormatError("got bytes; pass a path, a DataFrame or a list of dicts")
    if isinstance(source, Iterable):
        records: list[dict[str, Any]] = []
        for i, rec in enumerate(source):
            if not isinstance(rec, Mapping):
                raise FormatError(f"record {i}: expected a dict, got {type(rec).__name__}")
            records.append(plain(rec))
        return Rows(records, name="", unit="record")
    raise FormatError(
        f"cannot read preference data from a {type(source).__name__}; pass a path "
        "(.jsonl, .json, .csv, .parquet), a DataFrame, a list of dicts or a datasets.Dataset"
    )


def _is_hf_dataset(obj: Any) -> bool:
    # Duck-typed so the datasets library is never imported (nor required) here.
    return (
        hasattr(obj, "column_names")
        and hasattr(obj, "to_list")
        and isinstance(getattr(obj, "column_names", None), list)
    )


def _is_hf_dataset_dict(obj: Any) -> bool:
    return isinstance(obj, Mapping) and bool(obj) and all(_is_hf_dataset(v) for v in obj.values())


def _from_frame(df: pd.DataFrame, name: str) -> Rows:
    if df.columns.duplicated().any():
        dup = ", ".join(map(str, df.columns[df.columns.duplicated()]))
        raise FormatError(f"{name or 'DataFrame'}: duplicate column names: {dup}")
    records = [plain(r) for r in df.to_dict("records")]
    return Rows(records, name=name, unit="row", positions=list(df.index))


def _from_path(path: Path) -> Rows:
    name = path.name
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.is_dir():
        raise FormatError(f"{path}: is a directory, expected a data file")
    suffix = path.suffix.lower()
    if suffix in _PARQUET_SUFFIXES:
        return _read_parquet(path)
    data = path.read_bytes()
    if suffix == ".gz":
        # Public dumps (HH-RLHF's train.jsonl.gz) ship gzipped; the inner suffix decides.
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise FormatError(f"{name}: cannot decompress gzip data: {exc}") from None
        suffix = Path(path.stem).suffix.lower()
    known = (*_JSONL_SUFFIXES, ".json", *_CSV_SUFFIXES)
    if suffix not in known and data.startswith(b"PAR1"):
        return _read_parquet(path)
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    if not data.strip():
        raise FormatError(f"{name}: file is empty")
    if suffix in _CSV_SUFFIXES:
        return _read_csv(data, name, delimiter="\t" if suffix == ".tsv" else ",")
    if suffix in _JSONL_SUFFIXES:
        return _read_jsonl(data, name)
    if suffix == ".json" or data.lstrip()[:1] in (b"[", b"{"):
        return _read_json(data, name)
    raise FormatError(
        f"{name}: unknown file type {suffix or '(no extension)'!r}; "
        "expected .jsonl, .json, .csv, .tsv or .parquet (optionally .gz, except Parquet)"
    )


def _read_json(data: bytes, name: str) -> Rows:
    if data.lstrip()[:1] == b"[":
        try:
            doc = _json.loads(data)
        except UnicodeDecodeError as exc:
            raise FormatError(f"{name}: not valid UTF-8 (byte {exc.start})") from None
        except _json.JSONDecodeError as exc:
            raise FormatError(f"{name}: invalid JSON array: {exc}") from None
        if not isinstance(doc, list):  # pragma: no cover - a '[' document is a list
            raise FormatError(f"{name}: expected a JSON array of objects")
        for i, rec in enumerate(doc):
            if not isinstance(rec, dict):
                raise FormatError(f"{name} item {i}: expected a JSON object, got {_kind(rec)}")
        return Rows(doc, name=name, unit="item", positions=[])
    # A .json file holding one object per line is common (it is JSON lines misnamed).
    return _read_jsonl(data, name)


def _read_jsonl(data: bytes, name: str) -> Rows:
    records: list[dict[str, Any]] = []
    positions: list[int] = []
    for n, raw in enumerate(data.split(b"\n"), 1):
        line = raw.rstrip(b"\r")
        if not line.strip():
            continue
        try:
            rec = _json.loads(line)
        except (_json.JSONDecodeError, UnicodeDecodeError) as exc:
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as uexc:
                raise FormatError(
                    f"{name} line {n}: not valid UTF-8 (byte {uexc.start} of the line)"
                ) from None
            raise FormatError(f"{name} line {n}: invalid JSON: {exc}") from None
        if not isinstance(rec, dict):
            raise FormatError(f"{name} line {n}: expected a JSON object, got {_kind(rec)}")
        records.append(rec)
        positions.append(n)
    return Rows(records, name=name, unit="line", positions=positions)


def _read_csv(data: bytes, name: str, delimiter: str) -> Rows:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{name}: not valid UTF-8 (byte {exc.start})") from None
    # Responses can be long: lift the csv module's default 128 KiB cell limit (process-wide,
    # and only ever raised).
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[dict[str, Any]] = []
    try:
        for rec in _csv_rows(reader, name):
            records.append(rec)
    except csv.Error as exc:
        raise FormatError(f"{name} row {len(records) + 1}: malformed CSV: {exc}") from None
    return Rows(records, name=name, unit="row", positions=list(range(1, len(records) + 1)))


def _csv_rows(reader: csv.DictReader[str], name: str) -> Iterator[dict[str, Any]]:
    for n, rec in enumerate(reader, 1):
        if None in rec:
            raise FormatError(
                f"{name} row {n}: more fields than the header's "
                f"{len(reader.fieldnames or [])} columns"
            )
        yield {k: _csv_cell(v) for k, v in rec.items()}


def _csv_cell(value: str | None) -> Any:
    """A CSV cell: empty → None; a JSON message list or message dict → decoded."""
    if value is None or value == "":
        return None
    head = value.lstrip()[:1]
    if head in ("[", "{") and '"role"' in value:
        # CSV has no nested values, so tools write message lists as JSON text. Only decode
        # cells that really are message lists: a response may legitimately start with "[".
        try:
            decoded = _json.loads(value)
        except _json.JSONDecodeError:
            return value
        if _looks_like_messages(decoded):
            return decoded
    return value


def _looks_like_messages(value: Any) -> bool:
    if isinstance(value, dict):
        return "role" in value or "messages" in value
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(m, dict) and "role" in m for m in value)
    )


def _read_parquet(path: Path) -> Rows:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise FormatError(f"{path.name}: cannot read as Parquet: {exc}") from None
    records = [plain(r) for r in table.to_pylist()]
    return Rows(records, name=path.name, unit="row", positions=list(range(1, len(records) + 1)))


def _kind(value: object) -> str:
    return {
        list: "an array",
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "a boolean",
        type(None): "null",
    }.get(type(value), type(value).__name__)
