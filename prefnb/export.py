"""Validated, atomic export of a pair table to Together's DPO and SFT JSONL files.

:func:`export_dpo` turns every row labeled ``a`` or ``b`` into one preference line
(``edited_preferred`` replaces the preferred text when present); :func:`export_sft` turns
the same rows into conversational SFT lines (prompt + preferred answer) for Together's
recommended SFT-then-DPO recipe. Rows labeled ``tie``, ``both_bad``, ``skip`` or unlabeled
are left out and counted by reason.

Guarantees, in order:

1. the table is checked with :func:`prefnb.check_pairs` (a clear error names column and rows);
2. every line is serialized and validated *before* anything is written; with
   ``on_invalid="raise"`` one invalid row raises :class:`ExportError` naming the row, its
   ``pair_id``, the JSON path and the rule, and no file is touched; with ``"drop"`` invalid
   rows are left out and counted as ``invalid``;
3. the optional validation split is grouped by prompt (no prompt lands in both files) and is
   deterministic for a given ``seed``;
4. each file goes to a temporary file beside its target, is fsynced and renamed
   (:func:`prefnb.atomic.atomic_write`); both temporaries are complete before either is
   renamed, so an error leaves every existing file untouched;
5. the bytes written are validated once more as a whole (duplicates, train/validation
   overlap, length bias …) and that report is returned: an export never produces a file
   its own profile rejects.

Example:
    >>> import tempfile, pathlib, prefnb
    >>> df = prefnb.pairs_frame([
    ...     {"prompt": "2+2?", "response_a": "4", "response_b": "5", "label": "a"},
    ...     {"prompt": "Capital of France?", "response_a": "Lyon", "response_b": "Paris",
    ...      "label": "b"},
    ...     {"prompt": "Best color?", "response_a": "Red", "response_b": "Blue", "label": "tie"},
    ... ])
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "train.jsonl"
    >>> result = export_dpo(df, out)
    >>> result.rows_written, result.left_out["tie"]
    ({'train': 2}, 1)
    >>> out.read_text().splitlines()[1][:60]
    '{"input":{"messages":[{"role":"user","content":"Capital of F'
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import html
import os
import random
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import msgspec
import pandas as pd

from prefnb import _json
from prefnb.atomic import atomic_write
from prefnb.pairs import check_pairs, is_missing
from prefnb.records import pair_to_dpo, pair_to_sft
from prefnb.text import records
from prefnb.validation import Finding, ValidationReport, validate

__all__ = [
    "LEFT_OUT_REASONS",
    "ExportError",
    "ExportResult",
    "OnInvalid",
    "RowCheck",
    "check_rows",
    "export_dpo",
    "export_sft",
    "split_by_prompt",
]

OnInvalid = Literal["raise", "drop"]

#: Why a row of the pair table did not become a line, in the order they are reported.
LEFT_OUT_REASONS: Final[tuple[str, ...]] = (
    "tie",
    "both_bad",
    "skip",
    "unlabeled",
    "empty_output",
    "invalid",
)
#: Findings that make a row count as ``empty_output`` rather than ``invalid`` when dropped.
_EMPTY_CODES: Final[frozenset[str]] = frozenset({"strict.empty_output", "warning.empty_output"})

_MAX_LISTED: Final[int] = 10


class ExportError(ValueError):
    """An export was refused before anything was written.

    ``findings`` holds the validator's errors when the refusal comes from validation, each
    with the ``pair_id`` of its row (``line`` counts the rows that would have been written).
    """

    def __init__(self, message: str, findings: Sequence[Finding] = ()) -> None:
        super().__init__(message)
        self.findings = list(findings)


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote and what it left out.

    ``paths`` and ``rows_written`` are keyed by split (``"train"``, and ``"validation"``
    when a validation file was written); ``left_out`` counts rows by reason (every reason of
    :data:`LEFT_OUT_REASONS` is present); ``report`` is the validation report of the written
    lines (the training file's report, with train/validation overlap checked when both exist).
    """

    paths: dict[str, Path]
    rows_written: dict[str, int]
    left_out: dict[str, int]
    report: ValidationReport
    kind: str = "dpo"
    left_out_rows: dict[str, list[str]] = field(default_factory=dict, repr=False)
    #: Written rows whose label came from an LLM judge (``label_source == "judge"``).
    from_judge: int = 0

    @property
    def n_written(self) -> int:
        """Lines written over all files."""
        return sum(self.rows_written.values())

    @property
    def n_left_out(self) -> int:
        """Rows of the table that did not become a line."""
        return sum(self.left_out.values())

    def summary(self) -> str:
        """One human line per file plus what was left out.

        >>> left = dict.fromkeys(LEFT_OUT_REASONS, 0) | {"tie": 2}
        >>> r = ExportResult({"train": Path("t.jsonl")}, {"train": 3}, left, ValidationReport(3))
        >>> print(r.summary())
        wrote 3 DPO lines to t.jsonl (train)
        left out 2 rows: 2 tie
        """
        lines = [
            f"wrote {self.rows_written[split]} {self.kind.upper()} "
            f"line{'' if self.rows_written[split] == 1 else 's'} to {path} ({split})"
            for split, path in self.paths.items()
        ]
        if self.from_judge:
            lines.append(f"{self.from_judge} written row(s) were labeled by an LLM judge")
        lines.append(_left_out_text(self.left_out))
        return "\n".join(lines)

    def __repr__(self) -> str:
        warnings = len(self.report.warnings) if self.report is not None else 0
        files = ", ".join(
            f"{split}={str(path)!r} ({self.rows_written[split]} row"
            f"{'' if self.rows_written[split] == 1 else 's'})"
            for split, path in self.paths.items()
        )
        left = {k: v for k, v in self.left_out.items() if v}
        judged = f"; from_judge={self.from_judge}" if self.from_judge else ""
        return f"ExportResult({self.kind}: {files}; left_out={left}; warnings={warnings}{judged})"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(split)}</td><td><code>{html.escape(str(path))}</code></td>"
            f"<td style='text-align:right'>{self.rows_written[split]}</td></tr>"
            for split, path in self.paths.items()
        )
        left = ", ".join(f"{v} {html.escape(k)}" for k, v in self.left_out.items() if v)
        report = ""
        if self.report is not None and self.report.findings:
            report = f"<details><summary>validation report</summary>{self.report._repr_html_()}"
            report += "</details>"
        return (
            f"<div class='prefnb-export'><strong>{self.kind.upper()} export</strong>"
            "<table><thead><tr><th>split</th><th>file</th><th>rows</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            f"<div>left out: {left or 'nothing'}</div>{report}</div>"
        )


