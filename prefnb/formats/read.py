"""``read_pairs``: any supported preference data → the pair table.

Bad rows follow ``pandas.read_csv(on_bad_lines=…)``: ``"error"`` (the default) raises one
:class:`FormatError` listing every bad row with its line, field and reason; ``"warn"`` and
``"skip"`` return the good rows and keep the bad ones in ``df.attrs["prefnb_bad_rows"]``
(see :func:`read_report`).

Example:
    >>> df = read_pairs([{"prompt": "2+2?", "chosen": "4", "rejected": "5"}])
    >>> df[["response_a", "response_b", "label"]].values.tolist(), df.attrs["prefnb_format"]
    ([['4', '5', 'a']], 'trl')
    >>> detect_format([{"prompt": "q", "response_a": "x", "response_b": "y"}])
    'candidates'
    >>> df = read_pairs([{"prompt": "q", "chosen": "x", "rejected": "y"},
    ...                  {"prompt": "q", "chosen": 3, "rejected": "y"}], on_bad_rows="skip")
    >>> len(df), read_report(df).n_skipped
    (1, 1)
"""

from __future__ import annotations

import gc
import hashlib
import html
import itertools
import logging
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import msgspec
import pandas as pd

from prefnb import _json
from prefnb.formats import candidates, hh, multi, pairwise, sharegpt, together, trl
from prefnb.formats.detect import FORMATS, describe_detection, detect_row, known_formats, near_miss
from prefnb.formats.fields import describe
from prefnb.formats.sources import BadRow, FormatError, RowStream, Source, stream_rows
from prefnb.pairs import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    SPLITS,
    STRENGTHS,
    is_missing,
    pair_id,
    pairs_frame,
)

__all__ = [
    "KEY_OPTIONS",
    "ON_BAD_ROWS",
    "BadRowsWarning",
    "OnBadRows",
    "ReadReport",
    "detect_format",
    "read_pairs",
    "read_report",
]

logger = logging.getLogger("prefnb.formats")

OnBadRows = Literal["error", "warn", "skip"]
ON_BAD_ROWS: Final[tuple[str, ...]] = ("error", "warn", "skip")

#: ``read_pairs`` keyword → the column name it maps the source's column to.
KEY_OPTIONS: Final[dict[str, str]] = {
    "prompt_key": "prompt",
    "chosen_key": "chosen",
    "rejected_key": "rejected",
    "label_key": "label",
    "output_1_key": "output_1",
    "output_2_key": "output_2",
    "preference_key": "preference",
    "completions_key": "completions",
    "scores_key": "scores",
}

#: How many bad rows an error message lists before "… and N more".
_LISTED: Final[int] = 50

Converter = Callable[[Mapping[str, Any], str], dict[str, Any]]

_CONVERTERS: dict[str, Converter] = {
    "together": together.to_pair,
    "trl": trl.to_pair,
    "trl_conversational": trl.to_pair,
    "trl_implicit": trl.to_pair,
    "hh": hh.to_pair,
    "sharegpt": sharegpt.to_pair,
    "messages": sharegpt.to_pair,
    "candidates": candidates.to_pair,
    "pairs": candidates.to_pair,
    "pairwise": pairwise.to_pair,
}


class BadRowsWarning(UserWarning):
    """Issued by ``read_pairs(..., on_bad_rows="warn")``: rows were skipped."""


@dataclass(frozen=True)
class ReadReport:
    """What a read kept and what it skipped (``read_report(df)``).

    >>> r = ReadReport("t.jsonl", 9, [BadRow("t.jsonl line 4", 4, "chosen", "must be a string")])
    >>> print(r)
    t.jsonl: read 9 rows, skipped 1 bad row
      t.jsonl line 4: chosen: must be a string
    """

    source: str
    n_read: int
    bad_rows: list[BadRow] = field(default_factory=list)
    #: what a good row is: "row", or "completion" for rated multi-completion files
    noun: str = "row"

    @property
    def n_skipped(self) -> int:
        """Rows left out because they could not be read."""
        return len(self.bad_rows)

    def headline(self) -> str:
        """``t.jsonl: read 9 rows, skipped 1 bad row``."""
        where = f"{self.source}: " if self.source else ""
        read = plural(self.n_read, self.noun)
        return f"{where}read {read}, skipped {plural(self.n_skipped, 'bad row')}"

    def text(self, limit: int = _LISTED) -> str:
        """The headline and the bad rows, at most ``limit`` of them."""
        lines = [self.headline()]
        lines += [f"  {b}" for b in self.bad_rows[:limit]]
        if self.n_skipped > limit:
            lines.append(f"  … and {self.n_skipped - limit} more")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(b.where)}</td><td><code>{html.escape(b.field)}</code></td>"
            f"<td>{html.escape(b.reason)}</td></tr>"
            for b in self.bad_rows[:_LISTED]
        )
        table = (
            "<table><thead><tr><th>where</th><th>field</th><th>reason</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            if rows
            else ""
        )
        return f"<div class='prefnb-read'>{html.escape(self.headline())}{table}</div>"


