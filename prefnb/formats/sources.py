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

import ast
import csv
import gzip
import io
import itertools
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Final

import msgspec
import pandas as pd

from prefnb import _json

__all__ = [
    "BadRow",
    "FormatError",
    "RowStream",
    "Rows",
    "Source",
    "load_rows",
    "plain",
    "stream_rows",
]

#: What :func:`load_rows` accepts.
Source = str | os.PathLike[str] | pd.DataFrame | Iterable[Mapping[str, Any]] | Any

_BOM = b"\xef\xbb\xbf"
_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonlines")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_CSV_SUFFIXES = (".csv", ".tsv")


class FormatError(ValueError):
    """Input that prefnb cannot read: an unknown shape, or a row with a bad field.

    The message says where (file and line or row, and field) and what was expected.
    ``keys`` holds the keys seen when the shape itself was not recognized; ``field`` the
    field at fault when one is; ``bad_rows`` every bad row when several were found.
    """

    def __init__(
        self,
        message: str,
        *,
        keys: Iterable[str] = (),
        field: str | None = None,
        bad_rows: Iterable[BadRow] = (),
    ) -> None:
        self.keys = list(keys)
        self.field = field
        self.bad_rows = list(bad_rows)
        super().__init__(message)


@dataclass(frozen=True)
class BadRow:
    """A row that could not be read: where it is, which field, and why.

    >>> str(BadRow("train.jsonl line 3", 3, "chosen", "must be a string, got int 3"))
    'train.jsonl line 3: chosen: must be a string, got int 3'
    """

    where: str
    line: Any
    field: str
    reason: str

    def __str__(self) -> str:
        field = f"{self.field}: " if self.field and self.field not in self.reason else ""
        return f"{self.where}: {field}{self.reason}"

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (kept in ``df.attrs["prefnb_bad_rows"]``)."""
        line = self.line if isinstance(self.line, int | str) else str(self.line)
        return {"where": self.where, "line": line, "field": self.field, "reason": self.reason}


#: One item of a row stream: (position, record, None) or (position, None, bad row).
Item = tuple[Any, "dict[str, Any] | None", "BadRow | None"]


@dataclass
class RowStream:
    """The rows of a source, read lazily, with a way to name where each came from.

    Iterating yields ``(position, record, None)`` for a readable row and
    ``(position, None, BadRow)`` for one that is not (invalid JSON, a lone surrogate …).
    JSON-lines files are decoded block by block, so only one block is in memory at once.
    """

    items: Iterable[Item]
    name: str
    #: ``"line"`` (JSON lines: 1-based line numbers), ``"item"`` (JSON array, 0-based),
    #: ``"row"`` (CSV/Parquet 1-based data rows, DataFrame index labels) or ``"record"``.
    unit: str = "record"
    #: the file was gzip-compressed
    gzipped: bool = False

    def where(self, pos: Any) -> str:
        """Human-readable location of the row at position ``pos``."""
        prefix = f"{self.name} " if self.name else ""
        return f"{prefix}{self.unit} {pos}"

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)


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
    """Read ``source`` into :class:`Rows`. Raises :class:`FormatError` on the first bad row."""
    stream = stream_rows(source)
    records: list[dict[str, Any]] = []
    positions: list[Any] = []
    for pos, rec, bad in stream:
        if bad is not None:
            raise FormatError(str(bad), field=bad.field or None, bad_rows=[bad])
        assert rec is not None
        records.append(rec)
        positions.append(pos)
    return Rows(records, stream.name, stream.unit, positions)


def stream_rows(source: Source) -> RowStream:
    """The rows of ``source`` as a lazy :class:`RowStream`.

    Problems with the source as a whole (a missing file, an unknown type) raise
    :class:`FormatError` or ``FileNotFoundError`` here; problems with single rows are
    yielded as :class:`BadRow` items.
    """
    if isinstance(source, pd.DataFrame):
        return _from_frame(source, name="")
    if isinstance(source, str | os.PathLike):
        return _from_path(Path(source).expanduser())
    if _is_hf_dataset(source):
        dataset: Any = source
        return RowStream(
            ((i + 1, plain(r), None) for i, r in enumerate(dataset)), name="", unit="row"
        )
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
        return RowStream(_from_records(source), name="", unit="record")
    raise FormatError(
        f"cannot read preference data from a {type(source).__name__}; pass a path "
        "(.jsonl, .json, .csv, .parquet), a DataFrame, a list of dicts or a datasets.Dataset"
    )


def _from_records(source: Iterable[Any]) -> Iterator[Item]:
    for i, rec in enumerate(source):
        if not isinstance(rec, Mapping):
            raise FormatError(f"record {i}: expected a dict, got {type(rec).__name__}")
        yield i, plain(rec), None


def _is_hf_dataset(obj: Any) -> bool:
    # Duck-typed so the datasets library is never imported (nor required) here.
    return (
        hasattr(obj, "column_names")
        and hasattr(obj, "to_list")
        and isinstance(getattr(obj, "column_names", None), list)
    )


def _is_hf_dataset_dict(obj: Any) -> bool:
    return isinstance(obj, Mapping) and bool(obj) and all(_is_hf_dataset(v) for v in obj.values())


def _from_frame(df: pd.DataFrame, name: str) -> RowStream:
    if df.columns.duplicated().any():
        dup = ", ".join(map(str, df.columns[df.columns.duplicated()]))
        raise FormatError(f"{name or 'DataFrame'}: duplicate column names: {dup}")

    def items() -> Iterator[Item]:
        columns = [str(c) for c in df.columns]
        data = [df[c].tolist() for c in df.columns]
        for idx, values in zip(df.index, zip(*data, strict=True), strict=True):
            yield idx, {k: plain(v) for k, v in zip(columns, values, strict=True)}, None

    return RowStream(items(), name=name, unit="row")


def _open(path: Path) -> BinaryIO:
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _from_path(path: Path) -> RowStream:
    name = path.name
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.is_dir():
        raise FormatError(f"{path}: is a directory, expected a data file")
    suffix = path.suffix.lower()
    gzipped = suffix == ".gz"
    if suffix in _PARQUET_SUFFIXES:
        return _read_parquet(path)
    if gzipped:
        # Public dumps (HH-RLHF's train.jsonl.gz) ship gzipped; the inner suffix decides.
        suffix = Path(path.stem).suffix.lower()
    try:
        with _open(path) as fh:
            head = fh.read(64 * 1024)
    except (OSError, EOFError) as exc:
        raise FormatError(f"{name}: cannot decompress gzip data: {exc}") from None
    known = (*_JSONL_SUFFIXES, ".json", *_CSV_SUFFIXES)
    if suffix not in known and head.startswith(b"PAR1"):
        return _read_parquet(path)
    if head.startswith(_BOM):
        head = head[len(_BOM) :]
    if not head.strip() and not _read_all(path).strip():
        raise FormatError(f"{name}: file is empty")
    first = head.lstrip()[:1]
    if suffix in _CSV_SUFFIXES:
        return _read_csv(_read_all(path), name, "\t" if suffix == ".tsv" else ",", gzipped)
    if suffix in _JSONL_SUFFIXES or (suffix == ".json" and first != b"["):
        # A .json file holding one object per line is common (it is JSON lines misnamed).
        return RowStream(_jsonl_items(path, name), name, "line", gzipped)
    if suffix == ".json" or first in (b"[", b"{"):
        if first == b"[":
            return _read_json(_read_all(path), name, gzipped)
        return RowStream(_jsonl_items(path, name), name, "line", gzipped)
    raise FormatError(
        f"{name}: unknown file type {suffix or '(no extension)'!r}; "
        "expected .jsonl, .json, .csv, .tsv or .parquet (optionally .gz, except Parquet)"
    )


def _read_all(path: Path) -> bytes:
    try:
        with _open(path) as fh:
            data = fh.read()
    except (OSError, EOFError) as exc:
        raise FormatError(f"{path.name}: cannot decompress gzip data: {exc}") from None
    return data[len(_BOM) :] if data.startswith(_BOM) else data


def _read_json(data: bytes, name: str, gzipped: bool) -> RowStream:
    try:
        doc = _json.loads_tolerant(data)
    except UnicodeDecodeError as exc:
        raise FormatError(f"{name}: not valid UTF-8 (byte {exc.start})") from None
    except ValueError as exc:
        raise FormatError(f"{name}: invalid JSON array: {exc}") from None
    if not isinstance(doc, list):  # pragma: no cover - a '[' document is a list
        raise FormatError(f"{name}: expected a JSON array of objects")

    def items() -> Iterator[Item]:
        for i, rec in enumerate(doc):
            where = f"{name} item {i}"
            if not isinstance(rec, dict):
                yield i, None, BadRow(where, i, "", f"expected a JSON object, got {_kind(rec)}")
                continue
            bad = _surrogate_row(rec, where, i)
            yield (i, None, bad) if bad is not None else (i, rec, None)

    return RowStream(items(), name, "item", gzipped)


def _surrogate_row(rec: Any, where: str, pos: Any) -> BadRow | None:
    path = _json.lone_surrogate(rec)
    if path is None:
        return None
    return BadRow(
        where,
        pos,
        path,
        f"{path!r} holds a lone surrogate escape (such as \\ud800): it is not text any "
        "UTF-8 file, Arrow column or tokenizer can hold; fix or drop the row",
    )


# Decodes a whole block of lines at once (in C); a block with any line it refuses (not an
# object, NaN, a lone surrogate, malformed) is decoded line by line instead.
_BLOCK_DECODER: Final = msgspec.json.Decoder(dict[str, Any])


def _jsonl_items(path: Path, name: str) -> Iterator[Item]:
    from prefnb.validation.lines import iter_blocks, line_heads, split_lines

    with _open(path) as fh:
        try:
            line = 1  # the first line of the block (line_heads counts them: no extra pass)
            for block in iter_blocks(fh, count_lines=False):
                first = line
                data = block.data
                if block.start == 0 and data.startswith(_BOM):
                    data = data[len(_BOM) :]
                if b"\r" not in data:
                    # equal counts prove one value per line only with no blank line about
                    recs: list[Any] | None
                    try:
                        recs = _BLOCK_DECODER.decode_lines(data)
                    except (msgspec.DecodeError, ValueError):
                        recs = None  # a line it refuses: decode line by line
                    n, clean_heads = line_heads(data, len(recs) if recs is not None else None)
                    line += n
                    if recs is not None and clean_heads and len(recs) == n:
                        # C-level iterators: no Python frame per row
                        yield from zip(range(first, first + n), recs, itertools.repeat(None))
                        continue
                    lines = data.split(b"\n")
                    if lines and not lines[-1]:
                        lines.pop()
                else:
                    # \r\n and a lone \r end lines too, as in Together's (text-mode) check
                    lines = split_lines(data)[0]
                    line += len(lines)
                for i, raw in enumerate(lines):
                    item = _line_item(raw, first + i, name)
                    if item is not None:
                        yield item
        except (OSError, EOFError) as exc:
            raise FormatError(f"{name}: cannot decompress gzip data: {exc}") from None


def _line_item(raw: bytes, n: int, name: str) -> Item | None:
    if not raw.strip():
        return None
    where = f"{name} line {n}"
    try:
        rec = _json.loads_tolerant(raw)
    except UnicodeDecodeError as exc:
        return n, None, BadRow(where, n, "", f"not valid UTF-8 (byte {exc.start} of the line)")
    except ValueError as exc:
        return n, None, BadRow(where, n, "", f"invalid JSON: {exc}")
    if not isinstance(rec, dict):
        return n, None, BadRow(where, n, "", f"expected a JSON object, got {_kind(rec)}")
    bad = _surrogate_row(rec, where, n)
    return (n, None, bad) if bad is not None else (n, rec, None)


#: Columns whose empty CSV cell means "missing" rather than an empty text.
_NULLABLE_CSV: Final[frozenset[str]] = frozenset(
    {
        "pair_id",
        "label",
        "strength",
        "split",
        "annotator",
        "note",
        "edited_preferred",
        "source",
        "model_a",
        "model_b",
        "generator_1",
        "generator_2",
        "preference",
        "score",
        "score_a",
        "score_b",
        "rank",
    }
)


def _read_csv(data: bytes, name: str, delimiter: str, gzipped: bool) -> RowStream:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{name}: not valid UTF-8 (byte {exc.start})") from None
    # Responses can be long: lift the csv module's default 128 KiB cell limit (process-wide,
    # and only ever raised).
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)

    def items() -> Iterator[Item]:
        n = 0
        try:
            for n, rec in enumerate(reader, 1):
                if None in rec:
                    yield (
                        n,
                        None,
                        BadRow(
                            f"{name} row {n}",
                            n,
                            "",
                            f"more fields than the header's {len(reader.fieldnames or [])} columns",
                        ),
                    )
                    continue
                yield n, {k: _csv_cell(k, v) for k, v in rec.items()}, None
        except csv.Error as exc:
            raise FormatError(f"{name} row {n + 1}: malformed CSV: {exc}") from None

    return RowStream(items(), name, "row", gzipped)


def _csv_cell(column: str, value: str | None) -> Any:
    """A CSV cell: a JSON or Python-literal message list → decoded; empty → "" or None.

    An empty cell is an empty text, except in columns where empty means missing (labels,
    ids, scores): pandas writes None and NaN as empty cells, and an empty response is text.
    """
    if value is None or value == "":
        return None if column in _NULLABLE_CSV or column.startswith("score") else ""
    head = value.lstrip()[:1]
    if head in ("[", "{") and "role" in value:
        # CSV has no nested values, so tools write message lists as JSON text, and
        # DataFrame.to_csv writes them as Python reprs. Only decode cells that really are
        # message lists: a response may legitimately start with "[".
        decoded: Any = None
        try:
            decoded = _json.loads(value)
        except _json.JSONDecodeError:
            if "'role'" in value:
                try:
                    decoded = ast.literal_eval(value)
                except (ValueError, SyntaxError, MemoryError, RecursionError):
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


def _read_parquet(path: Path) -> RowStream:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise FormatError(f"{path.name}: cannot read as Parquet: {exc}") from None

    def items() -> Iterator[Item]:
        n = 0
        try:
            batches = pf.iter_batches(batch_size=4096)
            for batch in batches:
                for rec in batch.to_pylist():
                    n += 1
                    yield n, plain(rec), None
        except Exception as exc:  # pragma: no cover - corrupt pages
            raise FormatError(f"{path.name} row {n + 1}: cannot read as Parquet: {exc}") from None

    return RowStream(items(), name=path.name, unit="row")


def _kind(value: object) -> str:
    return {
        list: "an array",
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "a boolean",
        type(None): "null",
    }.get(type(value), type(value).__name__)