def _left_out_text(left_out: Mapping[str, int]) -> str:
    total = sum(left_out.values())
    if not total:
        return "left out nothing"
    parts = ", ".join(f"{n} {reason}" for reason, n in left_out.items() if n)
    return f"left out {total} row{'s' if total != 1 else ''}: {parts}"


@dataclass
class _Candidate:
    """A row that became a line, before validation and splitting."""

    index: Any
    pair_id: str
    prompt_key: str
    line: bytes


def _prompt_key(prompt: Sequence[Mapping[str, Any]]) -> str:
    canonical = _json.dumps([{"role": m["role"], "content": m["content"]} for m in prompt])
    return hashlib.sha256(canonical).hexdigest()


def _left_out_reason(label: object) -> str:
    if is_missing(label):
        return "unlabeled"
    return str(label)  # check_pairs guarantees one of LABELS


def split_by_prompt(prompt_keys: Sequence[str], val_fraction: float, seed: int = 0) -> list[bool]:
    """Assign rows to validation (True) or train (False), keeping each prompt in one split.

    Distinct prompts are shuffled with ``seed`` (independently of row order) and moved to
    validation until it holds at least ``val_fraction`` of the rows; at least one prompt
    goes to each side. Raises ``ValueError`` when there are fewer than two distinct prompts.

    >>> split_by_prompt(["p", "p", "q", "r"], 0.25, seed=1).count(True) >= 1
    True
    >>> split_by_prompt(["p", "p"], 0.5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: cannot split 2 rows into train and validation by prompt: ... need at least 2
    """
    counts: dict[str, int] = {}
    for key in prompt_keys:
        counts[key] = counts.get(key, 0) + 1
    groups = sorted(counts)
    picked = validation_groups([counts[g] for g in groups], val_fraction, seed)
    chosen = {groups[i] for i in picked}
    return [key in chosen for key in prompt_keys]


