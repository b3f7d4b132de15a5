"""Checking lines: a fast typed path for clean preference lines, the exact rules for the rest.

Most lines of a real preference file are clean. Blocks of them are decoded at once into
msgspec structs that only accept the clean shape (exactly the three keys, ``input.messages``,
known roles, string contents, one assistant message per output); two comparisons per line
and a count of quote bytes (which proves no key was repeated) then settle them. Anything the
typed decoder refuses, or that these checks doubt, goes through the slow path: the standard
library's ``json`` (the parser together 1.5.34 uses, NaN and all) and the SDK's rules one by
one (:mod:`.together`). The fast path can only *accept*; every error comes from the slow one.

Example:
    >>> c = LineChecker("together")
    >>> c.check_block(b'{"input": {"messages": [{"role": "user", "content": "q"}]}, '
    ...               b'"preferred_output": [{"role": "assistant", "content": "a"}], '
    ...               b'"non_preferred_output": [{"role": "assistant", "content": "b"}]}\\n\\n',
    ...               first_line=1, start=0, at_eof=True)
    2
    >>> [(f.line, f.code) for f in c.findings]
    [(2, 'together.blank_line')]
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import msgspec
import numpy as np

from prefnb._json import lone_surrogate
from prefnb.validation.lines import LONG_LINE_BYTES, line_heads, split_lines
from prefnb.validation.profiles import openai_problems, strict_problems
from prefnb.validation.report import Finding, Severity
from prefnb.validation.scan import ACCELERATED, BlockCounts, block_counts
from prefnb.validation.together import MSG_JSON, Problem, check_line
from prefnb.validation.together_current import check_current
from prefnb.validation.warnings import Anchor, PairStats, TextReader, text_of

__all__ = ["LineChecker", "text_reader"]

_PREF: Final[str] = "preference_openai"
#: decode_lines is tried on sub-blocks of about this size; a bad line costs one sub-block.
_SUB_BLOCK: Final[int] = 1 << 18


# The clean shape, as types the decoder checks in C: exactly these keys, string contents,
# known roles, a non-empty prompt and exactly one assistant message per output.
# gc=False: these structs never form cycles, so the collector need not track them;
# frozen=True: _Msg is hashable, and messages decode as a tuple, so a prompt's hash is
# hash(messages), in C with no copy.
class _Msg(msgspec.Struct, forbid_unknown_fields=True, gc=False, frozen=True):
    role: Literal["system", "user", "assistant"]
    content: str


class _Out(msgspec.Struct, forbid_unknown_fields=True, gc=False, frozen=True):
    role: Literal["assistant"]
    content: str


class _Input(msgspec.Struct, forbid_unknown_fields=True, gc=False, frozen=True):
    messages: Annotated[tuple[_Msg, ...], msgspec.Meta(min_length=1)]


_One = tuple[_Out]  # exactly one


class _Line(msgspec.Struct, forbid_unknown_fields=True, gc=False, frozen=True):
    input: _Input
    preferred_output: _One
    non_preferred_output: _One


_DECODER: Final = msgspec.json.Decoder(_Line)


class _Outputs(msgspec.Struct, gc=False):
    """A checked line's two outputs, read back for the duplicate check (the rest skipped)."""

    preferred_output: _One
    non_preferred_output: _One


_OUTPUTS: Final = msgspec.json.Decoder(_Outputs)


