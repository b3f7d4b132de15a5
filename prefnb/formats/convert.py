"""Convert a JSON-lines preference file to DPO, SFT or TRL JSONL in constant memory.

:func:`convert_lines` reads the input block by block, converts each row, builds its line with
the same record functions as :func:`prefnb.export_dpo`, checks every batch of lines with the
validator before writing it, and writes through :func:`prefnb.atomic.atomic_write`: the output
appears whole or not at all. Memory holds one block, one batch and a few numbers per line
(the validator's dataset statistics, about 40 bytes), not the file.

Duplicate pairs (same prompt and responses as an earlier row) are dropped, as
:func:`prefnb.read_pairs` drops them: the duplicate lines are found from those statistics once
the file is written, and removed from the temporary file in place before it is renamed.

Only formats whose rows are always "chosen over rejected" stream (``together``, ``trl*``,
``hh``, ``sharegpt``, ``messages``); :data:`STREAMABLE` lists them. Other inputs go through
:func:`prefnb.read_pairs` and the exporters.

Example:
    >>> import json, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "in.jsonl").write_text(json.dumps({"prompt": "q", "chosen": "x",
    ...                                             "rejected": "y"}) + "\\n")
    >>> r = convert_lines(d / "in.jsonl", d / "out.jsonl")
    >>> r.written, r.format
    (1, 'trl')
"""

from __future__ import annotations

import bisect
import os
from array import array
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Final

import numpy as np

from prefnb import _json
from prefnb.atomic import atomic_write
from prefnb.formats.detect import detect_row
from prefnb.formats.read import (
    _CONVERTERS,
    KEY_OPTIONS,
    ON_BAD_ROWS,
    OnBadRows,
    _bad,
    _bad_rows_error,
    _rename,
    _undetectable,
    plural,
)
from prefnb.formats.sources import BadRow, FormatError, stream_rows
from prefnb.pairs import pair_id
from prefnb.records import pair_to_dpo, pair_to_sft, prompt_messages
from prefnb.validation.checker import LineChecker
from prefnb.validation.report import Finding
from prefnb.validation.warnings import dataset_findings

__all__ = ["STREAMABLE", "ConvertResult", "convert_lines", "streams"]

#: Formats whose every row is a preference "chosen over rejected" (label ``a``).
STREAMABLE: Final[frozenset[str]] = frozenset(
    {"together", "trl", "trl_conversational", "trl_implicit", "hh", "sharegpt", "messages"}
)
_LINE_SUFFIXES: Final[tuple[str, ...]] = (".jsonl", ".ndjson", ".jsonlines")
#: Lines converted and checked per batch.
_BATCH: Final[int] = 2048


@dataclass
class ConvertResult:
    """What :func:`convert_lines` wrote, skipped and left out."""

    path: Path
    format: str
    to: str
    written: int = 0
    #: rows read and converted (bad rows not counted)
    n_read: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)
    invalid: int = 0
    duplicates: int = 0
    warnings: list[Finding] = field(default_factory=list)

    def summary(self) -> str:
        """``wrote 3 DPO lines to out.jsonl (train)`` and what was left out."""
        kind = "TRL row" if self.to == "trl" else f"{self.to.upper()} line"
        left = {"invalid": self.invalid, "duplicate": self.duplicates}
        parts = ", ".join(f"{n} {k}" for k, n in left.items() if n)
        total = sum(left.values())
        return f"wrote {plural(self.written, kind)} to {self.path} (train)\n" + (
            f"left out {plural(total, 'row')}: {parts}" if total else "left out nothing"
        )


def streams(path: str | os.PathLike[str], fmt: str = "auto", **keys: str) -> str | None:
    """The format ``path`` would stream as, or None when it must be read whole."""
    p = Path(path)
    name = p.name.lower().removesuffix(".gz")
    if not name.endswith(_LINE_SUFFIXES):
        return None
    if fmt != "auto":
        return fmt if fmt in STREAMABLE else None
    mapping = {KEY_OPTIONS[k]: v for k, v in keys.items() if v is not None}
    for _pos, rec, _bad_row in stream_rows(p):
        if rec is not None:
            if mapping and _rename(rec, mapping) is not None:
                return None
            found = detect_row(rec)
            return found if found in STREAMABLE else None
    return None


