"""``validate()``: one entry point for JSONL files, pair-table DataFrames and record lists.

Files are streamed in blocks of whole lines. Large files are split at line ends into byte
ranges checked by a pool of forked worker processes (both cores) after the main process has
checked the first block, so every worker knows the first line's format. Findings and
dataset statistics are merged in line order.

Example:
    >>> import prefnb
    >>> df = prefnb.pairs_frame([{"prompt": "2+2?", "response_a": "4", "response_b": "4",
    ...                           "label": "a"}])
    >>> report = validate(df, profile="strict")
    >>> report.ok, [f.code for f in report.errors]
    (False, ['strict.identical_outputs'])
"""

from __future__ import annotations

import dataclasses
import gzip
import math
import multiprocessing
import os
import shutil
import tempfile
import threading
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

import pandas as pd

from prefnb.pairs import is_missing, normalize_prompt
from prefnb.records import pair_to_dpo
from prefnb.validation.checker import LineChecker, text_reader
from prefnb.validation.lines import file_findings, iter_blocks, plan_ranges
from prefnb.validation.profiles import check_profile_name
from prefnb.validation.report import Finding, ValidationReport
from prefnb.validation.warnings import PairStats, dataset_findings, length_bias

__all__ = ["Source", "validate"]

Source = str | os.PathLike[str] | pd.DataFrame | Iterable[Mapping[str, Any]]
Progress = Callable[[int, int], None]

#: Files smaller than this are checked in-process: a pool costs more than it saves.
PARALLEL_MIN_BYTES: Final[int] = 48 * 2**20
#: Size of the byte ranges handed to workers.
RANGE_BYTES: Final[int] = 16 * 2**20

# Worker configuration, set just before forking so that workers inherit it and only byte
# ranges travel to them. The lock keeps concurrent validate() calls in threads apart.
_FORK_STATE: dict[str, Any] = {}
_FORK_LOCK = threading.Lock()


@dataclass(frozen=True)
class _Config:
    profile: str
    max_errors: int
    max_tokens: int | None = None
    lora_long_context: bool = False
    tokenizer: Callable[[str], int] | None = None


