"""Summary statistics of a pair table: counts, labels, lengths, length bias, duplicates.

:func:`stats` reads a DataFrame or any file :func:`prefnb.read_pairs` reads and returns a
:class:`PairStats`, which prints as text (``prefnb stats FILE``), converts to a JSON-ready
dict (``prefnb stats FILE --json``) and renders as HTML in a notebook.

Token counts are estimates (characters / 4, as Together's docs suggest for English text).

Example:
    >>> import prefnb
    >>> df = prefnb.pairs_frame([
    ...     {"prompt": "2+2?", "response_a": "4", "response_b": "It is 5.", "label": "a"},
    ...     {"prompt": "2+2?", "response_a": "four", "response_b": "four", "label": None},
    ... ])
    >>> s = stats(df)
    >>> s.n_pairs, s.labels["a"], s.labels["unlabeled"], s.identical_responses
    (2, 1, 1, 1)
    >>> s.preferred_chars.mean, s.rejected_chars.mean
    (1.0, 8.0)
"""

from __future__ import annotations

import hashlib
import html
import math
import os
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import pandas as pd

from prefnb import _json
from prefnb.pairs import LABELS, is_missing, normalize_prompt
from prefnb.records import preferred_and_rejected
from prefnb.text import CHARS_PER_TOKEN, records, text_length
from prefnb.validation import length_bias

__all__ = ["LengthSummary", "PairStats", "stats"]

#: Characters per token for estimates, Together's rule of thumb for English text.
_LABEL_KEYS: Final[tuple[str, ...]] = (*LABELS, "unlabeled")


@dataclass(frozen=True)
class LengthSummary:
    """Distribution of text lengths in characters; ``tokens_*`` are chars / 4 estimates.

    >>> LengthSummary.of([1, 2, 3, 10]).median
    2.5
    """

    count: int = 0
    min: int = 0
    median: float = 0.0
    mean: float = 0.0
    p95: float = 0.0
    max: int = 0

    @classmethod
    def of(cls, lengths: Sequence[int]) -> LengthSummary:
        """Summarize a list of lengths (all zeros when it is empty)."""
        if not lengths:
            return cls()
        ordered = sorted(lengths)
        p95_index = max(0, math.ceil(0.95 * len(ordered)) - 1)
        return cls(
            count=len(ordered),
            min=ordered[0],
            median=float(statistics.median(ordered)),
            mean=round(statistics.fmean(ordered), 1),
            p95=float(ordered[p95_index]),
            max=ordered[-1],
        )

    @property
    def tokens_mean(self) -> float:
        """Estimated mean length in tokens."""
        return round(self.mean / CHARS_PER_TOKEN, 1)

    @property
    def tokens_max(self) -> int:
        """Estimated maximum length in tokens."""
        return math.ceil(self.max / CHARS_PER_TOKEN)

    def to_dict(self) -> dict[str, float | int]:
        """JSON-ready dict including the token estimates."""
        out: dict[str, float | int] = dict(asdict(self))
        out["tokens_mean"] = self.tokens_mean
        out["tokens_max"] = self.tokens_max
        return out

    def text(self) -> str:
        """``median 12 · mean 14.5 · p95 30 · max 31 chars (≈ 8 tokens max)``."""
        if not self.count:
            return "—"
        return (
            f"min {self.min} · median {self.median:g} · mean {self.mean:g} · p95 {self.p95:g} "
            f"· max {self.max} chars (≈ {self.tokens_mean:g} tokens mean, "
            f"{self.tokens_max} max)"
        )


