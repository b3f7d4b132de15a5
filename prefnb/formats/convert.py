"""Convert a JSON-lines preference file to DPO, SFT or TRL JSONL in constant memory.

:func:`convert_lines` reads the input block by block, converts each row, builds its line with
the same record functions as :func:`prefnb.export_dpo`, checks every batch of lines with the
validator before writing it, and writes through :func:`prefnb.atomic.atomic_write`: the output
appears whole or not at all. Memory holds one block, one batch and a few numbers per line
(the validator's dataset statistics, about 40 bytes), not the file.

Duplicate pairs (same prompt and responses as an earlier row) are dropped, as
:func:`prefnb.read_pairs` drops them: the duplicate lines are found from those statistics once
the file is written, and removed from the temporary file in place before it is renamed.

A validation split (``validation_path`` and ``val_fraction``) streams too: each written line
keeps 8 bytes of its prompt's key, the split is chosen from those keys exactly as
:func:`prefnb.export_dpo` chooses it (:func:`prefnb.export.validation_groups`), and the same
in-place pass that drops duplicates moves the validation lines to their own temporary file.
Both files are renamed only once both are complete.

Every JSON-lines format streams (:data:`STREAMABLE`). Rows of labeled formats (pairwise
judgments, candidates, pair tables) that are ties, ``both_bad``, ``skip`` or unlabeled write no
line and are counted as export counts them; a pair read again is dropped when its label is
the same and is a bad row when it differs, as in :func:`prefnb.read_pairs`. Each row of a rated
multi-completion file (``multi``) is binarized on its own as it is read
(:func:`prefnb.formats.binarize.group_pairs`, the same pairs :func:`~prefnb.formats.binarize`
makes). JSON arrays, CSV and Parquet go through :func:`prefnb.read_pairs` and the exporters.

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
import contextlib
import os
from array import array
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Final

import numpy as np

from prefnb import _json
from prefnb.atomic import atomic_write
from prefnb.export import (
    _EMPTY_CODES,
    _check_args,
    _left_out_reason,
    _prompt_key,
    validation_groups,
)
from prefnb.formats import multi
from prefnb.formats.binarize import STRATEGIES, group_pairs
from prefnb.formats.detect import detect_row
from prefnb.formats.read import (
    _CONVERTERS,
    _OPTIONAL,
    KEY_OPTIONS,
    ON_BAD_ROWS,
    OnBadRows,
    _bad,
    _bad_rows_error,
    _optional_problem,
    _rename,
    _row_id,
    _undetectable,
    plural,
)
from prefnb.formats.sources import BadRow, FormatError, stream_rows
from prefnb.pairs import LABELS
from prefnb.records import pair_to_dpo, pair_to_sft, preferred_and_rejected, prompt_messages
from prefnb.validation.checker import LineChecker
from prefnb.validation.report import Finding
from prefnb.validation.warnings import PairStats, dataset_findings

__all__ = ["STREAMABLE", "ConvertResult", "convert_lines", "streams"]

#: Formats that convert row by row: each row is a pair (preference formats, pairwise
#: judgments, candidate and pair-table files) or, for ``multi``, one prompt's rated
#: completions, binarized on their own.
STREAMABLE: Final[frozenset[str]] = frozenset(
    {
        "together",
        "trl",
        "trl_conversational",
        "trl_implicit",
        "hh",
        "sharegpt",
        "messages",
        "pairwise",
        "candidates",
        "pairs",
        "multi",
    }
)
#: Reasons a readable row writes no line, as export counts them (``invalid`` comes later).
_LABEL_REASONS: Final[tuple[str, ...]] = ("tie", "both_bad", "skip", "unlabeled")
#: A row's label as one byte: LABELS in order, then "missing". Codes below _WRITES (a, b)
#: make a line.
_LABEL_CODE: Final[dict[str | None, int]] = {
    **{label: i for i, label in enumerate(LABELS)},
    None: len(LABELS),
}
_WRITES: Final[int] = 2
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
    #: rows read and converted (bad rows not counted; for ``multi``, the prompts read)
    n_read: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)
    invalid: int = 0
    duplicates: int = 0
    #: rows that write no line, by export's reasons: tie, both_bad, skip, unlabeled,
    #: empty_output (``invalid`` and ``duplicates`` are counted above)
    left_out: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys((*_LABEL_REASONS, "empty_output"), 0)
    )
    #: format ``multi``: the prompts read and the pairs binarization made of them
    binarized: tuple[int, int] | None = None
    warnings: list[Finding] = field(default_factory=list)
    #: the validation split's file and lines, when one was asked for
    validation_path: Path | None = None
    written_validation: int = 0

    def summary(self) -> str:
        """``wrote 3 DPO lines to out.jsonl (train)`` and what was left out."""
        kind = "TRL row" if self.to == "trl" else f"{self.to.upper()} line"
        left = {
            **self.left_out,
            "invalid": self.invalid,
            "duplicate": self.duplicates,
        }
        parts = ", ".join(f"{n} {k}" for k, n in left.items() if n)
        total = sum(left.values())
        val = (
            f"wrote {plural(self.written_validation, kind)} to {self.validation_path} "
            "(validation)\n"
            if self.validation_path is not None
            else ""
        )
        return f"wrote {plural(self.written, kind)} to {self.path} (train)\n{val}" + (
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
        both = preferred_and_rejected(row)
        if both is None:
            return None
        return {
            "prompt": prompt_messages(row["prompt"]),
            "chosen": [{"role": "assistant", "content": both[0]}],
            "rejected": [{"role": "assistant", "content": both[1]}],
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
    validation_path: str | os.PathLike[str] | None = None,
    val_fraction: float = 0.0,
    seed: int = 0,
    binarize: str = "best_vs_worst",
    **keys: str | None,
) -> ConvertResult:
    """Stream ``source`` (JSON lines) into ``path`` (JSONL) as ``to`` (dpo, sft or trl).

    ``on_bad_rows`` is :func:`prefnb.read_pairs`' option; ``on_invalid`` ("raise" or
    "drop") is the exporters'. With "error"/"raise" a bad row or invalid line raises after
    the whole file was read (listing every bad row) and nothing is written.
    ``validation_path``, ``val_fraction`` and ``seed`` split off a validation file by
    prompt, as :func:`prefnb.export_dpo` does (same rows, same split); DPO and SFT only.
    ``binarize`` is the strategy that turns each row of a rated multi-completion file
    (format ``multi``) into pairs, as :func:`prefnb.formats.binarize` does with seed 0.
    """
    if on_bad_rows not in ON_BAD_ROWS:
        raise ValueError(f"on_bad_rows must be one of {', '.join(ON_BAD_ROWS)}")
    if binarize not in STRATEGIES:
        raise ValueError(f"binarize must be one of {', '.join(STRATEGIES)}, got {binarize!r}")
    target, val_target = _check_args(path, validation_path, val_fraction, on_invalid)
    if val_target is not None and to == "trl":
        raise ValueError("a validation split is written for to='dpo' and to='sft' only")
    mapping = {KEY_OPTIONS[k]: v for k, v in keys.items() if v is not None}
    stream = stream_rows(source)
    if stream.unit != "line":
        raise FormatError(f"{stream.name}: only JSON-lines files convert as a stream")
    result = _Run(stream, target, to, format, profile, on_invalid, mapping, val_target, binarize)
    with contextlib.ExitStack() as stack:
        # both temporaries are complete before either is renamed (as the stack unwinds)
        out = stack.enter_context(atomic_write(target))
        val_out = stack.enter_context(atomic_write(val_target)) if val_target else None
        result.write(out)
        result.resolve_repeats()
        if result.bad and on_bad_rows == "error":
            raise _bad_rows_error(stream, result.bad, result.n_converted)
        if val_out is None:
            result.drop_duplicates(out)
            result.dataset_warnings()
        else:
            result.split(out, val_out, val_fraction, seed)
    res = result.result
    res.bad_rows = result.bad
    # rows of the file read: for a rated file, its prompts (each made 0 or more pairs)
    res.n_read = result.n_converted if res.binarized is None else res.binarized[0]
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
        val_target: Path | None = None,
        strategy: str = "best_vs_worst",
    ) -> None:
        self.stream = stream
        self.to = to
        self.fmt = fmt
        self.on_invalid = on_invalid
        self.mapping = mapping
        self.strategy = strategy
        self.make = _line_maker(to)
        self.checker = (
            LineChecker(
                "together" if to == "sft" else profile,
                max_errors=2**62,
                file=None,
                # repeated pairs are found by pair id (resolve_repeats), not by the checker
                stats=PairStats(keys=False),
            )
            if to != "trl"
            else None
        )
        self.bad: list[BadRow] = []
        self.n_converted = 0
        self.candidate = 0  # lines handed to the checker, numbered from 1
        self.dropped: list[int] = []  # candidate numbers left out as invalid
        self.dropped_empty: list[int] = []  # ... of them, those left out as empty_output
        # Per pair read, 13 bytes to find repeated pairs once the file is written, as
        # read_pairs finds them: a hash of its pair id, its label (a and b write a line,
        # the next candidate; other labels none) and where it was read.
        self.row_hashes: array[int] = array("q")
        self.row_labels: array[int] = array("b")
        self.row_pos: array[int] = array("I")  # 4 bytes a row; widened past 2**32 lines
        self.remove: list[int] = []  # 0-based lines of the written file to take out again
        self.result = ConvertResult(target, fmt, to, validation_path=val_target)
        #: with a validation split: the prompt key of every line written, in file order
        self.keys: array[int] | None = array("Q") if val_target is not None else None

    def _pairs(self) -> Iterator[tuple[int, str, dict[str, Any]]]:
        """(position, where, pair row) of every readable pair, in file order."""
        convert = None
        groups = 0  # format multi: rows read, as read_pairs numbers its groups
        made = 0
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
                convert = _CONVERTERS.get(self.fmt)
            try:
                if convert is not None:
                    yield pos, where, convert(rec, where)
                    continue
                long = multi.to_long(rec, where, groups)
            except FormatError as exc:
                self.bad.append(_bad(where, pos, exc))
                continue
            groups += 1
            has_model = any("model" in r for r in long)
            for row in group_pairs(long, groups - 1, self.strategy, 0.0, 0, [], has_model):
                made += 1
                yield pos, where, row
            self.result.binarized = (groups, made)

    def _rows(self) -> Iterator[tuple[bytes, int]]:
        for pos, where, row in self._pairs():
            try:
                pid = _row_id(row, where)
            except FormatError as exc:
                self.bad.append(_bad(where, pos, exc))
                continue
            problem = _optional_problem(row) if not _OPTIONAL.isdisjoint(row) else None
            if problem is not None:
                self.bad.append(BadRow(where, pos, problem[0], problem[1]))
                continue
            try:
                record = self.make(row)
                line = _json.dumps(record) if record is not None else None
            except (TypeError, ValueError) as exc:  # a lone surrogate cannot be encoded
                self.bad.append(BadRow(where, pos, "", f"cannot be written as JSON: {exc}"))
                continue
            self.n_converted += 1
            self.row_hashes.append(hash(pid))
            self.row_labels.append(_LABEL_CODE.get(row.get("label"), len(LABELS)))
            self._keep_pos(pos if isinstance(pos, int) else 0)
            if line is None:  # a tie, both_bad, skip or unlabeled pair: no line
                self.result.left_out[_left_out_reason(row.get("label"))] += 1
                continue
            yield line, self._prompt_of(record)

    def _keep_pos(self, pos: int) -> None:
        try:
            self.row_pos.append(pos)
        except OverflowError:
            self.row_pos = array("q", self.row_pos)
            self.row_pos.append(pos)

    def _prompt_of(self, record: Any) -> int:
        """The first 8 bytes of export's prompt key (0 when there is no split to make).

        Their order is the order of export's hex keys, so the groups sort alike.
        """
        if self.keys is None:
            return 0
        messages = record["input"]["messages"] if self.to == "dpo" else record["messages"][:-1]
        return int(_prompt_key(messages)[:16], 16)

    def write(self, out: BinaryIO) -> None:
        batch: list[bytes] = []
        keys: list[int] = []
        for line, key in self._rows():
            batch.append(line)
            keys.append(key)
            if len(batch) >= _BATCH:
                self._flush(batch, keys, out)
                batch, keys = [], []
        if batch:
            self._flush(batch, keys, out)

    def dataset_warnings(self) -> None:
        """Dataset-level warnings (length bias, empty outputs …) once the file is final."""
        if self.checker is None:
            return
        stats = self.checker.stats  # no hashes kept: duplicates were dropped, one file
        found = self.checker.findings + dataset_findings(stats, file=str(self.result.path))
        self.result.warnings = [f for f in found if f.severity == "warning"]

    def _flush(self, batch: list[bytes], keys: list[int], out: BinaryIO) -> None:
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
            where = self._where_candidate(f.line) if f.line else str(self.stream.name)
            raise FormatError(
                f"{where} would make an invalid {self.to.upper()} line ({f.path}: "
                f"[{f.code}] {f.message}); nothing was written. Pass on_invalid='drop' "
                "(--drop-invalid) to leave such rows out."
            )
        bad = sorted({f.line for f in errors if f.line is not None})
        # line-level errors are handled here, not kept: memory stays flat on a bad file
        del checker.findings[before:]
        checker.findings += [f for f in new if f.severity == "warning"]
        if bad:
            self.dropped += bad
            # as export counts them: a line whose only errors are empty outputs is
            # empty_output, any other error makes it invalid
            not_empty = {f.line for f in errors if f.code not in _EMPTY_CODES}
            empty = [n for n in bad if n not in not_empty]
            self.dropped_empty += empty
            self.result.left_out["empty_output"] += len(empty)
            self.result.invalid += len(bad) - len(empty)
            skip = {n - first for n in bad}
            batch = [b for i, b in enumerate(batch) if i not in skip]
            keys = [k for i, k in enumerate(keys) if i not in skip]
        if self.keys is not None:
            self.keys.extend(keys)
        if batch:
            out.write(b"\n".join(batch) + b"\n")
            self.result.written += len(batch)

    def resolve_repeats(self) -> None:
        """Find pairs read again, as read_pairs finds them, once every row was read.

        A pair whose id an earlier row had is dropped when its label is the same (a
        duplicate) and is a bad row when it differs (the first row's label would otherwise
        be silently lost). Their written lines go to :attr:`remove`; the rows they were
        counted under (invalid, a tie …) count as duplicates or bad rows instead.
        """
        hashes = np.frombuffer(self.row_hashes, dtype=np.int64)
        if len(hashes) < 2:
            self._forget_rows()
            return
        # a stable sort keeps equal hashes in file order: in each run of equal hashes the
        # first row is the one read_pairs keeps. Only the (few) repeats get arrays of their own.
        order = np.argsort(hashes, kind="stable")
        ordered = hashes[order]
        at = np.flatnonzero(ordered[1:] == ordered[:-1]) + 1  # sorted positions that repeat
        del ordered
        if not len(at):
            self._forget_rows()
            return
        # each repeat's run starts at the position before the first repeat of its run
        opens = ~np.isin(at - 1, at)
        first_at = (at - 1)[opens][np.cumsum(opens) - 1]
        rows, firsts = order[at], order[first_at]
        del order, at, opens, first_at
        labels = np.frombuffer(self.row_labels, dtype=np.int8)
        cand = self._candidates()
        pos = self.row_pos
        dropped, dropped_empty = set(self.dropped), set(self.dropped_empty)
        removed: list[int] = []
        names = (*LABELS, None)
        for i, j in sorted(zip(rows.tolist(), firsts.tolist(), strict=True)):
            c = int(cand[i])
            conflict = labels[i] != labels[j]
            if conflict:
                mine, theirs = names[labels[i]], names[labels[j]]
                self.bad.append(
                    BadRow(
                        self.stream.where(int(pos[i])),
                        int(pos[i]),
                        "label",
                        f"same pair as {self.stream.where(int(pos[j]))} but labeled {mine!r} "
                        f"here and {theirs!r} there; remove one so no label is silently lost",
                    )
                )
                self.n_converted -= 1
            else:
                self.result.duplicates += 1
            # take the row out of what it was counted under
            if c == 0:
                self.result.left_out[_left_out_reason(names[labels[i]])] -= 1
            elif c in dropped_empty:
                self.result.left_out["empty_output"] -= 1
            elif c in dropped:
                self.result.invalid -= 1
            else:
                removed.append(c)
        self.bad.sort(key=lambda b: b.line if isinstance(b.line, int) else 0)
        self._forget_rows()
        # candidate numbers → lines of the file: invalid candidates were never written
        self.remove = sorted(c - 1 - bisect.bisect_left(self.dropped, c) for c in removed)

    def _forget_rows(self) -> None:
        """Free the per-row arrays once repeats are resolved: the dataset warnings that come
        next build n-sized arrays of their own, and the peak is their sum."""
        self.row_hashes, self.row_labels, self.row_pos = array("q"), array("b"), array("I")

    def _candidates(self) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Per pair read, its candidate number (lines made, from 1), 0 if it made none."""
        writes = np.frombuffer(self.row_labels, dtype=np.int8) < _WRITES
        numbers = np.cumsum(writes, dtype=np.int64)
        numbers[~writes] = 0
        return numbers

    def _where_candidate(self, number: int) -> str:
        """Where the row that made candidate ``number`` was read (an error's message)."""
        row = int(np.flatnonzero(self._candidates() == number)[0])
        return str(self.stream.where(self.row_pos[row]))

    def drop_duplicates(self, out: BinaryIO) -> None:
        dups = self.remove
        if not dups:
            return
        route = np.zeros(self.result.written, dtype=np.int8)
        route[dups] = _DROP
        self._rewrite(out, route)
        self.result.written -= len(dups)

    def split(self, out: BinaryIO, val_out: BinaryIO, val_fraction: float, seed: int) -> None:
        """Drop duplicates and move the validation split to ``val_out``, in one pass.

        The dataset warnings come from checking both final files again as they are
        rewritten (each with its own line numbers).
        """
        if self.keys is None or self.checker is None:
            raise RuntimeError("split() needs a validation target and a DPO or SFT checker")
        dups = self.remove
        profile = self.checker.profile
        self.checker = None  # its statistics (every line, before the split) are done with
        route = np.zeros(self.result.written, dtype=np.int8)
        route[dups] = _DROP
        kept = np.flatnonzero(route == _TRAIN)
        keys = np.frombuffer(self.keys, dtype=np.uint64)[kept]
        self.keys = None
        groups, inverse, sizes = np.unique(keys, return_inverse=True, return_counts=True)
        del keys
        to_val = np.zeros(len(groups), dtype=bool)
        to_val[validation_groups(sizes.tolist(), val_fraction, seed)] = True
        route[kept[to_val[inverse]]] = _VALIDATION
        del inverse, kept, groups, sizes, to_val
        path, val_path = str(self.result.path), str(self.result.validation_path)
        # duplicates are dropped and the split keeps each prompt on one side: neither finding
        # can fire, so no hashes are kept
        train = LineChecker(profile, max_errors=2**62, file=path, stats=PairStats(keys=False))
        val = LineChecker(profile, max_errors=2**62, file=val_path, stats=PairStats(keys=False))
        self._rewrite(out, route, val_out, train, val)
        self.result.written_validation = int(np.count_nonzero(route == _VALIDATION))
        self.result.written -= len(dups) + self.result.written_validation
        found = (
            train.findings
            + val.findings
            + dataset_findings(train.stats, file=path)
            + dataset_findings(val.stats, file=val_path)
        )
        self.result.warnings = [f for f in found if f.severity == "warning"]

    def _rewrite(
        self,
        out: BinaryIO,
        route: np.ndarray[Any, np.dtype[np.int8]],
        val_out: BinaryIO | None = None,
        train: LineChecker | None = None,
        val: LineChecker | None = None,
    ) -> None:
        """Rewrite the written file in place: line i stays, goes, or moves to ``val_out``.

        ``route[i]`` is _TRAIN, _DROP or _VALIDATION; the checkers, when given, see the
        lines each file ends up with.
        """
        out.flush()
        fd = out.fileno()
        size = os.fstat(fd).st_size
        read_at = write_at = 0
        line = 0
        rest = b""
        n_train = n_val = 0
        # compact the temporary file in place: writing never overtakes reading
        while read_at < size or rest:
            chunk = os.pread(fd, 1 << 20, read_at) if read_at < size else b""
            read_at += len(chunk)
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            if not chunk:
                cut = len(data)
            whole, rest = data[:cut], data[cut:]
            kept: list[bytes] = []
            moved: list[bytes] = []
            for raw in whole.splitlines(keepends=True):
                where = route[line]
                if where == _TRAIN:
                    kept.append(raw)
                elif where == _VALIDATION:
                    moved.append(raw)
                line += 1
            blob = b"".join(kept)
            os.pwrite(fd, blob, write_at)
            write_at += len(blob)
            if train is not None and kept:
                n_train += train.check_block(blob, first_line=n_train + 1, start=0, at_eof=False)
            if moved and val_out is not None:
                moved_blob = b"".join(moved)
                val_out.write(moved_blob)
                if val is not None:
                    n_val += val.check_block(
                        moved_blob, first_line=n_val + 1, start=0, at_eof=False
                    )
            if not chunk:
                break
        os.ftruncate(fd, write_at)
        out.seek(write_at)


_TRAIN: Final[int] = 0
_DROP: Final[int] = 1
_VALIDATION: Final[int] = 2