def _workers() -> int:
    """Processes worth using: the CPUs we may run on, minus those other work keeps busy.

    On a machine whose cores are already busy, a second worker only competes with the
    first (measured: two workers ran slower than one under a load average of 4 on 2 cores).
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except OSError:  # pragma: no cover - no load average on this platform
        busy = 0.0
    return max(1, min(cpus, 8, round(cpus - busy + 0.5)))


def _new_checker(
    cfg: _Config, file: str | None, dataset_format: str | None = None, *, lazy: bool = False
) -> LineChecker:
    """``lazy``: the lines come from a file that can be read again (see PairStats)."""
    stats = PairStats(
        max_tokens=cfg.max_tokens,
        lora_long_context=cfg.lora_long_context,
        tokenizer=cfg.tokenizer,
        lazy_pairs=lazy,
    )
    return LineChecker(
        cfg.profile,
        dataset_format=dataset_format,
        stats=stats,
        file=file,
        max_errors=cfg.max_errors,
    )


def _check_range(args: tuple[int, int]) -> tuple[LineChecker, int]:
    """Worker: check one byte range, numbering its lines from 1; return (checker, lines)."""
    start, end = args
    st = _FORK_STATE
    checker = _new_checker(st["config"], st["file"], st["dataset_format"], lazy=True)
    n = 0
    with open(st["path"], "rb") as fh:
        # the checker finds the line ends of each block itself: no counting pass here
        for block in iter_blocks(fh, start=start, end=end, count_lines=False):
            if checker.full:
                break
            n += checker.check_block(
                block.data,
                first_line=n + 1,
                start=block.start,
                at_eof=block.at_eof and end == st["size"],
            )
    return checker, n


def _merge(into: LineChecker, part: LineChecker, offset: int, fh: BinaryIO) -> None:
    """Fold a worker's range into ``into``; its line ``k`` is line ``offset + k``.

    Statistics are shifted. Findings carry line numbers inside their (SDK-exact) messages,
    so the few lines that had any are re-checked here under their final numbers.
    """
    if part.finding_lines:
        redo = LineChecker(
            into.profile,
            dataset_format=into.dataset_format,
            file=into.file,
            max_errors=max(1, into.max_errors - into.n_errors),
        )
        for line, start, length, unterminated in part.finding_lines:
            fh.seek(start)
            redo.check_raw(fh.read(length), offset + line, start, unterminated=unterminated)
        findings = redo.findings
    else:
        findings = []
    room = into.max_errors - into.n_errors
    for f in findings:
        if f.severity == "error":
            if room <= 0:
                into.truncated = True
                continue
            room -= 1
            into.n_errors += 1
        into.findings.append(f)
    into.truncated |= part.truncated
    part.stats.shift(offset)
    into.stats.extend(part.stats)
    into.crlf += part.crlf
    into.lone_cr += part.lone_cr
    if into.first_crlf is None and part.first_crlf is not None:
        into.first_crlf = part.first_crlf + offset


def _check_file(
    path: Path, cfg: _Config, progress: Progress | None, workers: int | None
) -> tuple[LineChecker | None, int, list[Finding]]:
    name = str(path)
    pre, size = file_findings(path)
    if size is None:
        return None, 0, pre
    checker = _new_checker(cfg, name, lazy=True)
    n_lines = 0
    n_workers = _workers() if workers is None else max(1, workers)
    # a tokenizer may hold threads or GPU state that must not be forked
    parallel = n_workers > 1 and size >= PARALLEL_MIN_BYTES and cfg.tokenizer is None
    done = 0
    with open(path, "rb") as fh:
        for block in iter_blocks(fh, count_lines=False):
            n_lines += checker.check_block(
                block.data,
                first_line=n_lines + 1,
                start=block.start,
                at_eof=block.at_eof,
            )
            done = block.start + len(block.data)
            if progress is not None:
                progress(done, size)
            # the first block decides the dataset format; workers take the rest
            if parallel and done < size:
                break
        else:
            parallel = False
    if parallel:
        with _FORK_LOCK:
            _FORK_STATE.update(
                path=str(path),
                size=size,
                config=cfg,
                file=name,
                dataset_format=checker.dataset_format,
            )
            try:
                n_lines = _check_parallel(path, size, done, n_lines, checker, n_workers, progress)
            finally:
                _FORK_STATE.clear()
    # while the file is still there (a .gz is checked from a temporary copy)
    try:
        checker.stats.resolve_duplicates(text_reader(path))
    except OSError as exc:
        checker.stats.duplicates = []
        checker.add(
            "warning",
            "file.changed",
            f"{name} could not be read again to confirm duplicate pairs ({exc}): it changed "
            "or vanished while it was checked; duplicates were not reported.",
            None,
        )
    return checker, n_lines, pre


def _check_parallel(
    path: Path,
    size: int,
    done: int,
    n_lines: int,
    checker: LineChecker,
    n_workers: int,
    progress: Progress | None,
) -> int:
    ranges = plan_ranges(path, done, size, RANGE_BYTES)
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(min(n_workers, len(ranges))) as pool, open(path, "rb") as fh:
        for (_s, end), (part, count) in zip(ranges, pool.imap(_check_range, ranges), strict=False):
            _merge(checker, part, n_lines, fh)
            n_lines += count
            if progress is not None:
                progress(end, size)
    return n_lines


def _check_gzip(
    path: Path, cfg: _Config, progress: Progress | None, workers: int | None
) -> tuple[LineChecker, int, list[Finding]]:
    """Check a gzip-compressed file by its decompressed content, as the CLI does.

    Together's upload takes plain ``.jsonl`` only, so the compression itself is an error;
    the content is still checked (from a temporary copy, which keeps the block reader and
    the worker pool as they are) and every finding names the ``.gz`` file.
    """
    name = str(path)
    gz = Finding(
        "error",
        "file.gzip",
        f"{name} is gzip-compressed; Together wants a plain .jsonl file: decompress it "
        f"(gunzip -k {name}) before uploading. Its content was checked decompressed.",
        file=name,
    )
    with tempfile.TemporaryDirectory(prefix="prefnb-validate-") as tmp:
        inner = Path(tmp) / path.name[: -len(".gz")]
        try:
            with gzip.open(path, "rb") as src, open(inner, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        except (OSError, EOFError, zlib.error) as exc:
            bad = Finding(
                "error",
                "file.gzip_corrupt",
                f"{name} ends with .gz but cannot be decompressed ({exc}): a truncated "
                "download or not a gzip file.",
                file=name,
            )
            return _new_checker(cfg, name), 0, [bad]
        checker, n, pre = _check_file(inner, cfg, progress, workers)
        if checker is None:
            checker = _new_checker(cfg, name)
        tmp_name = str(inner)

        def rename(f: Finding) -> Finding:
            if f.file != tmp_name:
                return f
            return dataclasses.replace(f, file=name, message=f.message.replace(tmp_name, name))

        checker.file = name
        checker.findings = [rename(f) for f in checker.findings]
        return checker, n, [gz, *map(rename, pre)]


def _check_records(
    records: Iterable[tuple[Any, str | None]], checker: LineChecker
) -> tuple[int, list[str | None]]:
    n = 0
    ids: list[str | None] = []
    for n, (obj, pid) in enumerate(records, start=1):
        ids.append(pid)
        if checker.full:
            continue
        checker.check_obj(obj, n, pid)
    return n, ids


def _frame_records(df: pd.DataFrame, checker: LineChecker) -> Iterable[tuple[Any, str | None]]:
    for i, row in enumerate(df.to_dict("records"), start=1):
        pid = row.get("pair_id")
        pid = None if is_missing(pid) else str(pid)
        label = row.get("label")
        if is_missing(label) or label not in ("a", "b"):
            yield None, pid
            continue
        try:
            row["prompt"] = normalize_prompt(row.get("prompt"))
            rec = pair_to_dpo({str(k): v for k, v in row.items()})
        except (KeyError, TypeError, ValueError) as exc:
            checker.add(
                "error",
                "pairs.row",
                f"row {i} cannot become a preference line: {exc}",
                i,
                "prompt",
                pid,
            )
            yield None, pid
            continue
        yield rec, pid


def _run(
    source: Source, cfg: _Config, progress: Progress | None, workers: int | None
) -> tuple[LineChecker, int, list[Finding], list[str | None] | None, str | None]:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.name.lower().endswith(".gz") and path.is_file():
            gz_checker, n, pre = _check_gzip(path, cfg, progress, workers)
            return gz_checker, n, pre, None, str(path)
        file_checker, n, pre = _check_file(path, cfg, progress, workers)
        if file_checker is None:
            file_checker = _new_checker(cfg, str(path))
        return file_checker, n, pre, None, str(path)
    checker = _new_checker(cfg, None)
    if isinstance(source, pd.DataFrame):
        n = 0
        checked = 0
        ids: list[str | None] = []
        for n, (obj, pid) in enumerate(_frame_records(source, checker), start=1):
            ids.append(pid)
            if obj is not None:
                checked += 1
                if not checker.full:
                    checker.check_obj(obj, n, pid)
        if n and not checked and not checker.n_errors:
            checker.add(
                "warning",
                "pairs.no_labeled_rows",
                f"none of the {n} rows is labeled 'a' or 'b', so no preference line would be "
                "exported; label some pairs first.",
                None,
                "label",
            )
        return checker, n, [], ids, None
    if isinstance(source, (bytes, Mapping)) or not isinstance(source, Iterable):
        raise TypeError(
            "validate() takes a path to a JSONL file, a pair-table DataFrame or an iterable "
            f"of line dicts, not {type(source).__name__}"
        )
    n, ids = _check_records(((obj, None) for obj in source), checker)
    return checker, n, [], None, None


def validate(
    source: Source,
    profile: str = "together",
    *,
    max_tokens: int | None = None,
    max_errors: int = 100,
    tokenizer: Callable[[str], int] | None = None,
    validation: Source | None = None,
    lora_long_context: bool = False,
    progress: Progress | None = None,
    workers: int | None = None,
) -> ValidationReport:
    """Check preference data; return a :class:`~prefnb.validation.ValidationReport`.

    ``source`` is a path to a JSONL file (streamed: memory holds one 256 KiB block, the
    longest line and ~32 bytes per line of statistics; a ``.gz`` file is checked decompressed,
    with a ``file.gzip`` error since Together wants plain ``.jsonl``), a pair-table
    DataFrame (rows labeled a/b become preference lines, others are skipped; ``line`` is the
    1-based row position) or an iterable of line dicts (``line`` = 1-based position).
    ``profile`` is ``"together"`` (Together's preference format as documented today),
    ``"together-1.5.34"`` (that SDK's local check, exactly), ``"strict"`` (plus the safe
    export profile) or ``"openai"``. ``validation`` is the validation file or
    frame: it is checked too, and prompts present in both are reported. ``max_tokens``
    enables the over-length warning (characters / 4 unless ``tokenizer`` counts tokens;
    ``lora_long_context`` gives each response half of it). ``progress(done, total)`` is
    called as bytes are checked. ``workers`` sets the processes used on files over 48 MiB
    (default: the CPUs not already kept busy by other work).
    """
    check_profile_name(profile)
    if max_errors < 1:
        raise ValueError(f"max_errors must be at least 1, got {max_errors}")
    cfg = _Config(profile, max_errors, max_tokens, lora_long_context, tokenizer)
    checker, n_rows, pre, ids, name = _run(source, cfg, progress, workers)
    other: LineChecker | None = None
    other_pre: list[Finding] = []
    other_name: str | None = None
    n_val: int | None = None
    if validation is not None:
        other, n_val, other_pre, _ids, other_name = _run(validation, cfg, None, workers)
    findings = pre + checker.findings + _file_warnings(checker)
    if other is not None:
        findings += other_pre + other.findings + _file_warnings(other)
    lb = length_bias(checker.stats.preferred_len, checker.stats.rejected_len)
    id_of = (lambda line: ids[line - 1] if 0 < line <= len(ids) else None) if ids else None
    findings += dataset_findings(
        checker.stats,
        file=name,
        other=other.stats if other is not None else None,
        other_file=other_name,
        pair_ids=id_of,
        bias=lb,
    )
    if other is not None:
        findings += dataset_findings(other.stats, file=other_name)
    if profile == "strict":
        # strict refuses each empty output as an error already
        findings = [f for f in findings if f.code != "warning.empty_output"]
    return ValidationReport(
        n_rows=n_rows,
        findings=findings,
        truncated=checker.full or (other is not None and other.full),
        profile=profile,
        source=name,
        stats={
            "n_pairs": len(checker.stats.lines),
            "dataset_format": checker.dataset_format,
            "length_bias": _finite(lb.__dict__) if lb.n else None,
            **({"n_rows_validation": n_val} if n_val is not None else {}),
        },
    )


def _finite(d: dict[str, Any]) -> dict[str, Any]:
    # JSON has no inf/nan: a zero-variance Cohen's d becomes null
    return {k: (v if not isinstance(v, float) or math.isfinite(v) else None) for k, v in d.items()}


def _file_warnings(checker: LineChecker) -> list[Finding]:
    out: list[Finding] = []
    strict = checker.profile == "strict"
    if checker.crlf:
        out.append(
            Finding(
                "error" if strict else "warning",
                "file.crlf",
                f"{checker.crlf} line(s) end with CRLF (\\r\\n), first at line "
                f"{checker.first_crlf}: together's check reads text mode and accepts them, "
                "but the safe export profile wants plain \\n line ends.",
                checker.first_crlf,
                file=checker.file,
            )
        )
    if checker.lone_cr:
        out.append(
            Finding(
                "warning",
                "file.lone_cr",
                f"{checker.lone_cr} lone carriage return(s) (\\r): together's check treats "
                "each as a line end, splitting the line it is in.",
                None,
                file=checker.file,
            )
        )
    return out