def _line_maker(to: str) -> Callable[[Mapping[str, Any]], Any]:
    if to == "dpo":
        return pair_to_dpo
    if to == "sft":
        return pair_to_sft

    def trl(row: Mapping[str, Any]) -> Any:
        return {
            "prompt": prompt_messages(row["prompt"]),
            "chosen": [{"role": "assistant", "content": row["response_a"]}],
            "rejected": [{"role": "assistant", "content": row["response_b"]}],
        }

    return trl


def convert_lines(
    source: str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    to: str = "dpo",
    format: str = "auto",
    profile: str = "together",
    on_bad_rows: OnBadRows = "error",
    on_invalid: str = "raise",
    **keys: str | None,
) -> ConvertResult:
    """Stream ``source`` (JSON lines) into ``path`` (JSONL) as ``to`` (dpo, sft or trl).

    ``on_bad_rows`` is :func:`prefnb.read_pairs`' option; ``on_invalid`` ("raise" or
    "drop") is the exporters'. With "error"/"raise" a bad row or invalid line raises after
    the whole file was read (listing every bad row) and nothing is written.
    """
    if on_bad_rows not in ON_BAD_ROWS:
        raise ValueError(f"on_bad_rows must be one of {', '.join(ON_BAD_ROWS)}")
    if on_invalid not in ("raise", "drop"):
        raise ValueError(f"on_invalid must be 'raise' or 'drop', got {on_invalid!r}")
    target = Path(path)
    if target.suffix != ".jsonl":
        raise ValueError(f"{target}: Together accepts only .jsonl files; name the file *.jsonl")
    mapping = {KEY_OPTIONS[k]: v for k, v in keys.items() if v is not None}
    stream = stream_rows(source)
    if stream.unit != "line":
        raise FormatError(f"{stream.name}: only JSON-lines files convert as a stream")
    result = _Run(stream, target, to, format, profile, on_invalid, mapping)
    with atomic_write(target) as out:
        result.write(out)
        if result.bad and on_bad_rows == "error":
            raise _bad_rows_error(stream, result.bad, result.n_converted)
        result.drop_duplicates(out)
        result.dataset_warnings()
    res = result.result
    res.bad_rows = result.bad
    res.n_read = result.n_converted
    return res


