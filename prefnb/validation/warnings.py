"""Dataset-level warnings: identical outputs, duplicates, train/validation overlap, length bias.

:class:`PairStats` collects a few numbers per preference line (lengths, hashes) as lines are
checked; collectors from parallel chunks are merged with :meth:`PairStats.extend` and turned
into findings by :func:`dataset_findings`. :func:`length_bias` is reused by ``prefnb stats``.

Example:
    >>> lb = length_bias([120, 300, 250, 90], [100, 80, 260, 40])
    >>> lb.n, round(lb.share_preferred_longer, 2), round(lb.rank_biserial, 2)
    (4, 0.75, 0.8)
    >>> lb.strong
    False
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from prefnb.text import estimate_tokens, text_of
from prefnb.validation.report import Finding
from prefnb.validation.scan import text_stats

__all__ = [
    "LengthBias",
    "PairStats",
    "dataset_findings",
    "length_bias",
    "near_identical",
    "text_of",
]

#: Length bias is "strong" when at least this share of pairs prefers the longer response ...
STRONG_SHARE: Final[float] = 0.8
#: ... and the rank-biserial correlation of the paired length differences is at least this.
STRONG_EFFECT: Final[float] = 0.5
#: Too few pairs say nothing about bias.
MIN_PAIRS_FOR_BIAS: Final[int] = 20
#: How many example lines a summary warning lists.
_EXAMPLES: Final[int] = 10


@dataclass(frozen=True)
class LengthBias:
    """How strongly preferred responses are longer than rejected ones.

    ``share_preferred_longer`` counts ties as half. ``rank_biserial`` is the matched-pairs
    rank-biserial correlation of (preferred − rejected) lengths, in [-1, 1]; ``cohens_d`` is the
    mean paired difference over its standard deviation.
    """

    n: int
    share_preferred_longer: float
    mean_preferred: float
    mean_rejected: float
    rank_biserial: float
    cohens_d: float

    @property
    def strong(self) -> bool:
        """True when the bias is large enough to warn about (and ``n`` is big enough)."""
        return (
            self.n >= MIN_PAIRS_FOR_BIAS
            and self.share_preferred_longer >= STRONG_SHARE
            and self.rank_biserial >= STRONG_EFFECT
        )

    def describe(self) -> str:
        """One sentence for humans."""
        return (
            f"the preferred response is longer in {self.share_preferred_longer:.0%} of "
            f"{self.n} pair{'' if self.n == 1 else 's'} "
            f"(mean {self.mean_preferred:.0f} vs {self.mean_rejected:.0f} "
            f"characters; rank-biserial r = {self.rank_biserial:.2f}, Cohen's d = "
            f"{self.cohens_d:.2f})"
        )


def length_bias(
    preferred_lengths: Sequence[float], rejected_lengths: Sequence[float]
) -> LengthBias:
    """Length bias of paired preferred/rejected lengths (see :class:`LengthBias`)."""
    if len(preferred_lengths) != len(rejected_lengths):
        raise ValueError(
            f"need paired lengths, got {len(preferred_lengths)} preferred and "
            f"{len(rejected_lengths)} rejected"
        )
    n = len(preferred_lengths)
    if n == 0:
        return LengthBias(0, math.nan, math.nan, math.nan, math.nan, math.nan)
    # Whole-number lengths (a file's statistics: int64 arrays, viewed without a copy) stay
    # integers: on millions of pairs every n-sized temporary is tens of MB of peak memory.
    pref, rej = np.asarray(preferred_lengths), np.asarray(rejected_lengths)
    whole = pref.dtype.kind in "iub" and rej.dtype.kind in "iub"
    if not whole:
        pref, rej = pref.astype(np.float64), rej.astype(np.float64)
    mean_pref, mean_rej = float(pref.mean(dtype=np.float64)), float(rej.mean(dtype=np.float64))
    diffs = np.subtract(pref, rej, dtype=np.int64 if whole else np.float64)
    del pref, rej
    longer = float(np.count_nonzero(diffs > 0) + 0.5 * np.count_nonzero(diffs == 0))
    mean_d = float(diffs.mean(dtype=np.float64))
    sd = float(diffs.std(ddof=1, dtype=np.float64)) if n > 1 else 0.0
    cohens_d = mean_d / sd if sd > 0 else (0.0 if mean_d == 0 else math.copysign(math.inf, mean_d))
    # Wilcoxon signed ranks over non-zero differences, average ranks for ties.
    nz = diffs[diffs != 0]
    del diffs
    absolute = np.abs(nz)
    top = float(absolute.max()) if len(absolute) else 0.0
    if top <= 4 * len(absolute) + 2**20 and (whole or bool(np.all(absolute == np.floor(absolute)))):
        # whole-number lengths with a bounded range: count each value instead of sorting
        # (O(n), and the sort was the slowest step of validating a big file)
        index = absolute if whole else absolute.astype(np.int64)
        del absolute
        counts = np.bincount(index)
        avg_rank = np.cumsum(counts) - (counts - 1) / 2.0
        ranks = avg_rank[index]
        del index
    else:
        _values, inverse, counts = np.unique(absolute, return_inverse=True, return_counts=True)
        del absolute
        avg_rank = np.cumsum(counts) - (counts - 1) / 2.0  # ranks start..end, averaged
        ranks = avg_rank[inverse]
        del inverse
    pos = float(np.sum(ranks, where=nz > 0))
    neg = float(np.sum(ranks, where=nz < 0))
    total = pos + neg
    rb = (pos - neg) / total if total else 0.0
    return LengthBias(
        n=n,
        share_preferred_longer=longer / n,
        mean_preferred=mean_pref,
        mean_rejected=mean_rej,
        rank_biserial=rb,
        cohens_d=cohens_d,
    )


def _normalize(text: str) -> str:
    return " ".join(text.split()).casefold().rstrip(".!?;:")


def near_identical(a: str, b: str) -> bool:
    """Equal up to case, whitespace and trailing punctuation (but not byte-identical).

    >>> near_identical("Hello  world.", "hello world"), near_identical("a", "a")
    (True, False)
    """
    if a == b:
        return False
    la, lb = len(a), len(b)
    if abs(la - lb) > max(8, (la + lb) // 20):  # cheap gates before normalizing all
        return False
    # an ASCII letter or digit first stays first when normalized (and only changes case)
    ca, cb = a[:1], b[:1]
    if (
        ca != cb
        and ca.isascii()
        and cb.isascii()
        and ca.isalnum()
        and cb.isalnum()
        and ca.lower() != cb.lower()
    ):
        return False
    # up to three first words from a short head (splitting the whole text copies it all):
    # every part but the last is a whole word of the text and not its last, punctuated,
    # word. A head with no whole word (a first word over 64 characters): split the text.
    wa, wb = a[:64].split(None, 3), b[:64].split(None, 3)
    if len(wa) < 2:
        wa = a.split(None, 1)
    if len(wb) < 2:
        wb = b.split(None, 1)
    for x, y in zip(wa[: min(len(wa), len(wb)) - 1], wb, strict=False):
        if x != y and x.casefold() != y.casefold():
            return False
    return _normalize(a) == _normalize(b)


#: Where the lines of a file region are: (first line, number of lines, byte offset, size).
Anchor = tuple[int, int, int, int]
#: Reads the outputs' texts of lines back: given regions in file order, each with the rows
#: wanted from it (0 = its first line), yields (preferred texts, rejected texts) per region.
TextReader = Callable[[list[tuple[Anchor, list[int]]]], Iterator[tuple[list[str], list[str]]]]


@dataclass
class PairStats:
    """Per-line numbers needed for dataset-level warnings, mergeable across chunks.

    Hashes use Python's ``hash``: consistent inside one process and its forked workers,
    which is all the merge needs.

    With ``lazy_pairs`` (files: the lines can be read again) no hash of the two output
    texts is taken per line, which cost an eighth of validating a file. The prompt's hash
    and the two lengths are a cheap key; only lines whose cheap key repeats are read back
    (from ``anchors``, one per checked region) and hashed in full by
    :meth:`resolve_duplicates`, so the duplicates found are the same.
    """

    max_tokens: int | None = None
    lora_long_context: bool = False
    tokenizer: Callable[[str], int] | None = None
    lines: array[int] = field(default_factory=lambda: array("q"))
    preferred_len: array[int] = field(default_factory=lambda: array("q"))
    rejected_len: array[int] = field(default_factory=lambda: array("q"))
    pair_hash: array[int] = field(default_factory=lambda: array("q"))
    prompt_hash: array[int] = field(default_factory=lambda: array("q"))
    identical: list[int] = field(default_factory=list)
    near: list[int] = field(default_factory=list)
    #: (line, "preferred_output" | "non_preferred_output") of empty or whitespace-only outputs
    empty: list[tuple[int, str]] = field(default_factory=list)
    over_tokens: list[tuple[int, str, int]] = field(default_factory=list)
    n_over_tokens: int = 0
    lazy_pairs: bool = False
    #: False: keep no prompt or pair hashes, so no duplicate-pair or train/validation overlap
    #: finding (for a caller that already dropped repeated pairs and has one file: 16 bytes
    #: a line less)
    keys: bool = True
    #: lazy_pairs: the regions the lines came from, in line order: four numbers per region
    #: (see Anchor), flat (a file whose every line took the slow path has one per line)
    anchors: array[int] = field(default_factory=lambda: array("q"))
    #: lazy_pairs: (line, earlier line) of each duplicate pair, once resolved
    duplicates: list[tuple[int, int]] | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["tokenizer"] = None  # only the main process tokenizes (see engine)
        return state

    def tokens(self, text: str) -> int:
        """Token estimate: the tokenizer's count, else characters / 4."""
        if self.tokenizer is not None:
            return int(self.tokenizer(text))
        return estimate_tokens(text)

    @property
    def budget(self) -> int | None:
        """Tokens available to prompt + one response."""
        if self.max_tokens is None:
            return None
        return self.max_tokens // 2 if self.lora_long_context else self.max_tokens

    def add(
        self,
        line: int,
        prompt_key: int,
        preferred: str,
        rejected: str,
        prompt_texts: Iterable[str] = (),
        anchor: Anchor | None = None,
    ) -> None:
        """Record one preference line: a hash of its prompt and its two output texts.

        ``prompt_texts`` (the prompt messages' texts) is only needed with ``max_tokens``;
        ``anchor`` (where the line can be read again) only with ``lazy_pairs``.
        """
        self.lines.append(line)
        self.preferred_len.append(len(preferred))
        self.rejected_len.append(len(rejected))
        if self.keys:
            self.prompt_hash.append(prompt_key)
        if self.lazy_pairs:
            self._anchor(anchor)
        elif self.keys:
            self.pair_hash.append(hash((prompt_key, preferred, rejected)))
        for key, text in (("preferred_output", preferred), ("non_preferred_output", rejected)):
            if not text or text.isspace():
                self.empty.append((line, key))
        if preferred == rejected:
            self.identical.append(line)
        elif near_identical(preferred, rejected):
            self.near.append(line)
        budget = self.budget
        if budget is not None:
            prompt_tokens = sum(self.tokens(t) for t in prompt_texts)
            for key, text in (("preferred_output", preferred), ("non_preferred_output", rejected)):
                # chars/4 over-estimates rarely; skip exact counting when clearly short
                if self.tokenizer is None and estimate_tokens(text) + prompt_tokens <= budget:
                    continue
                total = prompt_tokens + self.tokens(text)
                if total > budget:
                    self.n_over_tokens += 1
                    if len(self.over_tokens) < _EXAMPLES:
                        self.over_tokens.append((line, key, total))

    def add_many(
        self,
        lines: Sequence[int],
        prompt_keys: list[int],
        preferred: list[str],
        rejected: list[str],
        prompt_texts: list[list[str]] | None = None,
        anchor: Anchor | None = None,
    ) -> None:
        """:meth:`add` for a batch of lines, with the per-line work done in C where possible.

        ``anchor`` is the region holding all of ``lines`` (``lazy_pairs`` only).
        """
        if self.budget is not None or self.tokenizer is not None:
            texts = prompt_texts or [[] for _ in lines]
            for row in zip(lines, prompt_keys, preferred, rejected, texts, strict=True):
                self.add(*row, anchor=anchor)
            return
        n = len(lines)
        if not n:
            return
        measured = text_stats(preferred, rejected)  # one C loop, when built
        if measured is not None:
            a = np.frombuffer(measured.lengths_a, dtype=np.int64)
            b = np.frombuffer(measured.lengths_b, dtype=np.int64)
        else:  # numpy converts the ints in C; array("q").extend parses each as an argument
            a = np.fromiter(map(len, preferred), np.int64, n)
            b = np.fromiter(map(len, rejected), np.int64, n)
        if isinstance(lines, range):
            self.lines.frombytes(np.arange(lines.start, lines.stop, dtype=np.int64).tobytes())
        else:
            self.lines.frombytes(np.fromiter(lines, np.int64, n).tobytes())
        self.preferred_len.frombytes(measured.lengths_a if measured else a.tobytes())
        self.rejected_len.frombytes(measured.lengths_b if measured else b.tobytes())
        if self.keys:
            self.prompt_hash.frombytes(np.fromiter(prompt_keys, np.int64, n).tobytes())
        if self.lazy_pairs:
            self._anchor(anchor)
        elif self.keys:
            pairs = map(hash, zip(prompt_keys, preferred, rejected, strict=True))
            self.pair_hash.frombytes(np.fromiter(pairs, np.int64, n).tobytes())
        if measured is not None:
            empty = [measured.empty_a, measured.empty_b]
            close: list[int] = measured.close
        else:
            # str.isspace is False for "": the empty ones are the falsy ones (all() in C)
            empty = [
                [i for i, t in enumerate(outs) if not t or t.isspace()]
                if not all(outs) or any(map(str.isspace, outs))
                else []
                for outs in (preferred, rejected)
            ]
            # identical and near-identical outputs have (almost) equal lengths
            close = np.nonzero(np.abs(a - b) <= np.maximum(8, (a + b) // 20))[0].tolist()
        for key, rows in zip(("preferred_output", "non_preferred_output"), empty, strict=True):
            self.empty.extend((lines[i], key) for i in rows)
        # identical and near-identical outputs have (almost) equal lengths: compare only those
        for i in close:
            x, y = preferred[i], rejected[i]
            if x == y:
                self.identical.append(lines[i])
            elif near_identical(x, y):
                self.near.append(lines[i])

    def _anchor(self, anchor: Anchor | None) -> None:
        if anchor is None:
            raise ValueError("lazy_pairs needs the anchor of every line added")
        if tuple(self.anchors[-4:]) != anchor:
            self.anchors.extend(anchor)

    def shift(self, offset: int) -> None:
        """Add ``offset`` to every line number (a worker numbered its range from 1)."""
        if offset:
            self.lines = array("q", (np.frombuffer(self.lines, dtype=np.int64) + offset).tobytes())
            anchors = np.frombuffer(self.anchors, dtype=np.int64).copy()
            anchors[0::4] += offset
            self.anchors = array("q", anchors.tobytes())
            self.identical = [n + offset for n in self.identical]
            self.near = [n + offset for n in self.near]
            self.empty = [(n + offset, k) for n, k in self.empty]
            self.over_tokens = [(n + offset, k, t) for n, k, t in self.over_tokens]

    def extend(self, other: PairStats) -> None:
        """Append another chunk's numbers (chunks arrive in line order)."""
        self.lines.extend(other.lines)
        self.preferred_len.extend(other.preferred_len)
        self.rejected_len.extend(other.rejected_len)
        self.pair_hash.extend(other.pair_hash)
        self.prompt_hash.extend(other.prompt_hash)
        self.anchors.extend(other.anchors)
        self.identical.extend(other.identical)
        self.near.extend(other.near)
        self.empty.extend(other.empty)
        self.n_over_tokens += other.n_over_tokens
        self.over_tokens.extend(other.over_tokens[: _EXAMPLES - len(self.over_tokens)])

    def cheap_keys(self) -> np.ndarray:
        """Per line, a hash of (prompt hash, preferred length, rejected length).

        Equal pairs have equal cheap keys; lines whose key is unique need no more look.
        """
        with np.errstate(over="ignore"):
            key = np.frombuffer(self.prompt_hash, dtype=np.int64).astype(np.uint64)
            key ^= np.frombuffer(self.preferred_len, dtype=np.int64).astype(np.uint64) * np.uint64(
                0x9E3779B97F4A7C15
            )
            key ^= np.frombuffer(self.rejected_len, dtype=np.int64).astype(np.uint64) * np.uint64(
                0xC2B2AE3D27D4EB4F
            )
        return key

    def resolve_duplicates(self, read: TextReader) -> None:
        """Find the duplicate pairs of a ``lazy_pairs`` collector (sets ``duplicates``).

        Lines whose cheap key repeats are read back with ``read`` and hashed as the eager
        path hashes every line, so the result is what :func:`dataset_findings` finds from
        full hashes: each repeat with the first line (in collection order) it equals.
        """
        self.duplicates = []
        if len(self.lines) < 2:
            return
        codes, _uniques = pd.factorize(self.cheap_keys())
        candidates = np.flatnonzero(np.bincount(codes)[codes] > 1)
        if not len(candidates):
            return
        lines = np.frombuffer(self.lines, dtype=np.int64)[candidates]
        regions = np.frombuffer(self.anchors, dtype=np.int64).reshape(-1, 4)
        k = np.searchsorted(regions[:, 0], lines, side="right") - 1
        # a region's single-line anchors (lines the slow path checked) may follow it: the
        # few lines that fall past the region found walk back to the one holding them
        for i in np.flatnonzero(lines >= regions[k, 0] + regions[k, 1]).tolist():
            j, line = int(k[i]), int(lines[i])
            while not regions[j, 0] <= line < regions[j, 0] + regions[j, 1]:
                j -= 1
            k[i] = j
        # the candidates grouped by region, the regions in file order
        order = np.argsort(k, kind="stable")
        used, bounds = np.unique(k[order], return_index=True)
        pieces = np.split(order, bounds[1:])
        groups: list[np.ndarray[Any, np.dtype[np.int64]]] = []
        wanted: list[tuple[Anchor, list[int]]] = []
        for g in np.argsort(regions[used, 2], kind="stable").tolist():
            a, n, o, z = (int(x) for x in regions[used[g]])
            groups.append(pieces[g])
            wanted.append(((a, n, o, z), (lines[pieces[g]] - a).tolist()))
        prompts = np.frombuffer(self.prompt_hash, dtype=np.int64)[candidates]
        full = np.zeros(len(candidates), dtype=np.int64)
        # hashed a region at a time: a file of many repeats never holds their texts at once
        for piece, (prefs, rejs) in zip(groups, read(wanted), strict=True):
            keys = prompts[piece].tolist()
            full[piece] = np.fromiter(map(hash, zip(keys, prefs, rejs, strict=True)), np.int64)
        # the first candidate of each full hash is the earliest line with that pair (lines
        # whose cheap key is unique cannot equal any other)
        fcodes, _u = pd.factorize(full)
        first = np.empty(int(fcodes.max()) + 1, dtype=np.int64)
        first[fcodes[::-1]] = np.arange(len(fcodes) - 1, -1, -1)
        repeat = np.flatnonzero(first[fcodes] != np.arange(len(fcodes)))
        self.duplicates = [(int(lines[i]), int(lines[first[fcodes[i]]])) for i in repeat]


def _duplicate_pairs(stats: PairStats) -> list[tuple[int, int]]:
    """(line, earlier line) of every pair equal to an earlier one, from the full hashes."""
    if stats.lazy_pairs:
        if stats.duplicates is None and len(stats.lines) > 1:
            raise ValueError("resolve_duplicates() must run before the findings are made")
        return stats.duplicates or []
    if len(stats.pair_hash) < 2:
        return []
    hashes = np.frombuffer(stats.pair_hash, dtype=np.int64)
    # factorize numbers values in order of first appearance, with a hash table (O(n));
    # np.unique's sort was the slowest step of validating a big file
    codes, _uniques = pd.factorize(hashes)
    first = np.empty(int(codes.max()) + 1, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)  # the earliest index wins
    lines = np.frombuffer(stats.lines, dtype=np.int64)
    repeat = np.nonzero(first[codes] != np.arange(len(codes)))[0]
    return [(int(lines[i]), int(lines[first[codes[i]]])) for i in repeat]


def _lines_text(lines: Sequence[int], total: int | None = None) -> str:
    shown = ", ".join(str(n) for n in lines[:_EXAMPLES])
    total = len(lines) if total is None else total
    return shown + (f" and {total - _EXAMPLES} more" if total > _EXAMPLES else "")


def dataset_findings(
    stats: PairStats,
    *,
    file: str | None = None,
    other: PairStats | None = None,
    other_file: str | None = None,
    pair_ids: Callable[[int], str | None] | None = None,
    bias: LengthBias | None = None,
) -> list[Finding]:
    """Turn collected numbers into warnings (``other`` = the validation file's numbers).

    ``bias`` is the length bias of ``stats`` when the caller already computed it.
    """
    out: list[Finding] = []
    pid = pair_ids or (lambda _line: None)

    def warn(code: str, message: str, line: int | None, path: str = "") -> None:
        out.append(Finding("warning", code, message, line, pid(line) if line else None, path, file))

    if stats.identical:
        n = len(stats.identical)
        warn(
            "warning.identical_outputs",
            f"{n} pair(s) have byte-identical preferred and non-preferred outputs (lines "
            f"{_lines_text(stats.identical)}); they teach the model nothing and Together's "
            "check does not catch them.",
            stats.identical[0],
            "non_preferred_output[0].content",
        )
    if stats.near:
        warn(
            "warning.near_identical_outputs",
            f"{len(stats.near)} pair(s) have outputs that differ only in case, whitespace or "
            f"final punctuation (lines {_lines_text(stats.near)}).",
            stats.near[0],
            "non_preferred_output[0].content",
        )
    if stats.empty:
        lines_empty = sorted({n for n, _k in stats.empty})
        first_line, first_key = stats.empty[0]
        warn(
            "warning.empty_output",
            f"{len(stats.empty)} output{'s are' if len(stats.empty) != 1 else ' is'} empty or "
            f"whitespace only (line{'s' if len(lines_empty) != 1 else ''} "
            f"{_lines_text(lines_empty)}): Together's check accepts them, but a pair with an "
            "empty response teaches the model to answer with nothing (or against nothing). "
            "The strict profile refuses them.",
            first_line,
            f"{first_key}[0].content",
        )
    dups = _duplicate_pairs(stats)
    if dups:
        shown = ", ".join(f"{a} (= line {b})" for a, b in dups[:_EXAMPLES])
        more = f" and {len(dups) - _EXAMPLES} more" if len(dups) > _EXAMPLES else ""
        warn(
            "warning.duplicate_pairs",
            f"{len(dups)} duplicate pair(s): same prompt and same two outputs as an earlier "
            f"line: {shown}{more}.",
            dups[0][0],
        )
    if other is not None:
        other_prompts = set(other.prompt_hash)
        both = [stats.lines[i] for i, h in enumerate(stats.prompt_hash) if h in other_prompts]
        if both:
            warn(
                "warning.prompt_in_train_and_validation",
                f"{len(both)} line(s) have a prompt that is also in the validation file"
                f"{f' {other_file}' if other_file else ''} (lines {_lines_text(both)}): "
                "evaluation on seen prompts overstates how well the model generalizes.",
                both[0],
                "input.messages",
            )
    lb = bias if bias is not None else length_bias(stats.preferred_len, stats.rejected_len)
    if lb.strong:
        warn(
            "warning.length_bias",
            f"Strong length bias: {lb.describe()}. DPO may learn 'longer is better'; consider "
            "length-matched pairs or length-normalized DPO.",
            None,
        )
    if stats.n_over_tokens:
        budget = stats.budget
        how = "tokenizer" if stats.tokenizer is not None else "characters / 4"
        lora = (
            f" (LoRA long-context: each response gets half of max_tokens {stats.max_tokens})"
            if stats.lora_long_context
            else ""
        )
        shown = ", ".join(f"line {n} {key} ≈{t}" for n, key, t in stats.over_tokens)
        worst = stats.over_tokens[0]
        warn(
            "warning.over_max_tokens",
            f"{stats.n_over_tokens} response(s) with their prompt are estimated ({how}) over "
            f"{budget} tokens{lora} and will be truncated in training: {shown}"
            f"{' …' if stats.n_over_tokens > len(stats.over_tokens) else ''}.",
            worst[0],
            f"{worst[1]}[0].content",
        )
    return out
