"""The ``prefnb`` command line: ``validate``, ``convert``, ``stats``, ``demo``.

Exit codes: 0 success (for ``validate``: every file valid), 1 invalid data or a failed
conversion (missing file, unreadable input, an invalid row), 2 usage errors.

Examples::

    $ prefnb validate train.jsonl --profile strict
    $ prefnb validate train.jsonl --validation val.jsonl --json
    $ prefnb convert hh.jsonl train.jsonl --from hh --to dpo --drop-invalid
    $ prefnb stats pairs.parquet

Every subcommand is added by one ``_add_<command>(subparsers)`` function that registers its
arguments and sets ``func``; a new command is one more such function in ``_COMMANDS``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final, TextIO

from prefnb.validation.profiles import PROFILES

__all__ = ["build_parser", "main"]

#: Files at least this big get a progress bar (when stderr is a terminal).
PROGRESS_MIN_BYTES: Final[int] = 32 * 2**20

Handler = Callable[[argparse.Namespace], int]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number ≥ 1, got {value}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {value}")
    return value


# --- progress --------------------------------------------------------------------------


class _ProgressBar:
    """A one-line bar on a terminal stream, redrawn at most ten times a second."""

    def __init__(self, stream: TextIO, label: str, total: int) -> None:
        self.stream = stream
        self.label = label
        self.total = max(total, 1)
        self.last = 0.0
        self.started = time.monotonic()
        self.drawn = False

    def __call__(self, done: int, total: int | None = None) -> None:
        now = time.monotonic()
        if now - self.last < 0.1 and done < (total or self.total):
            return
        self.last = now
        total = total or self.total
        frac = min(max(done / total, 0.0), 1.0)
        width = 30
        filled = int(frac * width)
        rate = done / 2**20 / max(now - self.started, 1e-9)
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {frac:4.0%} {rate:6.0f} MB/s"
        )
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r" + " " * (len(self.label) + 52) + "\r")
            self.stream.flush()


def _progress_for(path: str) -> _ProgressBar | None:
    if not sys.stderr.isatty():
        return None
    try:
        size = os.stat(path).st_size
    except OSError:
        return None
    if size < PROGRESS_MIN_BYTES:
        return None
    return _ProgressBar(sys.stderr, Path(path).name[:30], size)


# --- validate ----------------------------------------------------------------------------


def _add_read_options(p: argparse.ArgumentParser, *, validate: bool = False) -> None:
    """Input format, column mapping and bad-row handling: shared by every reading command."""
    g = p.add_argument_group(
        "reading other formats",
        "Other preference formats are auto-detected; --format forces one, and the --*-key "
        "options name the columns when a file uses other names.",
    )
    g.add_argument(
        "--format",
        "--from",
        dest="from_format",
        default="auto" if not validate else None,
        choices=_input_formats(),
        metavar="FMT",
        help="input format: "
        + ", ".join(_input_formats())
        + " (default auto-detect)"
        + (
            "; validate reads a file in another format as `prefnb convert` would"
            if validate
            else ""
        ),
    )
    for option, column in _key_options().items():
        flag = "--" + option.replace("_", "-")
        g.add_argument(flag, dest=option, metavar="COL", help=f"the column holding {column!r}")
    g.add_argument(
        "--on-bad-rows",
        choices=("error", "warn", "skip"),
        default="error",
        help="a row that cannot be read: fail listing every bad row (error, the default), "
        "list them and go on (warn), or only count them (skip); the count is always printed",
    )


def _key_options() -> dict[str, str]:
    from prefnb.formats.read import KEY_OPTIONS

    return KEY_OPTIONS


def _key_args(args: argparse.Namespace) -> dict[str, str]:
    return {k: getattr(args, k) for k in _key_options() if getattr(args, k, None) is not None}


def _read(args: argparse.Namespace, path: str, out: TextIO, *, announce: bool = True) -> Any:
    """read_pairs with the command's options; prints what was read and skipped."""
    from prefnb.formats import read_pairs
    from prefnb.formats.read import OnBadRows, read_report

    # "warn" is printed here as plain lines rather than as a Python warning
    mode: OnBadRows = "error" if args.on_bad_rows == "error" else "skip"
    df = read_pairs(path, format=args.from_format or "auto", on_bad_rows=mode, **_key_args(args))
    report = read_report(df)
    fmt = df.attrs.get("prefnb_format")
    if args.on_bad_rows == "warn" and report.n_skipped:
        out.write(report.text() + "\n")
    elif announce:
        out.write(f"{report.headline()} (format {fmt})\n")
    return df