def plural(n: int, noun: str) -> str:
    """``1 row``, ``2 rows``, ``1 bad row``, ``3 bad rows``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def read_report(df: pd.DataFrame) -> ReadReport:
    """The :class:`ReadReport` of a frame :func:`read_pairs` returned."""
    bad = [
        BadRow(d["where"], d["line"], d["field"], d["reason"])
        for d in df.attrs.get("prefnb_bad_rows", [])
    ]
    noun = "completion" if df.attrs.get("prefnb_format") == "multi" else "row"
    return ReadReport(str(df.attrs.get("prefnb_source", "")), len(df), bad, noun)


def _rename(rec: dict[str, Any], mapping: dict[str, str]) -> str | None:
    """Rename the source's columns to ours; returns the missing one's message, if any."""
    for ours, theirs in mapping.items():
        if theirs not in rec:
            option = next(k for k, v in KEY_OPTIONS.items() if v == ours)
            return f"missing {theirs!r} (given as {option})"
        rec[ours] = rec.pop(theirs)
    return None


def _undetectable(where: str, rec: Mapping[str, Any]) -> FormatError:
    keys = ", ".join(map(repr, rec)) or "none"
    hint = near_miss(set(rec))
    return FormatError(
        f"{where}: cannot tell the format from its keys ({keys})"
        f"{'; ' + hint if hint else ''}. Known formats:\n{known_formats()}\n"
        "Pass format=... and prompt_key=/chosen_key=/rejected_key= (on the command line "
        "--format, --prompt-key, --chosen-key, --rejected-key; for judgment files "
        "--output-1-key, --output-2-key, --preference-key; for rated files "
        "--completions-key, --scores-key) to map other column names.",
        keys=list(rec),
    )


def detect_format(source: Source) -> str:
    """The name of the format :func:`read_pairs` would read ``source`` as."""
    stream = stream_rows(source)
    for pos, rec, _bad in stream:
        if rec is not None:
            fmt = detect_row(rec)
            if fmt is None:
                raise _undetectable(stream.where(pos), rec)
            return fmt
    raise FormatError(f"{stream.name or 'input'}: no rows to read")


def _field_of(exc: FormatError) -> str:
    if exc.field:
        return exc.field
    m = re.search(r"'([A-Za-z_][\w.\[\]-]*)'", str(exc))
    return m.group(1) if m else ""


def _bad(where: str, pos: Any, exc: FormatError) -> BadRow:
    message = str(exc)
    reason = message[len(where) + 2 :] if message.startswith(where + ": ") else message
    return BadRow(where, pos, _field_of(exc), reason)


def _check_surrogates(row: Mapping[str, Any], where: str, pos: Any) -> BadRow | None:
    path = _json.lone_surrogate(dict(row))
    if path is None:
        return None
    return BadRow(
        where,
        pos,
        path,
        f"{path!r} holds a lone surrogate (such as \\ud800): it is not text any UTF-8 file, "
        "Arrow column or tokenizer can hold; fix or drop the row",
    )


def read_pairs(
    source: Source,
    format: str = "auto",
    *,
    prompt_key: str | None = None,
    chosen_key: str | None = None,
    rejected_key: str | None = None,
    label_key: str | None = None,
    output_1_key: str | None = None,
    output_2_key: str | None = None,
    preference_key: str | None = None,
    completions_key: str | None = None,
    scores_key: str | None = None,
    on_bad_rows: OnBadRows = "error",
) -> pd.DataFrame:
    """Read preference data into a pair table (format ``multi``: a long frame, see binarize).

    ``source`` is a path (.jsonl, .json, .csv, .tsv, .parquet, optionally .gz), a DataFrame,
    a list of dicts or a ``datasets.Dataset``. ``format`` is ``"auto"`` or one of
    :data:`FORMATS`; the format used is logged and stored in ``df.attrs["prefnb_format"]``.
    The ``*_key`` arguments name the source's columns when they differ
    (``prompt_key="question"``). Imported preference pairs get the preferred response in
    ``response_a`` and ``label="a"``; unknown columns pass through.

    ``on_bad_rows``: ``"error"`` raises :class:`FormatError` listing every bad row (file,
    line or row, field, reason; also in ``exc.bad_rows``); ``"warn"`` returns the good rows
    and issues a :class:`BadRowsWarning` listing the bad ones; ``"skip"`` returns the good
    rows and logs how many were skipped. Either way the bad rows are in
    ``df.attrs["prefnb_bad_rows"]`` and :func:`read_report` summarizes them. JSON-lines files
    are decoded in blocks, so memory holds the result, not the file.
    """
    if format != "auto" and format not in FORMATS:
        raise FormatError(
            f"unknown format {format!r}; use 'auto' or one of:\n{known_formats()}",
        )
    if on_bad_rows not in ON_BAD_ROWS:
        raise ValueError(
            f"on_bad_rows must be one of {', '.join(ON_BAD_ROWS)}, not {on_bad_rows!r}"
        )
    given = {
        "prompt_key": prompt_key,
        "chosen_key": chosen_key,
        "rejected_key": rejected_key,
        "label_key": label_key,
        "output_1_key": output_1_key,
        "output_2_key": output_2_key,
        "preference_key": preference_key,
        "completions_key": completions_key,
        "scores_key": scores_key,
    }
    mapping = {
        KEY_OPTIONS[opt]: theirs
        for opt, theirs in given.items()
        if theirs is not None and theirs != KEY_OPTIONS[opt]
    }
    stream = stream_rows(source)
    reader = _Reader(stream, format, mapping, check_text=not stream.name)
    # Reading creates millions of small containers that all stay alive: the cyclic garbage
    # collector's full passes over them cost more than the conversion itself on big files,
    # and they hold no cycles. Collection resumes as soon as the frame is built.
    collecting = gc.isenabled()
    gc.disable()
    try:
        df = reader.run()
    finally:
        if collecting:
            gc.enable()
    bad = reader.bad
    if bad and on_bad_rows == "error":
        raise _bad_rows_error(stream, bad, len(df))
    df.attrs["prefnb_format"] = reader.fmt
    df.attrs["prefnb_source"] = stream.name
    df.attrs["prefnb_bad_rows"] = [b.to_dict() for b in bad]
    df.attrs["prefnb_duplicates_dropped"] = reader.dropped
    if reader.detection:
        df.attrs["prefnb_detected"] = reader.detection
    if bad:
        report = read_report(df)
        if on_bad_rows == "warn":
            warnings.warn(report.text(), BadRowsWarning, stacklevel=2)
        logger.warning("%s", report.headline())
    return df


def _bad_rows_error(stream: RowStream, bad: list[BadRow], n_good: int) -> FormatError:
    field = bad[0].field or None
    if len(bad) == 1:
        return FormatError(str(bad[0]), field=field, bad_rows=bad)
    listed = "\n".join(f"  {b}" for b in bad[:_LISTED])
    more = (
        f"\n  … and {len(bad) - _LISTED} more (all in the error's bad_rows)"
        if len(bad) > _LISTED
        else ""
    )
    return FormatError(
        f"{stream.name or 'input'}: {plural(len(bad), 'bad row')} ({n_good} good); pass "
        "on_bad_rows='skip' or 'warn' (--on-bad-rows on the command line) to read the "
        f"good rows:\n{listed}{more}",
        field=field,
        bad_rows=bad,
    )


class _Reader:
    """One read: detection on the first readable row, conversion, dedup, the frame."""

    def __init__(
        self, stream: RowStream, format: str, mapping: dict[str, str], *, check_text: bool
    ) -> None:
        self.stream = stream
        self.fmt = format
        self.mapping = mapping
        self.check_text = check_text  # in-memory sources: look for lone surrogates
        self.bad: list[BadRow] = []
        self.dropped = 0
        self.detection = ""

    def _records(self) -> Iterator[tuple[Any, str, dict[str, Any]]]:
        stream = self.stream
        prefix = f"{stream.name} {stream.unit} " if stream.name else f"{stream.unit} "
        for pos, rec, bad in stream:
            if bad is not None:
                self.bad.append(bad)
                continue
            assert rec is not None
            where = prefix + str(pos)  # what stream.where(pos) says, without the call
            if self.mapping:
                missing = _rename(rec, self.mapping)
                if missing is not None:
                    self.bad.append(BadRow(where, pos, missing.split("'")[1], missing))
                    continue
            if self.fmt == "auto":
                fmt = detect_row(rec)
                if fmt is None:
                    raise _undetectable(where, rec)
                self.fmt = fmt
                self.detection = f"{where}: {describe_detection(rec, fmt)}"
                logger.info("%s", self.detection)
            yield pos, where, rec

    def run(self) -> pd.DataFrame:
        records = self._records()
        first = next(records, None)
        if first is None:
            if self.bad:
                return pairs_frame([])
            raise FormatError(f"{self.stream.name or 'input'}: no rows to read")

        all_records = itertools.chain((first,), records)
        if self.fmt == "multi":
            return self._long(all_records)
        return self._pairs(all_records, _CONVERTERS[self.fmt])

    def _long(self, records: Iterator[tuple[Any, str, dict[str, Any]]]) -> pd.DataFrame:
        long_rows: list[dict[str, Any]] = []
        groups = 0
        for pos, where, rec in records:
            try:
                rows = multi.to_long(rec, where, groups)
            except FormatError as exc:
                self.bad.append(_bad(where, pos, exc))
                continue
            groups += 1
            long_rows.extend(rows)
        logger.info(
            "read %d completions in %d groups from %s as format 'multi'",
            len(long_rows),
            groups,
            self.stream.name or "input",
        )
        return pd.DataFrame(long_rows)

    def _pairs(
        self, records: Iterator[tuple[Any, str, dict[str, Any]]], convert: Converter
    ) -> pd.DataFrame:
        out = _RowColumns()
        first_seen: dict[str, int] = {}  # pair id → row (its source position: out.positions)
        dropped = 0
        texts = _TextColumns()
        for pos, where, rec in records:
            try:
                row = convert(rec, where)
                pid = _row_id(row, where)
            except FormatError as exc:
                self.bad.append(_bad(where, pos, exc))
                continue
            if self.check_text:
                surrogate = _check_surrogates(row, where, pos)
                if surrogate is not None:
                    self.bad.append(surrogate)
                    continue
            problem = _optional_problem(row) if not _OPTIONAL.isdisjoint(row) else None
            if problem is not None:
                self.bad.append(BadRow(where, pos, problem[0], problem[1]))
                continue
            if pid in first_seen:
                j = first_seen[pid]
                first_where = self.stream.where(out.positions[j])
                first_label = out.columns["label"][j]
                if first_label != row["label"]:
                    self.bad.append(
                        BadRow(
                            where,
                            pos,
                            "label",
                            f"same pair as {first_where} (pair_id {pid}) but labeled "
                            f"{row['label']!r} there {first_label!r}; remove one so no "
                            "label is silently lost",
                        )
                    )
                    continue
                dropped += 1
                continue
            first_seen[pid] = out.n
            texts.add(row)
            out.add(row, pos)
        self.dropped = dropped
        if dropped:
            logger.warning(
                "%s: dropped %d duplicate pair(s) (same prompt and responses as an earlier row)",
                self.stream.name or "input",
                dropped,
            )
        # No check_pairs pass over the frame: the converters return message-list prompts,
        # string responses and known labels, ids are unique after the dedup above and
        # optional columns were checked per row, so every row already fits the schema.
        df = out.frame()
        texts.into(df)
        logger.info(
            "read %d pairs from %s as format %r", len(df), self.stream.name or "input", self.fmt
        )
        return df


class _TextColumns:
    """The id and response columns, moved out of the rows into Arrow chunks as rows arrive.

    Responses are most of a file's bytes: holding them as Python strings until the frame
    is built, and then again as the frame's Arrow strings, tripled peak memory. Chunks
    become the frame's columns without another copy.
    """

    COLUMNS: Final = ("pair_id", "response_a", "response_b")
    CHUNK: Final = 4096  # measured: 16384 pending rows of text raised the peak ~15 MB per 100k rows

    def __init__(self) -> None:
        self.pending: dict[str, list[str]] = {c: [] for c in self.COLUMNS}
        self.chunks: dict[str, list[Any]] = {c: [] for c in self.COLUMNS}
        self.n = 0

    def add(self, row: dict[str, Any]) -> None:
        for c in self.COLUMNS:
            self.pending[c].append(row.pop(c))
        self.n += 1
        if self.n % self.CHUNK == 0:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        for c in self.COLUMNS:
            if self.pending[c]:
                self.chunks[c].append(pa.array(self.pending[c], type=pa.large_string()))
                self.pending[c] = []

    def into(self, df: pd.DataFrame) -> None:
        if not self.n:
            return
        import pyarrow as pa

        self._flush()
        dtype = pd.Series(["x"]).dtype  # what pandas gives text columns (Arrow-backed str)
        for c in self.COLUMNS:
            chunked = pa.chunked_array(self.chunks[c], type=pa.large_string())
            self.chunks[c] = []
            if isinstance(dtype, pd.StringDtype):
                df[c] = pd.array(chunked, dtype=dtype)
            else:  # pragma: no cover - pandas without Arrow-backed strings
                df[c] = chunked.to_pylist()


_ID_ENCODER: Final = msgspec.json.Encoder(order="sorted")


def fast_pair_id(prompt: list[Any], response_a: str, response_b: str) -> str:
    """:func:`prefnb.pairs.pair_id`, byte for byte, with msgspec doing the JSON.

    For message lists with string contents msgspec's sorted, compact output equals
    ``json.dumps(..., ensure_ascii=False, sort_keys=True, separators=(",", ":"))`` (tested
    over every code point outside the surrogates); anything else takes the reference path.

    >>> fast_pair_id([{"role": "user", "content": "q"}], "x", "y") == pair_id("q", "x", "y")
    True
    """
    messages = prompt
    for m in prompt:
        if type(m) is not dict or type(m.get("content")) is not str:
            return pair_id(prompt, response_a, response_b)
        if len(m) != 2:  # extra keys (name, weight …) do not count: drop them
            messages = [{"role": m["role"], "content": m["content"]} for m in prompt]
            break
    try:
        canonical = _ID_ENCODER.encode([messages, response_a, response_b])
    except (msgspec.EncodeError, TypeError, UnicodeEncodeError):
        return pair_id(prompt, response_a, response_b)  # a lone surrogate: surrogatepass
    return hashlib.sha256(canonical).digest()[:8].hex()


_OPTIONAL: Final[frozenset[str]] = frozenset(OPTIONAL_COLUMNS)


def _optional_problem(row: Mapping[str, Any]) -> tuple[str, str] | None:
    """The first optional pair-table column of ``row`` that breaks the schema, and why.

    The same rules as :func:`prefnb.check_pairs`, per row, so a bad value is a bad row.
    """
    for column, kind in OPTIONAL_COLUMNS.items():
        if column not in row or is_missing(value := row[column]):
            continue
        allowed = {"strength": STRENGTHS, "split": SPLITS}.get(kind)
        if allowed is not None and value not in allowed:
            return column, f"column {column!r} must be one of {', '.join(allowed)} or missing"
        if allowed is None and not isinstance(value, str):
            return column, f"column {column!r} must hold strings or be missing"
    return None


def _row_id(row: dict[str, Any], where: str) -> str:
    pid = row.get("pair_id")
    if isinstance(pid, int) and not isinstance(pid, bool):
        pid = row["pair_id"] = str(pid)  # numeric ids from other tools: keep, as text
    if is_missing(pid) or pid == "":
        pid = row["pair_id"] = fast_pair_id(row["prompt"], row["response_a"], row["response_b"])
    elif not isinstance(pid, str):
        raise FormatError(
            f"{where}: 'pair_id' must be a string, got {describe(pid)}", field="pair_id"
        )
    return pid


class _RowColumns:
    """Converted rows (minus the text columns) as one list per column, as rows arrive.

    Keeping a dict per row until the frame is built held ~350 bytes per row on top of
    the values (a dict keeps the size it had before the texts were popped), and building
    the columns from them needed another list per column: a third of the peak memory of
    reading a file. Columns appear in the order :func:`~prefnb.pairs_frame` gives: the
    required ones, then others as first seen; a row without a column gets NaN there, as
    pandas fills a missing key.
    """

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {
            c: [] for c in REQUIRED_COLUMNS if c not in _TextColumns.COLUMNS
        }
        self.positions: list[Any] = []
        self.n = 0

    def add(self, row: dict[str, Any], pos: Any) -> None:
        columns = self.columns
        n = self.n
        for key, value in row.items():
            col = columns.get(key)
            if col is None:
                col = columns[key] = [_NAN] * n
            col.append(value)
        if len(row) != len(columns):  # some column got no value from this row
            for col in columns.values():
                if len(col) == n:
                    col.append(_NAN)
        self.positions.append(pos)
        self.n = n + 1

    def frame(self) -> pd.DataFrame:
        """The pair table; the text columns are placeholders for :class:`_TextColumns`."""
        if not self.n:
            return pairs_frame([])
        columns = self.columns
        placeholder = [_NAN] * self.n
        data = {c: columns.pop(c) if c in columns else placeholder for c in REQUIRED_COLUMNS}
        data.update(columns)
        self.columns = {}
        df = pd.DataFrame(data)
        df["label"] = df["label"].astype(object).where(df["label"].notna(), None)
        return df


_NAN: Final = float("nan")  # what pandas fills a missing key with