class _Run:
    def __init__(
        self,
        stream: Any,
        target: Path,
        to: str,
        fmt: str,
        profile: str,
        on_invalid: str,
        mapping: dict[str, str],
    ) -> None:
        self.stream = stream
        self.to = to
        self.fmt = fmt
        self.on_invalid = on_invalid
        self.mapping = mapping
        self.make = _line_maker(to)
        self.checker = (
            LineChecker("together" if to == "sft" else profile, max_errors=2**62, file=None)
            if to != "trl"
            else None
        )
        self.bad: list[BadRow] = []
        self.n_converted = 0
        self.candidate = 0  # lines handed to the checker, numbered from 1
        self.dropped: list[int] = []  # candidate numbers left out as invalid
        self.trl_hashes: list[int] = []
        self.result = ConvertResult(target, fmt, to)

    def _rows(self) -> Iterator[bytes]:
        convert = None
        for pos, rec, bad in self.stream:
            if bad is not None:
                self.bad.append(bad)
                continue
            where = self.stream.where(pos)
            if self.mapping:
                missing = _rename(rec, self.mapping)
                if missing is not None:
                    self.bad.append(BadRow(where, pos, missing.split("'")[1], missing))
                    continue
            if convert is None:
                if self.fmt == "auto":
                    found = detect_row(rec)
                    if found is None:
                        raise _undetectable(where, rec)
                    self.fmt = found
                if self.fmt not in STREAMABLE:
                    raise FormatError(
                        f"{where}: format {self.fmt!r} does not convert as a stream; "
                        "use prefnb.read_pairs and prefnb.export_dpo"
                    )
                self.result.format = self.fmt
                convert = _CONVERTERS[self.fmt]
            try:
                row = convert(rec, where)
                line = _json.dumps(self.make(row))
            except FormatError as exc:
                self.bad.append(_bad(where, pos, exc))
                continue
            except (TypeError, ValueError) as exc:  # a lone surrogate cannot be encoded
                self.bad.append(BadRow(where, pos, "", f"cannot be written as JSON: {exc}"))
                continue
            self.n_converted += 1
            if self.checker is None:
                self.trl_hashes.append(
                    hash(pair_id(row["prompt"], row["response_a"], row["response_b"]))
                )
            yield line

    def write(self, out: BinaryIO) -> None:
        batch: list[bytes] = []
        for line in self._rows():
            batch.append(line)
            if len(batch) >= _BATCH:
                self._flush(batch, out)
                batch = []
        if batch:
            self._flush(batch, out)

    def dataset_warnings(self) -> None:
        """Dataset-level warnings (length bias, empty outputs …) once the file is final."""
        if self.checker is None:
            return
        stats = self.checker.stats
        # duplicates were dropped and there is no validation file to overlap with: free the
        # hashes before the warnings' own arrays are built, so the peak stays low
        stats.pair_hash = array("q")
        stats.prompt_hash = array("q")
        found = self.checker.findings + dataset_findings(stats, file=str(self.result.path))
        self.result.warnings = [f for f in found if f.severity == "warning"]

    def _flush(self, batch: list[bytes], out: BinaryIO) -> None:
        first = self.candidate + 1
        self.candidate += len(batch)
        checker = self.checker
        if checker is None:
            out.write(b"\n".join(batch) + b"\n")
            self.result.written += len(batch)
            return
        before = len(checker.findings)
        checker.check_block(b"\n".join(batch) + b"\n", first_line=first, start=0, at_eof=False)
        new = checker.findings[before:]
        errors = [f for f in new if f.severity == "error"]
        if errors and self.on_invalid == "raise":
            f = errors[0]
            raise FormatError(
                f"{self.stream.name}: converted row {f.line} would be an invalid "
                f"{self.to.upper()} line ({f.path}: [{f.code}] {f.message}); nothing was "
                "written. Pass on_invalid='drop' (--drop-invalid) to leave such rows out."
            )
        bad = sorted({f.line for f in errors if f.line is not None})
        # line-level errors are handled here, not kept: memory stays flat on a bad file
        del checker.findings[before:]
        checker.findings += [f for f in new if f.severity == "warning"]
        if bad:
            self.dropped += bad
            self.result.invalid += len(bad)
            skip = {n - first for n in bad}
            batch = [b for i, b in enumerate(batch) if i not in skip]
        if batch:
            out.write(b"\n".join(batch) + b"\n")
            self.result.written += len(batch)

    def _duplicate_lines(self) -> list[int]:
        """0-based lines of the written file that repeat an earlier pair."""
        if self.checker is not None:
            stats = self.checker.stats
            hashes = np.frombuffer(stats.pair_hash, dtype=np.int64)
            lines = np.frombuffer(stats.lines, dtype=np.int64)
        else:
            hashes = np.asarray(self.trl_hashes, dtype=np.int64)
            lines = np.arange(1, len(hashes) + 1, dtype=np.int64)
        if len(hashes) < 2:
            return []
        # a stable sort keeps equal hashes in file order: in each run of equal hashes every
        # one but the first repeats an earlier pair (two n-sized arrays, no more)
        order = np.argsort(hashes, kind="stable")
        ordered = hashes[order]
        repeat = order[1:][ordered[1:] == ordered[:-1]]
        del ordered
        # candidate numbers → lines of the file: invalid candidates were never written
        return sorted(
            int(lines[i]) - 1 - bisect.bisect_left(self.dropped, int(lines[i])) for i in repeat
        )

    def drop_duplicates(self, out: BinaryIO) -> None:
        dups = self._duplicate_lines()
        if not dups:
            return
        out.flush()
        fd = out.fileno()
        size = os.fstat(fd).st_size
        drop = set(dups)
        read_at = write_at = 0
        line = 0
        rest = b""
        # compact the temporary file in place: writing never overtakes reading
        while read_at < size or rest:
            chunk = os.pread(fd, 1 << 20, read_at) if read_at < size else b""
            read_at += len(chunk)
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            if not chunk:
                cut = len(data)
            whole, rest = data[:cut], data[cut:]
            kept = []
            for raw in whole.splitlines(keepends=True):
                if line not in drop:
                    kept.append(raw)
                line += 1
            blob = b"".join(kept)
            os.pwrite(fd, blob, write_at)
            write_at += len(blob)
            if not chunk:
                break
        os.ftruncate(fd, write_at)
        out.seek(write_at)
        self.result.duplicates = len(dups)
        self.result.written -= len(dups)