def _add_validate(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "validate",
        help="check JSONL files exactly as Together's upload check does",
        description=(
            "Check preference (DPO) or conversational JSONL files with Together's local rules "
            "(profile 'together'), the safe export profile ('strict') or OpenAI's rules. "
            "Each FILE is checked on its own; --validation names the validation file of a "
            "training run: it is checked too, and prompts present in both are reported. "
            "Exit 0 when every file is valid, 1 otherwise, 2 on usage errors."
        ),
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="JSONL files to check")
    p.add_argument("--profile", choices=PROFILES, default="together", help="rule set")
    p.add_argument(
        "--validation",
        metavar="FILE",
        help="validation file of the same run: checked too, and overlap with FILE reported",
    )
    p.add_argument(
        "--max-tokens",
        type=_positive_int,
        metavar="N",
        help="warn about responses estimated over N tokens (chars/4)",
    )
    p.add_argument(
        "--max-errors",
        type=_positive_int,
        default=100,
        metavar="N",
        help="stop listing errors after N per file (default 100)",
    )
    _add_read_options(p, validate=True)
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=_cmd_validate)


def _gunzip(path: str, tmp: str) -> str:
    """Decompress ``path`` (a .gz file) into ``tmp``; returns the plain file's path."""
    import gzip
    import shutil

    target = Path(tmp) / Path(path).with_suffix("").name
    with gzip.open(path, "rb") as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    return str(target)


def _other_format(path: str) -> tuple[str, str] | None:
    """(format, what was seen) when the file's first readable row is a known other format.

    Any file prefnb reads counts (JSON arrays, CSV, Parquet too); only the first rows are
    looked at.
    """
    from prefnb.formats.detect import describe_detection, detect_row
    from prefnb.formats.sources import FormatError, stream_rows

    try:
        for n, (_pos, rec, _bad) in enumerate(stream_rows(path)):
            if rec is not None:
                fmt = detect_row(rec)
                if fmt is None or fmt == "together":
                    return None
                return fmt, describe_detection(rec, fmt)
            if n >= 100:
                return None
    except (FormatError, OSError, ValueError):
        return None  # the line-by-line check says what is wrong
    return None


def _convert_hint(path: str, args: argparse.Namespace) -> str:
    stem = Path(path).name.split(".")[0] or "train"
    keys = "".join(f" --{k.replace('_', '-')} {v}" for k, v in _key_args(args).items())
    return f"prefnb convert {path} {stem}.dpo.jsonl{keys}"


def _validate_one(path: str, args: argparse.Namespace, validation: str | None) -> Any:
    import tempfile

    from prefnb.validation import Finding

    with tempfile.TemporaryDirectory(prefix="prefnb-validate-") as tmp:
        pre: list[Finding] = []
        real: dict[str, str] = {}

        def plain(p: str) -> str:
            if not p.lower().endswith(".gz") or not os.path.isfile(p):
                return p
            inner = _gunzip(p, tmp)
            real[inner] = p
            pre.append(
                Finding(
                    "error",
                    "file.gzip",
                    f"{p} is gzip-compressed; Together wants a plain .jsonl file: decompress "
                    f"it (gunzip -k {p}) before uploading. Its content was checked "
                    "decompressed.",
                    file=p,
                )
            )
            return inner

        checked = plain(path)
        other = plain(validation) if validation is not None else None
        report = _check_one(path, checked, other, args)
        if real:
            report.findings = [_rename_file(f, real) for f in report.findings]
            report.source = real.get(report.source or "", report.source)
        report.findings[:0] = pre
        if args.on_bad_rows != "error":
            _skip_bad_lines(report, args.on_bad_rows)
        return report


