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

__all__ = ["build_parser", "main"]

PROFILES: Final[tuple[str, ...]] = ("together", "strict", "openai")
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


def _add_from_option(p: argparse.ArgumentParser) -> None:
    """``--from FMT``: the input format, shared by every command that reads pair files."""
    p.add_argument(
        "--from",
        dest="from_format",
        default="auto",
        choices=_input_formats(),
        metavar="FMT",
        help="input format: " + ", ".join(_input_formats()) + " (default auto-detect)",
    )


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
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=_cmd_validate)


def _validate_one(path: str, args: argparse.Namespace, validation: str | None) -> Any:
    from prefnb.validation import validate

    bar = _progress_for(path)
    try:
        return validate(
            path,
            args.profile,
            max_tokens=args.max_tokens,
            max_errors=args.max_errors,
            validation=validation,
            progress=bar,
        )
    finally:
        if bar is not None:
            bar.close()


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
        out.write(f"{checked}: {report.summary()} (profile {args.profile})\n")
    if len(reports) > 1:
        bad = sum(not r.ok for r in reports)
        verdict = "all valid" if ok else f"{bad} invalid"
        out.write(f"{len(reports)} files checked: {verdict}\n")
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
    _add_from_option(p)
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
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=_cmd_convert)


def _cmd_convert(args: argparse.Namespace) -> int:
    from prefnb.export import OnInvalid, export_dpo, export_sft
    from prefnb.formats import read_pairs

    if (args.validation is None) != (args.val_fraction == 0):
        return _usage(
            "convert", "--validation FILE and --val-fraction F (> 0) must be given together"
        )
    if args.to == "trl" and args.validation is not None:
        return _usage("convert", "--validation is supported for --to dpo and --to sft only")
    if args.to != "dpo" and args.profile != "together":
        return _usage("convert", "--profile applies to --to dpo only")
    df = read_pairs(args.input, format=args.from_format)
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
            "left_out": result.left_out,
            "warnings": [f.to_dict() for f in result.report.warnings],
        }
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        return 0
    for finding in result.report.warnings:
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
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return 0
    parts = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
    sys.stdout.write(f"wrote {n} TRL rows to {args.output} (train)\n")
    sys.stdout.write(f"left out {left} rows: {parts}\n" if left else "left out nothing\n")
    return 0


# --- stats -------------------------------------------------------------------------------


def _add_stats(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "stats",
        help="counts, labels, lengths, length bias and duplicates of a pair file",
        description="Summarize a preference file in any format prefnb reads.",
    )
    p.add_argument("file", metavar="FILE", help="input file (JSONL, JSON, CSV or Parquet)")
    _add_from_option(p)
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=_cmd_stats)


def _cmd_stats(args: argparse.Namespace) -> int:
    from prefnb.pair_stats import stats

    result = stats(args.file, format=args.from_format)
    if args.json:
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n")
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