class _Dup:
    """object_pairs_hook that remembers duplicate keys (the last value wins, as in json)."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        d = dict(pairs)
        if len(d) != len(pairs):
            seen: set[str] = set()
            for k, _ in pairs:
                if k in seen:
                    self.keys.append(k)
                seen.add(k)
        return d


class LineChecker:
    """Checks lines of one source under one profile and collects findings and stats.

    ``dataset_format`` is the format of the file's first line ("the first line decides");
    when None the first detected line sets it.
    """

    def __init__(
        self,
        profile: str,
        *,
        dataset_format: str | None = None,
        stats: PairStats | None = None,
        file: str | None = None,
        max_errors: int = 100,
    ) -> None:
        self.profile = profile
        self.dataset_format = dataset_format
        self.stats = stats if stats is not None else PairStats()
        self.file = file
        self.max_errors = max_errors
        self.findings: list[Finding] = []
        self.n_errors = 0
        self.truncated = False
        self.crlf = 0
        self.lone_cr = 0
        self.first_crlf: int | None = None
        self.nan_lines: list[int] = []
        self.dup_key_lines: list[tuple[int, str]] = []
        #: (line, byte offset, length, unterminated) of every line that got a finding, so a
        #: parallel run can re-check it under its final line number
        self.finding_lines: list[tuple[int, int, int, bool]] = []

    # -- findings ---------------------------------------------------------------------------

    def add(
        self,
        severity: Severity,
        code: str,
        message: str,
        line: int | None,
        path: str = "",
        pair_id: str | None = None,
    ) -> None:
        """Record a finding; errors beyond ``max_errors`` set ``truncated`` instead."""
        if severity == "error":
            if self.n_errors >= self.max_errors:
                self.truncated = True
                return
            self.n_errors += 1
        self.findings.append(Finding(severity, code, message, line, pair_id, path, self.file))

    def _problem(self, p: Problem, n: int, pair_id: str | None, severity: Severity) -> None:
        self.add(severity, p.code, p.message, n, p.path, pair_id)

    @property
    def full(self) -> bool:
        """True once ``max_errors`` errors were recorded: later lines are only counted."""
        return self.truncated or self.n_errors >= self.max_errors

    # -- parsed objects ---------------------------------------------------------------------

    def check_obj(
        self, obj: Any, n: int, pair_id: str | None = None, anchor: Anchor | None = None
    ) -> None:
        """Check one parsed line (from a file, a DataFrame row or a record list).

        ``anchor`` says where a file's line can be read again (see :class:`PairStats`).
        """
        if self.profile == "openai":
            problems = openai_problems(obj, n)
            for p in problems:
                self._problem(p, n, pair_id, "error")
            if not problems:
                self._add_stats(obj, n, anchor)
            return
        if self.profile == "together":
            fmt, errors, warns = check_current(obj, n, self.dataset_format)
            if self.dataset_format is None and fmt is not None:
                self.dataset_format = fmt
            for p in errors[:1]:
                self._problem(p, n, pair_id, "error")
            for p in warns:
                self._problem(p, n, pair_id, "warning")
            if not errors and fmt == _PREF:
                self._add_stats(obj, n, anchor)
            return
        fmt, problem = check_line(obj, n, self.dataset_format)
        if self.dataset_format is None and fmt is not None:
            self.dataset_format = fmt
        if problem is not None:
            self._problem(problem, n, pair_id, "error")
            return
        if fmt != _PREF:
            if self.profile == "strict":
                self.add(
                    "error",
                    "strict.not_preference",
                    f"line {n} is a {fmt} line; a preference file needs input, "
                    "preferred_output and non_preferred_output.",
                    n,
                    "",
                    pair_id,
                )
            return
        if self.profile == "strict":
            for p in strict_problems(obj, n):
                self._problem(p, n, pair_id, "error")
        self._add_stats(obj, n, anchor)

    def _add_stats(self, obj: Mapping[str, Any], n: int, anchor: Anchor | None) -> None:
        try:
            messages = obj["input"]["messages"]
            key = hash(tuple(_prompt_item(m.get("role"), m.get("content")) for m in messages))
            pref, rej = _output_texts(obj)
        except (AttributeError, IndexError, KeyError, TypeError):
            return  # openai lines may hold tool-call-only outputs: no text to compare
        texts = [text_of(m.get("content")) for m in messages] if self.stats.budget else []
        self.stats.add(n, key, pref, rej, texts, anchor)

    # -- raw lines ----------------------------------------------------------------------------

    def check_raw(self, raw: bytes, n: int, offset: int, *, unterminated: bool) -> None:
        """The slow path for one line of bytes (terminator stripped)."""
        before = len(self.findings)
        self._check_raw(raw, n, offset, unterminated=unterminated)
        if len(self.findings) != before:
            self.finding_lines.append((n, offset, len(raw), unterminated))

    def _check_raw(self, raw: bytes, n: int, offset: int, *, unterminated: bool) -> None:
        if len(raw) > LONG_LINE_BYTES:
            self.add(
                "warning",
                "file.long_line",
                f"line {n} is {len(raw) / 2**20:.1f} MiB long: no model context holds that, "
                "and tools that read lines into memory may choke on it.",
                n,
            )
        if not raw.strip(b" \t\r\n"):
            self.add(
                "error",
                "together.blank_line",
                f"{MSG_JSON.format(n=n)} (line {n} is blank; together's check parses every "
                "line, blank ones included: remove blank lines.)",
                n,
            )
            return
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.add(
                "error",
                "file.not_utf8",
                f"File is not UTF-8 encoded. Error raised: 'utf-8' codec can't decode byte "
                f"0x{raw[exc.start]:02x} in line {n} at byte offset {offset + exc.start} of "
                f"the file: {exc.reason}.",
                n,
            )
            return
        if n == 1 and text.startswith("\ufeff"):
            self.add(
                "error",
                "file.bom",
                f"{MSG_JSON.format(n=1)} (the file starts with a UTF-8 byte-order mark, which "
                "together's check does not skip: save the file as UTF-8 without BOM.)",
                1,
            )
            return
        dup = _Dup()
        nan: list[str] = []

        def constant(name: str) -> float:
            nan.append(name)
            return float(name)

        try:
            obj = json.loads(text, object_pairs_hook=dup, parse_constant=constant)
        except RecursionError:
            self.add(
                "error",
                "together.json_too_deep",
                f"line {n} nests too deeply to parse (together's check crashes on it).",
                n,
            )
            return
        except ValueError as exc:
            if unterminated:
                self.add(
                    "error",
                    "file.truncated_last_line",
                    f"{MSG_JSON.format(n=n)} (the last line has no final newline and is not "
                    f"valid JSON: the file looks truncated; {exc}.)",
                    n,
                )
            else:
                self.add("error", "together.json", f"{MSG_JSON.format(n=n)} ({exc}.)", n)
            return
        strict = self.profile == "strict"
        if b"\\ud" in raw or b"\\uD" in raw:
            where = lone_surrogate(obj)
            if where is not None:
                self.add(
                    "error" if strict else "warning",
                    "json.lone_surrogate",
                    f"line {n}: {where} holds a lone surrogate escape (such as \\ud800): "
                    "Python's json (and together's check) accept it, but it is not text: "
                    "UTF-8 files, Arrow columns and tokenizers cannot hold it.",
                    n,
                    where,
                )
        if nan:
            self.nan_lines.append(n)
            self.add(
                "error" if strict else "warning",
                "json.nan",
                f"line {n} contains {', '.join(sorted(set(nan)))}, which is not valid JSON: "
                "Python's json (and together's check) accept it, most other parsers do not.",
                n,
            )
        if dup.keys:
            self.dup_key_lines.append((n, dup.keys[0]))
            self.add(
                "error" if strict else "warning",
                "json.duplicate_key",
                f"line {n} repeats the key(s) {', '.join(map(repr, dict.fromkeys(dup.keys)))}; "
                "parsers keep only the last value (together's check does too).",
                n,
            )
        self.check_obj(obj, n, anchor=(n, 1, offset, len(raw)))

    # -- blocks -------------------------------------------------------------------------------

    def check_block(
        self,
        data: bytes,
        *,
        first_line: int,
        start: int,
        at_eof: bool,
    ) -> int:
        """Check a block of whole lines; returns the number of lines in it."""
        crlf = lone_cr = 0
        # a block the fast path takes whole is counted once, here (C scanner only)
        counts = block_counts(data) if ACCELERATED and len(data) <= 2 * _SUB_BLOCK else None
        if (counts.carriage_returns > 0) if counts is not None else (b"\r" in data):
            crlf = data.count(b"\r\n")
            lone_cr = data.count(b"\r") - crlf
            self.crlf += crlf
            self.lone_cr += lone_cr
            if crlf and self.first_crlf is None:
                head = data[: data.find(b"\r\n") + 2]
                self.first_crlf = first_line + len(split_lines(head)[0]) - 1
        fast = (
            self.profile != "openai"
            and self.dataset_format in (None, _PREF)
            # CRLF is fine (msgspec reads the \r as whitespace, lines still end at \n); a
            # lone \r splits lines the way only split_lines() does
            and not lone_cr
            and len(data) <= LONG_LINE_BYTES  # bigger blocks hold a long line: warn about it
            and not self.full
        )
        if fast:
            if len(data) <= 2 * _SUB_BLOCK:
                return self._fast_sub(data, first_line, start, at_eof, counts)
            return self._fast_block(data, first_line, start, at_eof)
        lines, offsets, _ = split_lines(data)
        last = len(lines) - 1
        terminated = data.endswith((b"\n", b"\r"))
        for i, raw in enumerate(lines):
            if self.full:
                break
            self.check_raw(
                raw,
                first_line + i,
                start + offsets[i],
                unterminated=at_eof and i == last and not terminated,
            )
        return len(lines)

    def _fast_block(self, data: bytes, first_line: int, start: int, at_eof: bool) -> int:
        n_lines = 0
        pos = 0
        size = len(data)
        while pos < size:
            end = data.find(b"\n", pos + _SUB_BLOCK)
            end = size if end < 0 else end + 1
            sub = data[pos:end] if (pos or end != size) else data
            n_lines += self._fast_sub(
                sub, first_line + n_lines, start + pos, at_eof and end == size
            )
            pos = end
        return n_lines

    def _fast_sub(
        self,
        sub: bytes,
        first_line: int,
        start: int,
        at_eof: bool,
        counts: BlockCounts | None = None,
    ) -> int:
        try:
            recs = _DECODER.decode_lines(sub)
        except (msgspec.DecodeError, ValueError):  # ValueError: msgspec's UnicodeDecodeError
            recs = None
        # decode_lines skips blank lines and decodes every value of a line ("{..} {..}"
        # gives two records): its record count vouches for the lines only when none is
        # blank. A line starting with whitespace goes the line-by-line way.
        if counts is None and recs is not None:
            counts = block_counts(sub)
        if counts is not None and sub:  # one C pass: lines, line heads and quotes
            n = counts.newlines + (not sub.endswith(b"\n"))
            clean_heads = sub[0] > 32 and not counts.whitespace_led
        else:
            n, clean_heads = line_heads(sub, len(recs)) if recs is not None else (0, False)
        if recs is None or not clean_heads or len(recs) != n:
            # a line the typed decoder refuses, or a blank line: decode line by line, in
            # order, since a slow line may set the dataset format for the next ones
            return self._line_by_line(sub, first_line, start, at_eof)
        batch = self._settle(recs, first_line)
        anchor = (first_line, n, start, len(sub))
        if batch is None:  # the first line chose another format: every line is an error
            bad = list(range(n))
            lines = _split(sub)
        elif batch.no_repeated_keys(sub, counts):
            bad = batch.bad
            batch.commit(self.stats, None, anchor)
            if not bad:
                return n
            lines = _split(sub)
        else:  # some line repeats a key: find it, no re-decoding
            lines = _split(sub)
            repeated = {i for i, raw in enumerate(lines) if raw.count(b'"') != batch.line_quotes(i)}
            batch.commit(self.stats, repeated, anchor)
            bad = sorted(repeated.union(batch.bad))
        self._slow_lines(lines, bad, first_line, start, at_eof and not sub.endswith(b"\n"))
        return len(lines)

    def _slow_lines(
        self, lines: list[bytes], bad: list[int], first_line: int, start: int, open_end: bool
    ) -> None:
        offsets = [start]
        for raw in lines[: max(bad)]:
            offsets.append(offsets[-1] + len(raw) + 1)
        last = len(lines) - 1
        for i in bad:
            if self.full:
                break
            self.check_raw(
                lines[i], first_line + i, offsets[i], unterminated=open_end and i == last
            )

    def _line_by_line(self, sub: bytes, first_line: int, start: int, at_eof: bool) -> int:
        lines = _split(sub)
        terminated = sub.endswith(b"\n")
        offset = start
        for i, raw in enumerate(lines):
            if self.full:
                break
            rec = self._decode_one(raw)
            batch = self._settle([rec], first_line + i) if rec is not None else None
            if batch is not None and not batch.bad and batch.no_repeated_keys(raw):
                batch.commit(self.stats, None, (first_line + i, 1, offset, len(raw)))
            else:
                self.check_raw(
                    raw,
                    first_line + i,
                    offset,
                    unterminated=at_eof and i == len(lines) - 1 and not terminated,
                )
            offset += len(raw) + 1
        return len(lines)

    @staticmethod
    def _decode_one(raw: bytes) -> _Line | None:
        if not raw:
            return None
        try:
            return _DECODER.decode(raw)
        except (msgspec.DecodeError, ValueError):  # ValueError: msgspec's UnicodeDecodeError
            return None

    def _settle(self, recs: list[_Line], first_line: int) -> _Batch | None:
        """Check decoded clean lines; None if the dataset format forbids preference lines.

        Returns the statistics to commit once the duplicate-key guard passed, the indexes
        the slow path must check, and the number of ``"`` bytes the lines must contain.
        Per-line work is done by ``map`` and comprehensions: this runs for every line.
        """
        if self.dataset_format != _PREF:
            if self.dataset_format is not None:
                return None
            self.dataset_format = _PREF
        inputs = [r.input.messages for r in recs]
        prefs = [r.preferred_output[0].content for r in recs]
        rejs = [r.non_preferred_output[0].content for r in recs]
        # the decoder checked roles, counts and types; left: no role twice in a row, and the
        # prompt must not end with the assistant
        bad = [
            i
            for i, m in enumerate(inputs)
            if (
                m[0].role == "assistant"
                if len(m) == 1
                else (m[0].role == m[1].role or m[1].role == "assistant")
                if len(m) == 2  # most prompts: one or two messages, checked inline
                else not _turns_ok(m)
            )
        ]
        if self.profile == "strict":
            bad = sorted(
                set(bad).union(
                    i
                    for i, (msgs, pc, qc) in enumerate(zip(inputs, prefs, rejs, strict=True))
                    if not _strict_ok(msgs, pc, qc)
                )
            )
        batch = _Batch(recs, first_line, inputs, prefs, rejs, bad)
        if self.stats.budget is not None:
            batch.texts = [[m.content for m in msgs] for msgs in inputs]
        return batch


def _turns_ok(msgs: tuple[_Msg, ...]) -> bool:
    prev = ""
    for m in msgs:
        if m.role == prev:
            return False
        prev = m.role
    return prev != "assistant"


class _Batch:
    """Decoded clean lines of a sub-block, committed to the statistics once the guard passed.

    Duplicate-key guard: msgspec silently keeps the last of repeated keys (as json does, so
    the verdict is the same) but a repeat must be reported. A clean line with m prompt
    messages holds 2m + 8 keys and 2m + 4 string values: 8m + 24 structural quotes. Every
    other quote byte is an escaped quote inside a text. A repeated key adds at least its own
    two quotes, so when the raw quote count is exactly structural + escaped, no key was
    repeated. See :meth:`no_repeated_keys` for how escaped quotes are counted.
    """

    def __init__(
        self,
        recs: list[_Line],
        first_line: int,
        inputs: list[tuple[_Msg, ...]],
        prefs: list[str],
        rejs: list[str],
        bad: list[int],
    ) -> None:
        self.recs = recs
        self.first_line = first_line
        self.inputs = inputs
        self.prefs = prefs
        self.rejs = rejs
        self.bad = bad
        self.texts: list[list[str]] | None = None
        self.structural = 8 * sum(map(len, inputs)) + 24 * len(recs)

    def no_repeated_keys(self, data: bytes, counts: BlockCounts | None = None) -> bool:
        """True when ``data`` (the raw lines of this batch) repeats no key.

        ``counts`` are the block's counts when the C scanner made them
        (:func:`~prefnb.validation.scan.block_counts`); numpy counts otherwise.

        Escaped quotes are counted in the raw bytes as ``\\"`` pairs, which is exact when
        the block holds no ``\\\\`` (then every backslash starts a one-character escape);
        otherwise by the parity of the backslash run before each quote. (A text that spells
        a quote ``\\u0022`` has no raw quote: the guard fails and the slow path decides.)
        """
        if counts is None:
            counts = block_counts(data)
        if counts is not None:
            return counts.quotes == self.structural + counts.escaped_quotes
        arr = np.frombuffer(data, dtype=np.uint8)
        is_quote = arr == 34
        raw = int(np.count_nonzero(is_quote))
        # raw = structural + escaped + a repeated key's quotes, all counts >= 0: equal means
        # neither (most blocks of real text escape newlines, not quotes)
        if raw == self.structural:
            return True
        if b"\\" not in data:  # memchr: every quote beyond the structural ones repeats a key
            return False
        # pairs of bytes: a backslash then a quote, two backslashes. Counting the pairs of
        # two masks costs the same however many backslashes there are; finding each
        # backslash cost twice as much on text full of escaped newlines.
        is_backslash = arr == 92
        if not np.count_nonzero(is_backslash[:-1] & is_backslash[1:]):
            pairs = np.count_nonzero(is_backslash[:-1] & is_quote[1:])
            return raw == self.structural + int(pairs)
        # an escaped backslash (\\) may stand before a quote that ends a string: a quote is
        # escaped when an odd run of backslashes precedes it. Quotes after a backslash are
        # few; walk back over each one's run (a clean line starts with "{", so it stops).
        quotes = np.flatnonzero(is_quote)
        escaped = 0
        for q in quotes[arr[quotes - 1] == 92].tolist():
            k = q - 1
            while data[k] == 92:
                k -= 1
            escaped += (q - 1 - k) & 1
        return raw == self.structural + escaped

    def line_quotes(self, i: int) -> int:
        """The quote bytes line ``i`` must contain."""
        msgs = self.inputs[i]
        return (
            8 * len(msgs)
            + 24
            + self.prefs[i].count('"')
            + self.rejs[i].count('"')
            + sum(m.content.count('"') for m in msgs)
        )

    def commit(self, stats: PairStats, drop: set[int] | None, anchor: Anchor) -> None:
        """Add the lines to ``stats``, except the bad ones and the indexes in ``drop``.

        ``anchor`` is where the batch's lines are in the file.
        """
        n = len(self.recs)
        keys = list(map(hash, self.inputs))
        skip = set(self.bad).union(drop or ())
        if not skip:
            lines = range(self.first_line, self.first_line + n)
            stats.add_many(lines, keys, self.prefs, self.rejs, self.texts, anchor)
            return
        keep = [i for i in range(n) if i not in skip]
        stats.add_many(
            [self.first_line + i for i in keep],
            [keys[i] for i in keep],
            [self.prefs[i] for i in keep],
            [self.rejs[i] for i in keep],
            [self.texts[i] for i in keep] if self.texts is not None else None,
            anchor,
        )


def _output_texts(obj: Mapping[str, Any]) -> tuple[str, str]:
    """The texts of a preference line's two outputs, as the statistics compare them."""
    pref = text_of(obj["preferred_output"][0].get("content"))
    rej = text_of(obj["non_preferred_output"][0].get("content"))
    return pref, rej