@dataclass(frozen=True)
class PairStats:
    """What :func:`stats` found. Every field is plain data; see :meth:`to_dict`."""

    n_pairs: int
    n_prompts: int
    labels: dict[str, int]
    annotators: dict[str, int] | None
    prompt_chars: LengthSummary
    response_chars: LengthSummary
    preferred_chars: LengthSummary
    rejected_chars: LengthSummary
    multi_turn_prompts: int
    system_prompts: int
    duplicate_pairs: int
    identical_responses: int
    length_bias: dict[str, Any] | None
    source: str | None = None
    duplicate_pair_ids: list[str] = field(default_factory=list, repr=False)
    #: rows of the source the reader could not read (``on_bad_rows="skip"``/``"warn"``)
    skipped_rows: int = 0

    #: rows labeled a/b that export would write under the ``together`` profile (the same row
    #: check as :func:`prefnb.export_dpo`), and why the other labeled rows would not be
    n_exportable: int = 0
    not_exportable: dict[str, int] = field(default_factory=dict)

    @property
    def n_labeled(self) -> int:
        """Rows labeled ``a`` or ``b``: the ones that could become DPO lines."""
        return self.labels["a"] + self.labels["b"]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the ``prefnb stats --json`` document)."""
        return {
            "source": self.source,
            "n_pairs": self.n_pairs,
            "n_prompts": self.n_prompts,
            "n_labeled": self.n_labeled,
            "n_exportable": self.n_exportable,
            "not_exportable": dict(self.not_exportable),
            "labels": dict(self.labels),
            "annotators": None if self.annotators is None else dict(self.annotators),
            "lengths": {
                "prompt": self.prompt_chars.to_dict(),
                "response": self.response_chars.to_dict(),
                "preferred": self.preferred_chars.to_dict(),
                "rejected": self.rejected_chars.to_dict(),
            },
            "multi_turn_prompts": self.multi_turn_prompts,
            "system_prompts": self.system_prompts,
            "skipped_rows": self.skipped_rows,
            "duplicate_pairs": self.duplicate_pairs,
            "duplicate_pair_ids": list(self.duplicate_pair_ids),
            "identical_responses": self.identical_responses,
            "length_bias": self.length_bias,
        }

    def _refused_text(self) -> str:
        refused = sum(self.not_exportable.values())
        if not refused:
            return ""
        why = ", ".join(f"{n} {reason}" for reason, n in self.not_exportable.items())
        return f"; {refused} labeled a/b would be refused: {why}"

    def _bias_text(self) -> str:
        bias = self.length_bias
        if not bias:
            return "n/a (no pair labeled a/b)"
        text = str(bias["description"])
        if bias["strong"]:
            text += " — STRONG: DPO may learn that longer is better"
        return text

    def text(self) -> str:
        """The multi-line text report printed by ``prefnb stats``."""
        labels = ", ".join(f"{k} {v}" for k, v in self.labels.items())
        lines = [
            f"pairs        {self.n_pairs} ({_plural(self.n_prompts, 'distinct prompt')}, "
            f"{self.n_exportable} exportable as DPO{self._refused_text()})",
            f"labels       {labels}",
        ]
        if self.annotators is not None:
            shown = ", ".join(f"{k} {v}" for k, v in list(self.annotators.items())[:10])
            more = f" … +{len(self.annotators) - 10}" if len(self.annotators) > 10 else ""
            lines.append(f"annotators   {shown or '—'}{more}")
        lines += [
            f"prompts      {self.prompt_chars.text()}",
            f"             {self.multi_turn_prompts} multi-turn, "
            f"{self.system_prompts} with a system message",
            f"responses    {self.response_chars.text()}",
            f"preferred    {self.preferred_chars.text()}",
            f"rejected     {self.rejected_chars.text()}",
            f"length bias  {self._bias_text()}",
            f"duplicates   {_plural(self.duplicate_pairs, 'duplicate pair')}, "
            f"{_plural(self.identical_responses, 'pair')} with identical responses",
            f"skipped      {_plural(self.skipped_rows, 'bad row')} of the source",
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        head = f"PairStats of {self.source}" if self.source else "PairStats"
        return f"{head}\n{self.text()}"

    def _repr_html_(self) -> str:
        esc = html.escape
        total = max(self.n_pairs, 1)
        label_rows = "".join(
            f"<tr><td>{esc(k)}</td><td style='text-align:right'>{v}</td>"
            f"<td><div style='background:#4c78a8;height:0.8em;width:{100 * v / total:.0f}px'>"
            "</div></td></tr>"
            for k, v in self.labels.items()
        )

        def length_row(name: str, s: LengthSummary) -> str:
            if not s.count:
                return f"<tr><td>{name}</td><td colspan='5'>—</td></tr>"
            return (
                f"<tr><td>{name}</td><td>{s.min}</td><td>{s.median:g}</td><td>{s.mean:g}</td>"
                f"<td>{s.p95:g}</td><td>{s.max}</td><td>≈{s.tokens_mean:g}</td></tr>"
            )

        lengths = "".join(
            length_row(n, s)
            for n, s in (
                ("prompt", self.prompt_chars),
                ("response", self.response_chars),
                ("preferred", self.preferred_chars),
                ("rejected", self.rejected_chars),
            )
        )
        annotators = ""
        if self.annotators:
            annotators = (
                "<div>annotators: "
                + esc(", ".join(f"{k} ({v})" for k, v in self.annotators.items()))
                + "</div>"
            )
        src = f" <code>{esc(self.source)}</code>" if self.source else ""
        return (
            f"<div class='prefnb-stats'><b>{_plural(self.n_pairs, 'pair')}</b>{src} — "
            f"{_plural(self.n_prompts, 'distinct prompt')}, {self.n_exportable} exportable"
            f"<table><tbody>{label_rows}</tbody></table>{annotators}"
            "<table><thead><tr><th>chars</th><th>min</th><th>median</th><th>mean</th>"
            f"<th>p95</th><th>max</th><th>tokens (mean)</th></tr></thead><tbody>{lengths}"
            "</tbody></table>"
            f"<div>length bias: {esc(self._bias_text())}</div>"
            f"<div>{_plural(self.duplicate_pairs, 'duplicate pair')}, "
            f"{_plural(self.identical_responses, 'pair')} "
            "with identical responses</div></div>"
        )


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _bias_dict(pref: Sequence[int], rej: Sequence[int]) -> dict[str, Any] | None:
    if not pref:
        return None
    bias = length_bias(pref, rej)
    out: dict[str, Any] = {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v)
        for k, v in asdict(bias).items()
    }
    out["strong"] = bias.strong
    out["description"] = bias.describe()
    return out


def _exportable(df: pd.DataFrame) -> tuple[int, dict[str, int]]:
    """What export_dpo would write (its own row check), and why labeled rows would not be."""
    from prefnb.export import check_rows

    if not len(df) or "label" not in df.columns:
        return 0, {}
    check = check_rows(df, kind="dpo", profile="together")
    check.drop_bad()
    refused = {k: v for k in ("empty_output", "invalid") if (v := check.left_out[k])}
    return len(check.candidates), refused


def stats(
    source: pd.DataFrame | str | os.PathLike[str],
    format: str = "auto",
    *,
    name: str | None = None,
    **read_options: Any,
) -> PairStats:
    """Compute :class:`PairStats` for a pair table or a file :func:`prefnb.read_pairs` reads.

    ``format`` and ``read_options`` (``prompt_key=``, ``on_bad_rows=`` …) are passed to
    :func:`prefnb.read_pairs` for files; ``name`` labels a frame's report. Exact repeats
    that the reader drops are counted in ``duplicate_pairs`` too, and rows the reader
    skipped in ``skipped_rows``.

    >>> import prefnb
    >>> stats(prefnb.pairs_frame([{"prompt": "q", "response_a": "x", "response_b": "y"}])).n_pairs
    1
    """
    if isinstance(source, pd.DataFrame):
        df = source
    else:
        from prefnb.formats import read_pairs

        name = str(Path(source))
        df = read_pairs(source, format=format, **read_options)
    # read_pairs keeps one copy of a repeated pair; count the rest as duplicates here.
    dropped_on_read = int(df.attrs.get("prefnb_duplicates_dropped", 0))
    skipped = len(df.attrs.get("prefnb_bad_rows", ()))
    for column in ("prompt", "response_a", "response_b"):
        if column not in df.columns:
            known = ", ".join(map(str, df.columns)) or "none"
            raise ValueError(f"missing column {column!r}; columns present: {known}")

    labels = dict.fromkeys(_LABEL_KEYS, 0)
    annotators: Counter[str] | None = Counter() if "annotator" in df.columns else None
    prompt_lengths: list[int] = []
    response_lengths: list[int] = []
    pref_lengths: list[int] = []
    rej_lengths: list[int] = []
    prompt_keys: set[bytes] = set()
    seen_pairs: set[bytes] = set()
    duplicate_ids: list[str] = []
    multi_turn = system = identical = 0

    for position, row in enumerate(records(df)):
        label = row.get("label")
        labels["unlabeled" if is_missing(label) else str(label)] = (
            labels.get("unlabeled" if is_missing(label) else str(label), 0) + 1
        )
        if annotators is not None and isinstance(row.get("annotator"), str):
            annotators[row["annotator"]] += 1
        prompt = normalize_prompt(row["prompt"])
        prompt_lengths.append(sum(text_length(m["content"]) for m in prompt))
        if sum(1 for m in prompt if m["role"] == "user") > 1:
            multi_turn += 1
        if any(m["role"] == "system" for m in prompt):
            system += 1
        a, b = _text(row["response_a"]), _text(row["response_b"])
        response_lengths += [len(a), len(b)]
        if a.strip() == b.strip():
            identical += 1
        key = _json.dumps([{"role": m["role"], "content": m["content"]} for m in prompt])
        prompt_keys.add(hashlib.sha256(key).digest())
        # A pair is the same pair whichever response came first.
        pair_key = hashlib.sha256(key + b"\0" + _json.dumps(sorted((a, b)))).digest()
        if pair_key in seen_pairs:
            pair = row.get("pair_id")
            duplicate_ids.append(pair if isinstance(pair, str) else f"row {position}")
        seen_pairs.add(pair_key)
        both = preferred_and_rejected(row)
        if both is not None:
            pref_lengths.append(len(_text(both[0])))
            rej_lengths.append(len(_text(both[1])))

    n_exportable, not_exportable = _exportable(df)
    return PairStats(
        n_pairs=len(df),
        n_prompts=len(prompt_keys),
        labels=labels,
        annotators=None if annotators is None else dict(annotators.most_common()),
        prompt_chars=LengthSummary.of(prompt_lengths),
        response_chars=LengthSummary.of(response_lengths),
        preferred_chars=LengthSummary.of(pref_lengths),
        rejected_chars=LengthSummary.of(rej_lengths),
        multi_turn_prompts=multi_turn,
        system_prompts=system,
        duplicate_pairs=len(duplicate_ids) + dropped_on_read,
        identical_responses=identical,
        length_bias=_bias_dict(pref_lengths, rej_lengths),
        source=name,
        duplicate_pair_ids=duplicate_ids,
        skipped_rows=skipped,
        n_exportable=n_exportable,
        not_exportable=not_exportable,
    )