def validation_groups(sizes: Sequence[int], val_fraction: float, seed: int = 0) -> list[int]:
    """Which prompt groups go to validation: indexes into ``sizes`` (rows per group).

    The groups are those of :func:`split_by_prompt`, in the sorted order of their keys;
    streaming conversion calls this with counts it gathered, so both splits agree.
    """
    n_rows = sum(sizes)
    if len(sizes) < 2:
        raise ValueError(
            f"cannot split {n_rows} rows into train and validation by prompt: "
            f"they share {len(sizes)} distinct prompt{'s' if len(sizes) != 1 else ''}; "
            "need at least 2"
        )
    # shuffling positions moves them exactly as shuffling the keys did (an array of
    # 8-byte positions instead of a list of keys: a streamed file may hold millions)
    order = array("q", range(len(sizes)))
    random.Random(seed).shuffle(order)
    target = val_fraction * n_rows
    picked: list[int] = []
    n_val = 0
    for i in order[:-1]:  # the last group always stays in train
        if picked and n_val >= target:
            break
        picked.append(i)
        n_val += sizes[i]
    return picked


def _check_args(
    path: str | os.PathLike[str],
    validation_path: str | os.PathLike[str] | None,
    val_fraction: float,
    on_invalid: str,
) -> tuple[Path, Path | None]:
    if on_invalid not in ("raise", "drop"):
        raise ValueError(f"on_invalid must be 'raise' or 'drop', got {on_invalid!r}")
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, (int, float)):
        raise TypeError(f"val_fraction must be a number, got {type(val_fraction).__name__}")
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction!r}")
    target = Path(path)
    paths = [target]
    if val_fraction > 0 and validation_path is None:
        raise ValueError(
            f"val_fraction={val_fraction} needs validation_path= (where the validation split goes)"
        )
    if validation_path is not None and val_fraction == 0:
        raise ValueError(
            f"validation_path={str(validation_path)!r} needs val_fraction > 0 "
            "(the share of rows that go to validation)"
        )
    val_target = Path(validation_path) if validation_path is not None else None
    if val_target is not None:
        paths.append(val_target)
        if val_target.resolve() == target.resolve():
            raise ValueError(f"path and validation_path are the same file: {target}")
    for p in paths:
        if p.suffix != ".jsonl":
            raise ValueError(f"{p}: Together accepts only .jsonl files; name the file *.jsonl")
        if p.is_dir():
            raise IsADirectoryError(f"{p}: is a directory, expected a file path to write")
        parent = p.parent if str(p.parent) else Path(".")
        if not parent.is_dir():
            raise FileNotFoundError(f"{p}: directory {parent} does not exist")
    return target, val_target


def _describe_row(c: _Candidate) -> str:
    return f"row {c.index!r} (pair_id {c.pair_id})"


def _validate_lines(
    lines: Sequence[bytes],
    profile: str,
    validation_lines: Sequence[bytes] | None = None,
) -> ValidationReport:
    # Decode the exact bytes that will be written: what is validated is what lands on disk.
    def decoded(ls: Sequence[bytes]) -> Iterator[Any]:
        return (_json.loads(line) for line in ls)

    validation = decoded(validation_lines) if validation_lines is not None else None
    # Every error is wanted: on_invalid="drop" must see each invalid line.
    limit = 4 * (len(lines) + len(validation_lines or ())) + 100
    return validate(decoded(lines), profile, max_errors=limit, validation=validation)


@dataclass
class RowCheck:
    """What an export would write: the lines, the rows left out and why, and the findings.

    The one row check shared by :func:`export_dpo`, :func:`export_sft`,
    :func:`prefnb.write_dpo_jsonl` and :func:`prefnb.stats` (so "exportable" means the same
    everywhere). ``bad`` maps a position in ``candidates`` to the errors of its line;
    ``unwritable`` holds rows whose line cannot even be encoded (a lone surrogate).
    """

    candidates: list[_Candidate]
    left_out: dict[str, int]
    left_out_rows: dict[str, list[str]]
    bad: dict[int, list[Finding]]
    report: ValidationReport | None
    unwritable: list[str] = field(default_factory=list)

    @property
    def n_exportable(self) -> int:
        """Lines that would be written under the profile."""
        return len(self.candidates) - len(self.bad)

    def drop_bad(self) -> None:
        """Count the invalid lines as left out and keep only the valid ones."""
        for i in sorted(self.bad):
            empty = all(f.code in _EMPTY_CODES for f in self.bad[i])
            reason = "empty_output" if empty else "invalid"
            self.left_out[reason] += 1
            self.left_out_rows[reason].append(self.candidates[i].pair_id)
        self.candidates = [c for i, c in enumerate(self.candidates) if i not in self.bad]