def text_reader(path: str | Path) -> TextReader:
    """Reads the output texts of checked lines back from ``path`` (see :class:`PairStats`).

    Each region is read once however many of its lines are asked for. The lines were
    checked before, so they decode: msgspec reads only the two outputs (a region most of
    whose lines are wanted is decoded whole); Python's ``json`` reads what msgspec
    refuses (NaN …), as the slow path did. Both give the same texts.
    """

    def read(wanted: list[tuple[Anchor, list[int]]]) -> Iterator[tuple[list[str], list[str]]]:
        with open(path, "rb") as fh:
            for (_first, n_lines, offset, size), rows in wanted:
                fh.seek(offset)
                data = fh.read(size)
                recs: list[_Outputs] | None = None
                if 2 * len(rows) >= n_lines > 1:  # most of its lines: decode it whole
                    try:
                        recs = _OUTPUTS.decode_lines(data)
                    except (msgspec.DecodeError, ValueError):
                        recs = None
                    if recs is not None and len(recs) != n_lines:
                        recs = None
                if recs is not None:
                    picked = [recs[i] for i in rows]
                    yield (
                        [r.preferred_output[0].content for r in picked],
                        [r.non_preferred_output[0].content for r in picked],
                    )
                    continue
                prefs: list[str] = []
                rejs: list[str] = []
                find = data.find
                pos = row = 0
                for i in rows:  # ascending: walk the line ends (splitting all costs more)
                    while row < i:
                        pos = find(b"\n", pos) + 1
                        row += 1
                    end = find(b"\n", pos)
                    raw = data[pos : end if end >= 0 else len(data)]
                    try:
                        rec: _Outputs | None = _OUTPUTS.decode(raw)
                    except (msgspec.DecodeError, ValueError):
                        rec = None
                    if rec is not None:
                        pref = rec.preferred_output[0].content
                        rej = rec.non_preferred_output[0].content
                    else:  # a line only Python's json reads (NaN, an extra key …)
                        try:
                            pref, rej = _output_texts(json.loads(raw.decode("utf-8")))
                        except (ValueError, LookupError, TypeError, AttributeError):
                            # the file changed since it was checked: this line equals none
                            pref, rej = f"\0changed line at {offset}+{pos}", ""
                    prefs.append(pref)
                    rejs.append(rej)
                yield prefs, rejs

    return read


def _prompt_item(role: Any, content: Any) -> Any:
    """What a prompt message contributes to the prompt's hash, as the fast path computes it."""
    if isinstance(role, str) and isinstance(content, str):
        # the Literal type only constrains decoding; any role hashes the same way
        return _Msg(role, content)  # type: ignore[arg-type]
    return (repr(role), repr(content))


def _split(sub: bytes) -> list[bytes]:
    lines = sub.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    return lines


def _strict_ok(msgs: tuple[_Msg, ...], preferred: str, rejected: str) -> bool:
    start = 1 if msgs[0].role == "system" else 0
    for i in range(start, len(msgs)):
        if msgs[i].role != ("user" if (i - start) % 2 == 0 else "assistant"):
            return False
    return (
        msgs[-1].role == "user"
        and preferred != rejected
        and bool(preferred.strip())
        and bool(rejected.strip())
    )