def _check_one(path: str, checked: str, other: str | None, args: argparse.Namespace) -> Any:
    from prefnb.validation import Finding, ValidationReport, validate

    explicit = args.from_format not in (None, "auto", "together") or bool(_key_args(args))
    seen = None if explicit or not os.path.isfile(checked) else _other_format(checked)
    if seen is not None:
        fmt, saw = seen
        finding = Finding(
            "error",
            "format.other",
            f"{path} is a {fmt!r} file, not Together's preference format ({saw}); convert "
            f"it first: {_convert_hint(path, args)} (or check what that would write: "
            f"prefnb validate {path} --format {fmt})",
            file=path,
        )
        return ValidationReport(_count_rows(checked), [finding], profile=args.profile, source=path)
    if explicit:
        info = sys.stderr if args.json else sys.stdout
        read = _read(args, checked, info)
        val_read = _read(args, other, info) if other is not None else None
        report = validate(
            _pairs_of(read, info),
            args.profile,
            max_tokens=args.max_tokens,
            max_errors=args.max_errors,
            validation=_pairs_of(val_read, info) if val_read is not None else None,
        )
        skipped = [
            len(f.attrs.get("prefnb_bad_rows", ())) for f in (read, val_read) if f is not None
        ]
        report.stats["read_skipped"] = sum(skipped)
        return report
    bar = _progress_for(checked)
    try:
        return validate(
            checked,
            args.profile,
            max_tokens=args.max_tokens,
            max_errors=args.max_errors,
            validation=other,
            progress=bar,
        )
    finally:
        if bar is not None:
            bar.close()


def _pairs_of(df: Any, info: TextIO, strategy: str = "best_vs_worst") -> Any:
    """The pair table of what was read: rated multi-completion files are binarized."""
    if df.attrs.get("prefnb_format") != "multi":
        return df
    from prefnb.formats import binarize

    n_groups = df["group"].nunique() if len(df) else 0
    pairs = binarize(df, strategy=strategy)  # type: ignore[arg-type]
    info.write(
        f"binarized {plural(n_groups, 'prompt')} into {plural(len(pairs), 'pair')} ({strategy})\n"
    )
    return pairs


def _rename_file(finding: Any, real: dict[str, str]) -> Any:
    import dataclasses

    if finding.file not in real:
        return finding
    orig = real[finding.file]
    return dataclasses.replace(
        finding, file=orig, message=finding.message.replace(finding.file, orig)
    )


def _count_rows(path: str) -> int:
    if path.lower().endswith((".jsonl", ".ndjson", ".jsonlines")):
        return _count_lines(path)
    from prefnb.formats.sources import stream_rows

    return sum(1 for _ in stream_rows(path))


def _count_lines(path: str) -> int:
    n = 0
    with open(path, "rb") as fh:
        for raw in fh:
            n += bool(raw.strip())
    return n


def _skip_bad_lines(report: Any, mode: str) -> None:
    """--on-bad-rows warn/skip: errors on single lines become skipped rows, counted."""
    import dataclasses

    bad = {(f.file or "", f.line) for f in report.errors if f.line is not None}
    kept = []
    for f in report.findings:
        if f.severity == "error" and f.line is not None:
            if mode == "warn":
                kept.append(dataclasses.replace(f, severity="warning"))
            continue
        kept.append(f)
    report.findings = kept
    # rows the reader skipped (--format) and lines whose errors were set aside
    report.stats["skipped_rows"] = len(bad) + report.stats.get("read_skipped", 0)