def check_rows(df: pd.DataFrame, *, kind: str = "dpo", profile: str = "together") -> RowCheck:
    """Build and validate the line each row of ``df`` would become; nothing is written.

    >>> import prefnb
    >>> df = prefnb.pairs_frame([{"prompt": "q", "response_a": "x", "response_b": "y",
    ...                           "label": "a"}, {"prompt": "r", "response_a": "x",
    ...                           "response_b": "y", "label": "tie"}])
    >>> check = check_rows(df)
    >>> check.n_exportable, check.left_out["tie"]
    (1, 1)
    """
    to_record = pair_to_dpo if kind == "dpo" else pair_to_sft
    left_out = dict.fromkeys(LEFT_OUT_REASONS, 0)
    left_out_rows: dict[str, list[str]] = {reason: [] for reason in LEFT_OUT_REASONS}
    candidates: list[_Candidate] = []
    unwritable: list[str] = []
    for index, row in zip(df.index, records(df), strict=True):
        pid = row.get("pair_id")
        pid = str(index) if is_missing(pid) else str(pid)
        record = to_record(row)
        if record is None:
            reason = _left_out_reason(row.get("label"))
            left_out[reason] += 1
            left_out_rows[reason].append(pid)
            continue
        try:
            line = _json.dumps(record)
        except (TypeError, ValueError, msgspec.EncodeError) as exc:
            # e.g. a lone surrogate ("\ud800") cannot be encoded as UTF-8
            unwritable.append(f"row {index!r} (pair_id {pid}) cannot be written as JSON: {exc}")
            left_out["invalid"] += 1
            left_out_rows["invalid"].append(pid)
            continue
        out: Any = record
        messages = out["input"]["messages"] if kind == "dpo" else out["messages"][:-1]
        candidates.append(_Candidate(index, pid, _prompt_key(messages), line))
    report: ValidationReport | None = None
    bad: dict[int, list[Finding]] = {}
    if candidates:
        report = _validate_lines([c.line for c in candidates], profile)
        for finding in report.errors:
            if finding.line is not None:
                bad.setdefault(finding.line - 1, []).append(finding)
    return RowCheck(candidates, left_out, left_out_rows, bad, report, unwritable)


def _export(
    df: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    kind: str,
    profile: str,
    validation_path: str | os.PathLike[str] | None,
    val_fraction: float,
    seed: int,
    on_invalid: str,
) -> ExportResult:
    check_pairs(df)
    target, val_target = _check_args(path, validation_path, val_fraction, on_invalid)

    check = check_rows(df, kind=kind, profile=profile)
    if check.unwritable and on_invalid == "raise":
        raise ExportError(check.unwritable[0] + "; nothing was written")
    first = check.report
    bad = check.bad
    if bad:
        if on_invalid == "raise":
            raise _invalid_error(check.candidates, bad, profile, kind)
        check.drop_bad()
    candidates = check.candidates
    left_out, left_out_rows = check.left_out, check.left_out_rows

    if not candidates:
        raise ExportError(
            f"nothing to export to {target}: no row is labeled 'a' or 'b' and valid "
            f"({_left_out_text(left_out)})"
        )

    in_val = (
        split_by_prompt([c.prompt_key for c in candidates], val_fraction, seed)
        if val_target is not None
        else [False] * len(candidates)
    )
    train = [c.line for c, v in zip(candidates, in_val, strict=True) if not v]
    val = [c.line for c, v in zip(candidates, in_val, strict=True) if v]

    if first is not None and not bad and val_target is None:
        report = first  # it checked exactly these lines, in this order
    else:
        # The validation file is checked in the same call, which also reports prompt overlap.
        report = _validate_lines(train, profile, val if val_target is not None else None)
    if not report.ok:
        # Row-level errors were handled above; what is left concerns the files as a whole.
        raise ExportError(
            f"refusing to write {target}: the lines fail the {profile!r} profile as a "
            f"whole; nothing was written: {report.errors[0]}",
            report.errors,
        )

    paths = {"train": target}
    written = {"train": len(train)}
    with contextlib.ExitStack() as stack:
        outputs = [(target, train)]
        if val_target is not None:
            paths["validation"] = val_target
            written["validation"] = len(val)
            outputs.append((val_target, val))
        # Enter every atomic_write first and fill all temporaries; the renames happen as the
        # stack unwinds, only after every file was written completely.
        handles = [(stack.enter_context(atomic_write(p)), lines) for p, lines in outputs]
        for handle, lines in handles:
            for line in lines:
                handle.write(line)
                handle.write(b"\n")
    judged = set()
    if "label_source" in df.columns:
        judged = set(df.loc[df["label_source"] == "judge", "pair_id"])
    from_judge = sum(1 for c in candidates if c.pair_id in judged)
    return ExportResult(paths, written, left_out, report, kind, left_out_rows, from_judge)