def _cmd_validate(args: argparse.Namespace) -> int:
    if args.validation is not None and len(args.files) != 1:
        return _usage("validate", "--validation FILE goes with exactly one training FILE")
    reports = [_validate_one(path, args, args.validation) for path in args.files]
    ok = all(r.ok for r in reports)
    if args.json:
        doc = {
            "ok": ok,
            "profile": args.profile,
            "validation": args.validation,
            "files": [
                {**r.to_dict(), "file": path} for r, path in zip(reports, args.files, strict=True)
            ],
        }
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        return 0 if ok else 1
    out = sys.stdout
    for report, path in zip(reports, args.files, strict=True):
        ordered = report.errors + report.warnings
        for finding in ordered:
            out.write(_finding_line(finding, path) + "\n")
        if report.truncated:
            out.write(f"{path}: stopped listing errors after --max-errors {args.max_errors}\n")
        checked = f"{path} + {args.validation}" if args.validation is not None else path
        skipped = report.stats.get("skipped_rows")
        tail = f"; skipped {plural(skipped, 'bad row')}" if skipped is not None else ""
        out.write(f"{checked}: {report.summary()} (profile {args.profile}){tail}\n")
    if len(reports) > 1:
        bad = sum(not r.ok for r in reports)
        verdict = "all valid" if ok else f"{bad} invalid"
        out.write(f"{plural(len(reports), 'file')} checked: {verdict}\n")
    return 0 if ok else 1


def _finding_line(finding: Any, path: str) -> str:
    file = finding.file or path
    where = file if finding.line is None else f"{file}:{finding.line}"
    if finding.path:
        where += f" {finding.path}"
    if finding.pair_id:
        where += f" (pair {finding.pair_id})"
    return f"{where}: {finding.severity} [{finding.code}] {finding.message}"


def _input_formats() -> tuple[str, ...]:
    from prefnb.formats.detect import FORMATS

    return ("auto", *FORMATS)


# --- convert -----------------------------------------------------------------------------

_TARGETS: Final[tuple[str, ...]] = ("dpo", "trl", "sft")


def _add_convert(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "convert",
        help="convert preference data to Together DPO, TRL or SFT JSONL",
        description=(
            "Read IN in any format prefnb knows (auto-detected unless --from is given) and "
            "write OUT. DPO and SFT output is validated before anything is written and written "
            "atomically: on an invalid row nothing is written unless --drop-invalid is given. "
            "Rows that are not labeled a/b are left out and reported."
        ),
    )
    p.add_argument("input", metavar="IN", help="input file (JSONL, JSON, CSV or Parquet)")
    p.add_argument("output", metavar="OUT", help="output file")
    _add_read_options(p)
    p.add_argument("--to", choices=_TARGETS, default="dpo", help="output format (default dpo)")
    p.add_argument(
        "--profile",
        choices=PROFILES,
        default="together",
        help="validation profile for --to dpo (default together)",
    )
    p.add_argument(
        "--drop-invalid",
        action="store_true",
        help="leave invalid rows out (and count them) instead of failing",
    )
    p.add_argument(
        "--validation",
        metavar="FILE",
        help="also write a validation split here (needs --val-fraction)",
    )
    p.add_argument(
        "--val-fraction",
        type=_fraction,
        default=0.0,
        metavar="F",
        help="share of rows, grouped by prompt, that go to --validation",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the validation split")
    p.add_argument(
        "--binarize",
        choices=_strategies(),
        default="best_vs_worst",
        help="how rated multi-completion files become pairs (default best_vs_worst)",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=_cmd_convert)


def _strategies() -> tuple[str, ...]:
    from prefnb.formats.binarize import STRATEGIES

    return STRATEGIES


def _read_doc(df: Any) -> dict[str, Any]:
    from prefnb.formats.read import read_report

    report = read_report(df)
    return {
        "format": df.attrs.get("prefnb_format"),
        "rows": report.n_read,
        "skipped": report.n_skipped,
        "bad_rows": [b.to_dict() for b in report.bad_rows],
    }


def _cmd_convert(args: argparse.Namespace) -> int:
    from prefnb.export import OnInvalid, export_dpo, export_sft

    if (args.validation is None) != (args.val_fraction == 0):
        return _usage(
            "convert", "--validation FILE and --val-fraction F (> 0) must be given together"
        )
    if args.to == "trl" and args.validation is not None:
        return _usage("convert", "--validation is supported for --to dpo and --to sft only")
    if args.to != "dpo" and args.profile != "together":
        return _usage("convert", "--profile applies to --to dpo only")
    info = sys.stderr if args.json else sys.stdout
    if str(args.output).endswith(".jsonl"):
        from prefnb.formats.convert import streams

        fmt = streams(args.input, args.from_format or "auto", **_key_args(args))
        if fmt is not None:
            return _convert_stream(args, info)
    df = _read(args, args.input, info)
    read = _read_doc(df)
    duplicates = int(df.attrs.get("prefnb_duplicates_dropped", 0))
    df = _pairs_of(df, info, args.binarize)
    on_invalid: OnInvalid = "drop" if args.drop_invalid else "raise"
    if args.to == "dpo":
        result = export_dpo(
            df,
            args.output,
            validation_path=args.validation,
            val_fraction=args.val_fraction,
            seed=args.seed,
            profile=args.profile,
            on_invalid=on_invalid,
        )
    elif args.to == "sft":
        result = export_sft(
            df,
            args.output,
            validation_path=args.validation,
            val_fraction=args.val_fraction,
            seed=args.seed,
            on_invalid=on_invalid,
        )
    else:
        return _convert_trl(df, args)
    if args.json:
        doc = {
            "ok": True,
            "to": args.to,
            "paths": {k: str(v) for k, v in result.paths.items()},
            "rows_written": result.rows_written,
            # the same keys as a streamed conversion's
            "left_out": result.left_out | {"duplicate": duplicates},
            "read": read,
            "warnings": [f.to_dict() for f in result.report.warnings],
        }
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        return 0
    for finding in result.report.warnings:
        sys.stdout.write(_finding_line(finding, str(args.output)) + "\n")
    sys.stdout.write(result.summary() + "\n")
    return 0


def _convert_stream(args: argparse.Namespace, info: TextIO) -> int:
    """Line format to line format in constant memory (prefnb.formats.convert)."""
    from prefnb.export import LEFT_OUT_REASONS
    from prefnb.formats.convert import convert_lines
    from prefnb.formats.read import ReadReport

    options: dict[str, Any] = {
        **_key_args(args),
        "validation_path": args.validation,
        "val_fraction": args.val_fraction,
        "seed": args.seed,
    }
    result = convert_lines(
        args.input,
        args.output,
        to=args.to,
        format=args.from_format or "auto",
        profile=args.profile,
        on_bad_rows="error" if args.on_bad_rows == "error" else "skip",
        on_invalid="drop" if args.drop_invalid else "raise",
        binarize=args.binarize,
        **options,
    )
    report = ReadReport(Path(args.input).name, result.n_read, result.bad_rows)
    details = report.text().partition("\n")[2] if args.on_bad_rows == "warn" else ""
    info.write(f"{report.headline()} (format {result.format}, streamed)\n")
    if details:
        info.write(details + "\n")
    if result.binarized is not None:
        n_groups, n_pairs = result.binarized
        info.write(
            f"binarized {plural(n_groups, 'prompt')} into {plural(n_pairs, 'pair')} "
            f"({args.binarize})\n"
        )
    if args.json:
        doc = {
            "ok": True,
            "to": args.to,
            "paths": {"train": str(args.output)}
            | ({"validation": str(args.validation)} if args.validation is not None else {}),
            "rows_written": {"train": result.written}
            | ({"validation": result.written_validation} if args.validation is not None else {}),
            "left_out": dict.fromkeys(LEFT_OUT_REASONS, 0)
            | result.left_out
            | {"invalid": result.invalid, "duplicate": result.duplicates},
            "read": {
                "format": result.format,
                "rows": report.n_read,
                "skipped": report.n_skipped,
                "bad_rows": [b.to_dict() for b in result.bad_rows],
            },
            "warnings": [f.to_dict() for f in result.warnings],
        }
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        return 0
    for finding in result.warnings:
        sys.stdout.write(_finding_line(finding, str(args.output)) + "\n")
    sys.stdout.write(result.summary() + "\n")
    return 0


def _convert_trl(df: Any, args: argparse.Namespace) -> int:
    from prefnb.formats.writers import write_trl
    from prefnb.pairs import check_pairs
    from prefnb.records import preferred_and_rejected

    check_pairs(df)
    counts = {"tie": 0, "both_bad": 0, "skip": 0, "unlabeled": 0}
    for row in df.to_dict("records"):
        if preferred_and_rejected(row) is None:
            label = row.get("label")
            counts["unlabeled" if label not in counts else label] += 1
    written = write_trl(df, args.output)
    n = written if isinstance(written, int) else len(df) - sum(counts.values())
    left = sum(counts.values())
    if args.json:
        doc = {
            "ok": True,
            "to": "trl",
            "paths": {"train": str(args.output)},
            "rows_written": {"train": n},
            "left_out": counts,
            "read": _read_doc(df),
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return 0
    parts = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
    sys.stdout.write(f"wrote {plural(n, 'TRL row')} to {args.output} (train)\n")
    sys.stdout.write(f"left out {plural(left, 'row')}: {parts}\n" if left else "left out nothing\n")
    return 0


# --- stats -------------------------------------------------------------------------------


def _add_stats(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "stats",
        help="counts, labels, lengths, length bias and duplicates of a pair file",
        description="Summarize a preference file in any format prefnb reads.",
    )
    p.add_argument("file", metavar="FILE", help="input file (JSONL, JSON, CSV or Parquet)")
    _add_read_options(p)
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=_cmd_stats)


def _cmd_stats(args: argparse.Namespace) -> int:
    from prefnb.pair_stats import stats

    info = sys.stderr if args.json else sys.stdout
    df = _read(args, args.file, info, announce=False)
    df = _pairs_of(df, info)
    result = stats(df, name=args.file)
    if args.json:
        doc = result.to_dict() | {"read": _read_doc(df)}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(f"{args.file}\n{result.text()}\n")
    return 0


# --- entry point ---------------------------------------------------------------------------


def _add_demo(subparsers: Any) -> None:
    from prefnb.demo import add_demo_parser  # starts nothing until the command runs

    add_demo_parser(subparsers)


_COMMANDS: Final[tuple[Callable[[Any], None], ...]] = (
    _add_validate,
    _add_convert,
    _add_stats,
    _add_demo,
)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="prefnb",
        description="Curate, validate and export preference data for DPO on Together AI.",
    )
    from prefnb import __version__

    parser.add_argument("--version", action="version", version=f"prefnb {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in _COMMANDS:
        add(subparsers)
    return parser


def plural(n: int, noun: str) -> str:
    """``1 pair``, ``2 pairs``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _usage(command: str, message: str) -> int:
    sys.stderr.write(f"usage error: prefnb {command}: {message}\n")
    return 2


def _fail(command: str, exc: BaseException) -> int:
    sys.stderr.write(f"prefnb {command}: error: {exc}\n")
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 invalid/failed, 2 usage)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 after --help
        return exc.code if isinstance(exc.code, int) else 2
    handler: Handler = args.func
    try:
        return handler(args)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except BrokenPipeError:
        # `prefnb validate big.jsonl | head`: the reader went away; that is not an error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except (ValueError, OSError) as exc:
        # Bad input and failed exports carry clear messages (file, row, field): show them
        # without a traceback. Anything else is a bug and keeps its traceback.
        return _fail(args.command, exc)


if __name__ == "__main__":
    sys.exit(main())