def _invalid_error(
    candidates: Sequence[_Candidate],
    bad: Mapping[int, Sequence[Finding]],
    profile: str,
    kind: str,
) -> ExportError:
    items: list[str] = []
    findings: list[Finding] = []
    for i in sorted(bad):
        for finding in bad[i]:
            findings.append(dataclasses.replace(finding, pair_id=candidates[i].pair_id))
            if len(items) < _MAX_LISTED:
                where = f" at {finding.path}" if finding.path else ""
                items.append(
                    f"  {_describe_row(candidates[i])}{where}: [{finding.code}] {finding.message}"
                )
    n = len(bad)
    more = f"\n  … and {len(findings) - len(items)} more" if len(findings) > len(items) else ""
    return ExportError(
        f"{n} row{'s' if n != 1 else ''} would make an invalid {kind.upper()} file "
        f"(profile {profile!r}); nothing was written. Fix the rows or pass "
        f"on_invalid='drop' to leave them out:\n" + "\n".join(items) + more,
        findings,
    )


def export_dpo(
    df: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    validation_path: str | os.PathLike[str] | None = None,
    val_fraction: float = 0.0,
    seed: int = 0,
    profile: str = "together",
    on_invalid: OnInvalid = "raise",
) -> ExportResult:
    """Write the rows labeled ``a``/``b`` as a Together preference (DPO) JSONL file.

    ``profile`` is a validator profile (``"together"``, ``"strict"``, ``"openai"``). With
    ``val_fraction > 0`` a share of the prompts goes to ``validation_path`` instead (both
    arguments go together). Returns an :class:`ExportResult`; raises :class:`ExportError`
    (nothing written) when a row is invalid and ``on_invalid="raise"``, or when no row is
    left to export, and :class:`prefnb.PairSchemaError` when ``df`` is not a pair table.

    >>> import tempfile, pathlib, prefnb
    >>> df = prefnb.pairs_frame([{"prompt": "q", "response_a": "x", "response_b": "y",
    ...                           "label": "b"}])
    >>> export_dpo(df, pathlib.Path(tempfile.mkdtemp()) / "t.jsonl").rows_written
    {'train': 1}
    """
    return _export(
        df,
        path,
        kind="dpo",
        profile=profile,
        validation_path=validation_path,
        val_fraction=val_fraction,
        seed=seed,
        on_invalid=on_invalid,
    )


def export_sft(
    df: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    validation_path: str | os.PathLike[str] | None = None,
    val_fraction: float = 0.0,
    seed: int = 0,
    on_invalid: OnInvalid = "raise",
) -> ExportResult:
    """Write prompt + preferred answer of each ``a``/``b`` row as conversational SFT JSONL.

    This is the first step of Together's SFT-then-DPO recipe: fine-tune on the preferred
    answers, then run DPO from that checkpoint. Lines are ``{"messages": [...]}`` and are
    validated with Together's conversational rules. Arguments as in :func:`export_dpo`.

    >>> import tempfile, pathlib, prefnb
    >>> df = prefnb.pairs_frame([{"prompt": "q", "response_a": "x", "response_b": "y",
    ...                           "label": "a"}])
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "sft.jsonl"
    >>> _ = export_sft(df, out)
    >>> out.read_text()
    '{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"x"}]}\\n'
    """
    return _export(
        df,
        path,
        kind="sft",
        profile="together",
        validation_path=validation_path,
        val_fraction=val_fraction,
        seed=seed,
        on_invalid=on_invalid,
    )
